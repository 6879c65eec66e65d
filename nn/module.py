"""``Module``, the base class of layers and models, and ``load`` for saved state.

A module's parameters are the leaf ``Value`` objects (not results of ops, such as an activation
kept in an attribute), and its sub-modules the ``Module`` objects, held in its public attributes
(names not starting with ``_``), directly or inside lists, tuples and dicts, in attribute
insertion order. Their dotted names follow the path of attributes, list indices and dict keys:
``layers.0.weight``; two parameters of the same name raise ValueError. An object reachable twice
is listed once. A parameter attribute takes only a Value (or None).
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

import autograd_core
from autograd_core import Value

__all__ = ["Module", "load"]

PathLike = str | os.PathLike


def _flatten(name: str, obj: Any) -> Iterator[tuple[str, Any]]:
    """(dotted name, item) for each Value or Module in ``obj``, looking into lists/tuples/dicts."""
    if isinstance(obj, Value | Module):
        yield name, obj
    elif isinstance(obj, list | tuple):
        for i, item in enumerate(obj):
            yield from _flatten(f"{name}.{i}", item)
    elif isinstance(obj, dict):
        for key, item in obj.items():
            yield from _flatten(f"{name}.{key}", item)


class Module:
    """Base class: subclasses set parameters/sub-modules as attributes and define ``forward``."""

    training: bool = True

    def __init__(self) -> None:
        self.training = True

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run ``forward`` with Values made inside tagged with this module (for graph drawing)."""
        with autograd_core.scope(self):
            return self.forward(*args, **kwargs)

    # -- naming: a sub-module knows its attribute name in its parent ("fc1", "layers.0") --------
    @property
    def _name(self) -> str:
        return self.__dict__.get("_module_name", type(self).__name__)

    @_name.setter
    def _name(self, name: str) -> None:
        self.__dict__["_module_name"] = name

    def __setattr__(self, name: str, value: Any) -> None:
        old = self.__dict__.get(name)
        parameter = isinstance(old, Value) and old.op == "" and not name.startswith("_")
        # a parameter stays a leaf Value (or None); self.weight *= 0.5 outside no_grad()
        # would make it an op's result
        if parameter and not (value is None or isinstance(value, Value) and value.op == ""):
            what = (
                f"the result of an op ({value.op!r})"
                if isinstance(value, Value)
                else f"a {type(value).__name__}"
            )
            raise TypeError(
                f"cannot replace parameter {name!r} by {what}: it would stop being a parameter; "
                f"update it under no_grad() (in place), assign a new leaf Value, or write into "
                f"{name}.data"
            )
        if not name.startswith("_"):
            for child_name, child in _flatten(name, value):
                if isinstance(child, Module) and "_module_name" not in vars(child):
                    child._name = child_name  # the first parent to register a module names it
        super().__setattr__(name, value)

    # -- discovery -------------------------------------------------------------------------------
    def _members(self) -> Iterator[tuple[str, Value | Module]]:
        for name, value in list(vars(self).items()):
            if not name.startswith("_"):
                yield from _flatten(name, value)

    def _walk(self, prefix: str = "", seen: set[int] | None = None) -> Iterator[tuple[str, Any]]:
        """Depth-first (dotted name, Value or Module) over everything below, each object once."""
        seen = {id(self)} if seen is None else seen
        for name, obj in self._members():
            if id(obj) not in seen:
                seen.add(id(obj))
                yield prefix + name, obj
                if isinstance(obj, Module):
                    yield from obj._walk(f"{prefix}{name}.", seen)

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        """(dotted name, parameter) pairs, e.g. ``("layers.0.weight", Value)``.  Parameters are
        leaf Values: an op's result kept in an attribute (an activation) is not one."""
        names = set()
        for name, p in self._walk():
            if isinstance(p, Value) and p.op == "":
                if name in names:  # a dict key holding a ".", or keys 1 and "1"
                    raise ValueError(f"two parameters are named {name!r}: rename one")
                names.add(name)
                yield name, p

    def parameters(self) -> list[Value]:
        return [p for _, p in self.named_parameters()]

    def modules(self) -> list[Module]:
        """This module and every sub-module below it."""
        return [self] + [m for _, m in self._walk() if isinstance(m, Module)]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    def train(self, mode: bool = True) -> Module:
        """Set ``training = mode`` on this module and all sub-modules; returns self."""
        if not isinstance(mode, bool):
            raise ValueError(f"train() takes True or False, got {mode!r}")
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def astype(self, dtype: Any) -> Module:
        """Convert every parameter's data to ``dtype`` in place (grads are reset); returns self."""
        if np.dtype(dtype).kind != "f":
            raise TypeError(f"parameters hold floating-point numbers, not dtype={np.dtype(dtype)}")
        for p in self.parameters():
            p.data = np.asarray(p.data).astype(dtype)
            p.zero_grad()
        return self

    # -- state -----------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Dotted name -> a copy of the parameter's data."""
        return {name: np.array(p.data, copy=True) for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Copy ``state`` into the parameters (keeping their dtypes).

        Everything is validated first: a missing or unexpected key, a shape mismatch or a
        non-numeric value raises ValueError naming the key, and then nothing is changed.
        """
        params = dict(self.named_parameters())
        new = {}
        for name, p in params.items():
            if name not in state:
                raise ValueError(f"missing key {name!r} in state dict")
            value, shape = np.asarray(state[name]), np.shape(p.data)
            if value.shape != shape:
                raise ValueError(
                    f"shape mismatch for {name!r}: parameter has shape {shape}, "
                    f"state dict has shape {value.shape}"
                )
            if value.dtype.kind not in "biuf":
                raise ValueError(f"{name!r} has non-numeric dtype {value.dtype}")
            new[name] = value.astype(np.asarray(p.data).dtype, copy=True)
        for name in state:
            if name not in params:
                raise ValueError(f"unexpected key {name!r} in state dict")
        for name, value in new.items():
            params[name].data = value

    def save(self, path: PathLike) -> None:
        """Write ``state_dict()`` to exactly ``path`` as a NumPy ``.npz`` (no pickle).

        The archive is built in memory first (as ``np.savez`` lays it out: one ``name.npy`` per
        entry, so any parameter name works, even ``file``), then written in one go.
        """
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as archive:
            for name, array in self.state_dict().items():
                with archive.open(f"{name}.npy", "w", force_zip64=True) as f:
                    np.lib.format.write_array(f, array, allow_pickle=False)
        with open(path, "wb") as f:
            f.write(buf.getbuffer())

    # -- printing ----------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The arguments shown between the parentheses of ``repr`` (e.g. ``64, 128``)."""
        return ""

    def __repr__(self) -> str:
        """The module tree as PyTorch prints it, and after each module that has parameters,
        how many numbers they hold (a container's count is its whole subtree's)."""
        children = [
            f"({name}): " + repr(child).replace("\n", "\n  ")
            for name, child in self._members()
            if isinstance(child, Module)
        ]
        n = sum(np.size(p.data) for p in self.parameters())
        count = f"  # {n:,} parameter{'s' * (n != 1)}" if n else ""
        if not children:
            return f"{type(self).__name__}({self.extra_repr()}){count}"
        lines = ([self.extra_repr()] if self.extra_repr() else []) + children
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + f"\n){count}"


def load(path: PathLike) -> dict[str, np.ndarray]:
    """Read a file written by ``Module.save`` into a plain dict for ``load_state_dict``.

    Never unpickles: a truncated or non-``.npz`` file, or one holding object arrays or members
    that are not arrays, raises ValueError naming ``path``.
    """
    with open(path, "rb") as f:
        try:
            # An .npz is a zip archive (an empty one starts with the end record); anything else
            # np.load would take for a pickle and say so, a misleading message here.
            if f.read(4) not in (b"PK\x03\x04", b"PK\x05\x06"):
                raise ValueError("not an .npz archive")
            f.seek(0)
            npz = np.load(f, allow_pickle=False)
            with npz:
                arrays = {key: npz[key] for key in npz.files}
            for key, a in arrays.items():
                if not isinstance(a, np.ndarray):  # a member not written by np.save: raw bytes
                    raise ValueError(f"member {key!r} is not a NumPy array")
            return arrays
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
            raise ValueError(f"cannot load state dict from {os.fspath(path)!r}: {e}") from e
