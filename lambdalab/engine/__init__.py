"""The simulated Lambda service: virtual time, functions, environments, invocations.

It imports no UI, reads no wall clock, and does no I/O except running handler code in
its sandbox (and, once at import, reading its own sources' digests, below). Everything
it does is recorded in its trace, or counted in its metrics at trace detail "metrics".

``make`` also compiles the modules on the request path with mypyc into the virtual
environment (``tools/compile_engine.py``). That build is used only while it was made
from the very sources beside this file; otherwise, or with ``LAMBDALAB_PURE_PYTHON``
set, the plain Python modules run. Both give the same results.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from pathlib import Path

COMPILED_MODULES = ("loop", "metrics", "traffic", "service")
"""The modules ``tools/compile_engine.py`` compiles: every request runs through them."""

COMPILED_HOME = Path(sys.prefix, "lambdalab-compiled")
"""Where the build lives: one per virtual environment, beside its packages."""

MANIFEST = "sources.json"
"""The build's record of what it was made from: module name -> SHA-256 of its source."""

PURE_PYTHON_VARIABLE = "LAMBDALAB_PURE_PYTHON"

_log = logging.getLogger(__name__)


def source_digests(folder: Path) -> dict[str, str]:
    """SHA-256 of each compiled module's source in ``folder``."""
    return {
        name: hashlib.sha256((folder / f"{name}.py").read_bytes()).hexdigest()
        for name in COMPILED_MODULES
    }


def compiled_folder(home: Path = COMPILED_HOME) -> Path | None:
    """The compiled modules' folder, if it was built from today's sources."""
    if os.environ.get(PURE_PYTHON_VARIABLE):
        return None
    folder = home / "lambdalab" / "engine"
    try:
        built = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        current = source_digests(Path(__file__).parent)
    except (OSError, ValueError):
        return None
    if built != current:
        # An edited source: the build is stale until ``make`` runs again.
        _log.info("compiled engine in %s is older than its sources; not used", folder)
        return None
    return folder


_compiled = compiled_folder()
if _compiled is not None:
    # Submodules are looked up along __path__ in order: the build first, then here.
    __path__.insert(0, str(_compiled))
