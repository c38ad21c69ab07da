"""The Telegram bot, its storage and its command line.

Importing the package installs one import hook, below: two libraries load without the
optional imports they try and the bot never uses.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec, PathFinder, SourceFileLoader
from types import ModuleType

# Module -> optional imports it tries, hidden while it loads (each then takes its own
# "not installed" branch). Measured with bench/startup_bench.py, per process:
# - sqlite_utils.db tries `import numpy` (and pandas) only to map numpy value types to
#   column types; the bot never stores a numpy value. numpy costs 17 MB and 0.14 s.
#   sqlite-utils 4.x uses np only behind `if np:` (tests/test_startup.py checks the
#   installed one still does). numpy stays importable: the stats chart loads it.
# - dateutil.tz.tz (under sqlite_utils) tries its Windows time zones: away from Windows
#   that import fails anyway (no winreg), but only after loading ctypes, 27 ms. Hidden,
#   it fails at once, into the same `except ImportError` (tzwin = None).
HIDDEN_WHILE_LOADING: dict[str, tuple[str, ...]] = {"sqlite_utils.db": ("numpy",)}
if sys.platform != "win32":
    HIDDEN_WHILE_LOADING["dateutil.tz.tz"] = ("dateutil.tz.win",)
NUMPY_FREE = "sqlite_utils.db"  # the module the numpy entry is for (tests name it)


class _HidingLoader(SourceFileLoader):
    """The usual loader of a source file, run while `hidden` imports raise ImportError."""

    def __init__(self, fullname: str, path: str, hidden: Sequence[str]) -> None:
        super().__init__(fullname, path)
        self.hidden = hidden

    def exec_module(self, module: ModuleType) -> None:
        for name in self.hidden:
            sys.modules[name] = None  # type: ignore[assignment]  # None: "not importable"
        try:
            super().exec_module(module)
        finally:
            for name in self.hidden:
                if name in sys.modules and sys.modules[name] is None:
                    del sys.modules[name]


class _HidingFinder:
    """A meta path finder for HIDDEN_WHILE_LOADING's modules: their usual spec, with the
    loader above. An import already loaded is left alone (hiding it would save nothing)."""

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        hidden = [h for h in HIDDEN_WHILE_LOADING.get(name, ()) if h not in sys.modules]
        if not hidden:
            return None
        spec = PathFinder.find_spec(name, path, target)
        if spec is not None and isinstance(spec.loader, SourceFileLoader):
            spec.loader = _HidingLoader(spec.loader.name, spec.loader.path, hidden)
        return spec


sys.meta_path.insert(0, _HidingFinder())
