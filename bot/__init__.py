"""The Telegram bot, its storage and its command line.

Importing the package installs one import hook, below: sqlite_utils loads without numpy.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec, PathFinder, SourceFileLoader
from types import ModuleType

# sqlite_utils.db tries `import numpy` (and pandas) when it loads, only to map numpy value
# types to column types; the bot never stores a numpy value. numpy costs every process that
# opens the database about 17 MB and 0.14 s (bench/startup_bench.py), so that one module
# loads with numpy hidden: its `import numpy` fails, and it sets `np = None` (sqlite-utils
# 4.x uses np only behind `if np:`; tests/test_startup.py checks the version still does).
# numpy itself stays importable: matplotlib (the stats chart) loads it when it is asked for.
NUMPY_FREE = "sqlite_utils.db"


class _NumpyHiddenLoader(SourceFileLoader):
    """The usual loader of a source file, run while `import numpy` raises ImportError."""

    def exec_module(self, module: ModuleType) -> None:
        sys.modules["numpy"] = None  # type: ignore[assignment]  # None: "not importable"
        try:
            super().exec_module(module)
        finally:
            if "numpy" in sys.modules and sys.modules["numpy"] is None:
                del sys.modules["numpy"]


class _NumpyFreeFinder:
    """A meta path finder for NUMPY_FREE alone: its usual spec, with the loader above."""

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name != NUMPY_FREE or "numpy" in sys.modules:  # numpy loaded already: nothing saved
            return None
        spec = PathFinder.find_spec(name, path, target)
        if spec is not None and isinstance(spec.loader, SourceFileLoader):
            spec.loader = _NumpyHiddenLoader(spec.loader.name, spec.loader.path)
        return spec


sys.meta_path.insert(0, _NumpyFreeFinder())
