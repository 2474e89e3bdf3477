"""Compile the engine's request path with mypyc into the virtual environment.

``make`` runs this. The compiled modules go to ``<venv>/lambdalab-compiled`` with a
manifest of the sources they were made from; ``lambdalab.engine`` uses them only while
those sources are unchanged (see its docstring). Without a C compiler this fails, and
the engine stays plain Python: slower, with the same results.

Run: ``python tools/compile_engine.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # make runs this while pip is still installing lambdalab

from lambdalab.engine import (  # noqa: E402
    COMPILED_HOME,
    COMPILED_MODULES,
    MANIFEST,
    source_digests,
)

ENGINE = ROOT / "lambdalab" / "engine"
GROUP = "lambdalab.engine.compiled"
"""The shared library's module name: inside the package, so no path entry is needed."""


def build(home: Path) -> None:
    """Compile COMPILED_MODULES into ``home`` and record the sources' digests."""
    from mypyc.build import mypycify
    from setuptools import setup  # type: ignore[import-untyped]

    digests = source_digests(ENGINE)  # read before compiling: what the build is of
    paths = [f"lambdalab/engine/{name}.py" for name in COMPILED_MODULES]
    with tempfile.TemporaryDirectory(prefix="lambdalab-mypyc-") as work:
        os.chdir(ROOT)  # mypyc names modules by their path from here
        # Its own type cache: `make lint` runs mypy on the same files at the same time.
        options = [f"--cache-dir={work}/mypy"]
        # -O1: as fast to run as the default -O3 here, and a third less to compile.
        extensions = mypycify(
            paths + options, group_name=GROUP, target_dir=f"{work}/c", opt_level="1"
        )
        os.chdir(work)  # setuptools would read the project's own pyproject.toml here
        setup(
            name="lambdalab-compiled",
            ext_modules=extensions,
            script_args=[
                "--quiet",
                "build_ext",
                f"--build-lib={work}/lib",
                f"--build-temp={work}/temp",
            ],
        )
        shutil.rmtree(home, ignore_errors=True)
        shutil.copytree(f"{work}/lib", home)
    manifest = home / "lambdalab" / "engine" / MANIFEST
    manifest.write_text(json.dumps(digests, indent=1), encoding="utf-8")


def main() -> int:
    try:
        build(COMPILED_HOME)
    except (Exception, SystemExit) as error:  # setup() exits on a compiler error
        shutil.rmtree(COMPILED_HOME, ignore_errors=True)
        print(
            f"compile_engine: not compiled ({error or type(error).__name__}); the "
            "engine runs as plain Python, with the same results, more slowly.",
            file=sys.stderr,
        )
        return 1
    names = ", ".join(COMPILED_MODULES)
    print(f"compile_engine: {names} compiled with mypyc into {COMPILED_HOME}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
