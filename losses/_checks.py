"""Conversion, validation and reduction helpers shared by every loss.

Validation reads the raw data (it is not part of the graph) and raises ValueError naming what is
wrong: the shapes, the first bad entry or row, the class index.  Nothing returns NaN silently.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np
from numpy.typing import ArrayLike

from autograd_core import Value, ops
from autograd_core.value import check_no_values_inside

Tensor = Value | ArrayLike
"""A loss argument: a Value (differentiable) or anything NumPy turns into a float array."""

REDUCTIONS = ("mean", "sum", "none")
ROW_SUM_ATOL = 1e-6


def as_values(a: Tensor, b: Tensor) -> tuple[Value, Value]:
    """``as_value`` of both, in the dtype NumPy gives ``a * b``: a Python number takes the
    other's dtype (it never widens a float32 array); float32 with float64 is float64, so that a
    term of one argument alone (p log p) is not computed in float32.  The cast is a node: each
    gradient comes back in its argument's dtype."""
    numbers = [isinstance(x, Real) and not isinstance(x, np.generic) for x in (a, b)]
    if numbers[0] != numbers[1]:
        other = as_value(b if numbers[0] else a)
        number = Value(np.asarray(a if numbers[0] else b, other.dtype), requires_grad=False)
        return (number, other) if numbers[0] else (other, number)
    a, b = as_value(a), as_value(b)
    if a.dtype == b.dtype:
        return a, b
    common = np.result_type(a.data, b.data)  # a Value holding a Python float is weak, as 2.0
    return tuple(v if v.dtype == common else ops.astype(v, common) for v in (a, b))


def as_value(x: Tensor) -> Value:
    """``x`` itself if it is a Value, else a constant Value (integers and bools become float64;
    complex numbers, strings and objects raise TypeError, as ``Value`` does)."""
    if isinstance(x, Value):
        return x
    check_no_values_inside(x)
    return Value(np.asarray(x), requires_grad=False)


def data(v: Value) -> np.ndarray:
    """The raw forward data of ``v`` as an ndarray (a constant: no gradient flows through it)."""
    return np.asarray(v.data)


def _at(index: tuple) -> str:
    return ", ".join(str(int(i)) for i in index)


def _first(bad: np.ndarray) -> tuple:
    """The index of the first True entry of ``bad``, in C order."""
    return np.unravel_index(int(np.argmax(bad)), bad.shape)


def check_options(reduction: str, base: float = math.e) -> float:
    """Validate ``reduction`` and ``base``; return log(base)."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if not (isinstance(base, Real) and math.isfinite(base) and base > 0 and base != 1):
        raise ValueError(f"base must be a finite number > 0 other than 1, got {base!r}")
    return math.log(base)


def check_same_shape(a_name: str, a: Value, b_name: str, b: Value) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"{a_name} and {b_name} must have the same shape, "
            f"got {a_name}.shape = {a.shape} and {b_name}.shape = {b.shape}"
        )


def check_finite(name: str, v: Value, *, masked: bool = False) -> None:
    """Reject NaN and infinite entries.

    With ``masked`` (logits), -inf is accepted: a class masked out, of probability 0. A row
    (the last axis) must still hold at least one finite entry.
    """
    a = data(v)
    bad = ~np.isfinite(a)
    if not bad.any():
        return
    if masked:
        bad &= a != -np.inf
    if bad.any():
        i = _first(bad)
        allowed = "finite or -inf" if masked else "finite"
        raise ValueError(f"{name}[{_at(i)}] = {float(a[i])!r}; {name} must be {allowed}")
    empty = (a == -np.inf).all(axis=-1)
    if empty.any():
        i = _first(empty)
        row = f"row {_at(i)} of {name}" if i else name
        raise ValueError(f"{row} is -inf in every class: no class has a probability")


def check_probabilities(name: str, v: Value) -> None:
    """Every entry must lie in [0, 1] (NaN is rejected too)."""
    a = data(v)
    if a.size == 0 or (a.min() >= 0 and a.max() <= 1):  # two reductions; NaN fails them
        return
    bad = ~((a >= 0) & (a <= 1))
    if bad.any():
        i = _first(bad)
        x = float(a[i])
        why = "is NaN" if math.isnan(x) else "is negative" if x < 0 else "is above 1"
        raise ValueError(f"{name}[{_at(i)}] = {x!r} {why}; probabilities must lie in [0, 1]")


def check_distribution(name: str, v: Value) -> None:
    """Entries in [0, 1] and every row (the last axis) summing to 1 within 1e-6."""
    if v.ndim == 0:
        raise ValueError(
            f"{name} must have a last axis holding the distribution, got shape {v.shape}"
        )
    check_probabilities(name, v)
    sums = data(v).sum(axis=-1, dtype=np.float64)
    # within 1e-6 inclusive, rounding aside: a row nudged by exactly 1e-6 (gradcheck's default
    # step) sums to 1 + 1.0000000000287557e-06 and must pass
    bad = np.abs(sums - 1) > ROW_SUM_ATOL * (1 + 1e-9)
    if bad.any():
        i = _first(bad)
        row = f"row {_at(i)} of {name}" if i else name
        raise ValueError(
            f"{row} sums to {float(sums[i]):.12g}; distributions (the last axis) "
            f"must sum to 1 within {ROW_SUM_ATOL:g}"
        )


def finish(loss: Value, reduction: str, scale: float = 1.0) -> Value:
    """Reduce ``loss`` over all its axes ("mean" | "sum" | "none") and multiply by ``scale``.

    The scale (a sign, 1/log(base)) is applied after the reduction, where it costs least.
    """
    if reduction == "sum":
        loss = loss.sum()
    elif reduction == "mean":
        if loss.size == 0:
            raise ValueError(f"cannot average a loss over an empty batch of shape {loss.shape}")
        loss = loss.mean()
    if scale < 0:  # 0 - x rather than -x: an entropy of 0 is 0.0, not -0.0
        return (0.0 - loss) * -scale
    return loss if scale == 1 else loss * scale


def check_class_indices(targets: np.ndarray, logits_shape: tuple) -> None:
    """Integer targets: shape ``logits_shape[:-1]``, values in [0, number of classes)."""
    batch, n_classes = logits_shape[:-1], logits_shape[-1]
    if targets.shape != batch:
        raise ValueError(
            f"class-index targets must have shape logits.shape[:-1] = {batch}, "
            f"got targets.shape = {targets.shape} (logits.shape = {logits_shape})"
        )
    bad = (targets < 0) | (targets >= n_classes)
    if bad.any():
        i = _first(bad)
        where = f" at targets[{_at(i)}]" if i else ""
        raise ValueError(
            f"class index {int(targets[i])}{where} is out of range for {n_classes} classes "
            f"(valid indices are 0 to {n_classes - 1})"
        )
