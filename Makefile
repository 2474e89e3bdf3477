# One command to open the course, one to prove it works. Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
PIP := $(BIN)/python -m pip --disable-pip-version-check
# pip compiles one file at a time; compileall uses every core. lambdalab itself is
# compiled too: every test worker, CLI and server subprocess imports it. Packages'
# own test folders are never imported (sympy's alone are a third of the work). A
# file that does not compile is skipped, as pip skips it.
COMPILE := $(BIN)/python -m compileall -q -j 0 -x '/tests/' $(VENV)/lib lambdalab \
	>/dev/null || true

LINT_PATHS := $(wildcard lambdalab tests benchmarks examples lessons tools)

# The engine's request path compiled with mypyc (tools/compile_engine.py), into the venv.
# lambdalab.engine uses it only while it matches the sources; without a C compiler the
# engine stays plain Python: the same results, more slowly.
ENGINE_SOURCES := $(foreach m,loop metrics traffic service,lambdalab/engine/$(m).py)
STAMP_ENGINE := $(VENV)/lambdalab-compiled/lambdalab/engine/sources.json
# What the compiler needs (pyproject's [compile] extra), installed first: the engine
# then compiles on one core while pip installs everything else on the other.
COMPILER := "mypy>=1.10" "setuptools>=61"
STAMP_COMPILER := $(VENV)/.installed-compiler

.PHONY: run test lint check-lessons pytest clean

# The venv gets pip from the index cache like every other package; the fallback is
# ensurepip's bundled copy, for a Python whose own pip cannot install elsewhere.
$(BIN)/python:
	$(PYTHON) -m venv --without-pip $(VENV)
	$(PYTHON) -m pip --disable-pip-version-check --python $(BIN)/python \
		install --quiet pip 2>/dev/null \
		|| { $(BIN)/python -m ensurepip --default-pip \
		&& $(PIP) install --quiet --upgrade pip; }

$(STAMP_COMPILER): $(BIN)/python
	$(PIP) install --quiet --no-compile $(COMPILER)
	touch $@

$(STAMP_RUN): $(STAMP_COMPILER) pyproject.toml
	$(PIP) install --quiet --no-compile -e .
	$(COMPILE)
	touch $@

$(STAMP_TEST): $(STAMP_COMPILER) pyproject.toml
	$(PIP) install --quiet --no-compile -e ".[test]"
	$(COMPILE)
	touch $@ $(STAMP_RUN)

$(STAMP_ENGINE): $(STAMP_COMPILER) $(ENGINE_SOURCES) tools/compile_engine.py
	$(BIN)/python tools/compile_engine.py || true

run:
	@$(MAKE) --no-print-directory -j 2 $(STAMP_RUN) $(STAMP_ENGINE)
	$(BIN)/lambdalab

lint: $(STAMP_TEST)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy lambdalab/engine lambdalab/triggers lambdalab/course lambdalab/errors.py

check-lessons: $(STAMP_TEST)
	$(BIN)/lambdalab lessons check

pytest: $(STAMP_TEST) $(STAMP_ENGINE)
	$(BIN)/python -m pytest

# The install and the engine's compilation run side by side, then the checks beside
# the tests, which leave the cores idle now and then; each one's output is shown
# whole when it ends, and any failure fails the target.
test:
	@$(MAKE) --no-print-directory -j 3 --output-sync=target lint check-lessons pytest

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
