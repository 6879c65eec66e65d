"""Optional peer engines and tools, imported once; a missing one becomes a row note, not a crash.

``require("torch")`` returns the module or raises :class:`Missing`, whose message is what the
table prints, e.g. ``torch: not installed (pip install -e .[bench])``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from functools import cache

# top-level module -> (distribution name, how to install it)
KNOWN = {
    "torch": ("torch", "pip install -e .[bench]"),
    "autograd": ("autograd", "pip install -e .[bench]"),
    "micrograd": ("micrograd", "pip install -e .[bench]"),
    "threadpoolctl": ("threadpoolctl", "pip install -e .[bench]"),
    "sklearn": ("scikit-learn", "pip install -e .[test]"),
}


class Missing(ImportError):
    """An optional dependency is not importable; the message is shown in the table as is."""


@cache
def _load(name: str):
    """Import ``name`` once; return the module or the exception that stopped it."""
    try:
        return importlib.import_module(name)
    except Exception as exc:  # a broken install (OSError from a .so) counts as missing too
        return exc


def get(name: str):
    """The module ``name`` (e.g. ``"torch"``, ``"sklearn.datasets"``), or None if missing."""
    mod = _load(name)
    return None if isinstance(mod, Exception) else mod


def require(name: str):
    """The module ``name``, or raise :class:`Missing` with an install hint."""
    mod = _load(name)
    if not isinstance(mod, Exception):
        return mod
    top = name.partition(".")[0]
    hint = KNOWN.get(top, (top, f"pip install {top}"))[1]
    if isinstance(mod, ModuleNotFoundError) and mod.name == top:
        raise Missing(f"{top}: not installed ({hint})")
    raise Missing(f"{top}: import failed ({type(mod).__name__}: {mod})")


def version(name: str) -> str:
    """Installed version of the distribution behind module ``name``, or 'not installed'."""
    dist = KNOWN.get(name, (name, ""))[0]
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"
