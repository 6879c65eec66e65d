"""Gradients as functions (HIPS autograd / JAX style) and the finite-difference check."""

from __future__ import annotations

import contextlib
import functools
import itertools
import operator
from collections.abc import Callable

import numpy as np

from . import ops
from .value import Value, _state, backprop, no_grad

_depth = 0  # how many grad() or gradcheck() calls are evaluating their function right now


@contextlib.contextmanager
def _tracing(record: bool = True):
    """Inside, grad() returns differentiable Values; with ``record``, ops record a graph."""
    global _depth
    before = _state.grad_enabled
    _depth += 1
    _state.grad_enabled = before or record
    try:
        yield
    finally:
        _depth -= 1
        _state.grad_enabled = before


def _gradients(out: Value, wrt: list, create_graph: bool) -> list:
    """d(out)/d(v) for each v in ``wrt``, without touching any ``.grad``."""
    if not isinstance(out, Value) or out.size != 1:
        shape = out.shape if isinstance(out, Value) else type(out).__name__
        raise ValueError(f"the function must return a scalar Value, got {shape}")
    found = {}
    if out.requires_grad:
        seed = out._seed(None, create_graph)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            passes = backprop(out, seed, create_graph=create_graph, accumulate=False, wrt=wrt)
            try:
                while True:
                    next(passes)
            except StopIteration as stop:
                found = stop.value
    grads = []
    for v in wrt:
        g = found.get(v)
        if isinstance(g, np.generic) and type(v.data) is not float:
            g = np.asarray(g)  # a sum of 0-d arrays is a NumPy scalar: give the 0-d array
        if g is None:
            g = 0.0 if type(v.data) is float else np.zeros_like(v.data)
            g = Value(g, requires_grad=False) if create_graph else g
        elif type(g) is np.ndarray and (
            g.base is not None or not g.flags.writeable or any(g is h for h in grads)
        ):
            g = g.copy()  # the caller owns it: no view of a gradient, no array shared by two
        grads.append(g)
    return grads


def value_and_grad(f: Callable, argnums: int | tuple = 0) -> Callable:
    """A function giving ``(f(*args), df/d args[argnums])`` for a scalar-valued ``f``: the value
    as ``f(*args).data``, or as the Value itself when called inside another ``grad``.

    ``f`` receives Values for the ``argnums`` arguments and the others unchanged.  The gradient
    has the argument's shape: an ndarray or float, or a differentiable Value when called inside
    another ``grad``, so ``grad(grad(f))`` works.  A tuple ``argnums`` gives a tuple of gradients.
    """
    single = not isinstance(argnums, (tuple, list))
    try:
        nums = tuple(map(operator.index, (argnums,) if single else argnums))
    except TypeError:
        raise TypeError(f"argnums must be an int or a tuple of ints, got {argnums!r}") from None
    if not nums:
        raise ValueError("argnums is empty: name at least one argument to differentiate")

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        if any(not -len(args) <= i < len(args) for i in nums):
            raise TypeError(
                f"argnums {argnums}: f was called with {len(args)} positional argument(s); "
                "pass the arguments to differentiate positionally"
            )
        if len({i % len(args) if -len(args) <= i < len(args) else i for i in nums}) < len(nums):
            raise ValueError(f"argnums {argnums} names the same argument twice")
        nested = _depth > 0
        args = list(args)
        wrt = []
        with _tracing():  # a gradient needs a graph, even under no_grad()
            for i in nums:
                a = args[i]
                if nested and isinstance(a, Value) and a.requires_grad:
                    # A new node over a: the derivative is taken with respect to this argument
                    # only (not to other uses of a, e.g. in a closure), while the outer grad
                    # can still differentiate through it.
                    v = a._unary(ops.identity)
                else:
                    v = Value(getattr(a, "data", a))
                args[i] = v
                wrt.append(v)
            out = f(*args, **kwargs)
            grads = _gradients(out, wrt, create_graph=nested)
        value = out if nested else out.data
        return value, (grads[0] if single else tuple(grads))

    return wrapped


def grad(f: Callable, argnums: int | tuple = 0) -> Callable:
    """The function x -> df/dx of a scalar-valued ``f`` (see ``value_and_grad``)."""
    vg = value_and_grad(f, argnums)

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        return vg(*args, **kwargs)[1]

    return wrapped


def gradcheck(f: Callable, *inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3):
    """Compare reverse-mode gradients of scalar ``f`` with central finite differences.

    Works in float64 on copies of ``inputs``.  Returns True, or raises AssertionError naming
    the input, the index and both values of the worst mismatch.
    """
    xs = [_float64(x) for x in inputs]
    values = [Value(x) for x in xs]
    with _tracing():  # so that grad() inside f returns Values (gradcheck of a gradient)
        grads = _gradients(f(*values), values, create_graph=False)
    worst = None  # (excess over tolerance, input, index, reverse, finite difference)
    for i, x in enumerate(xs):
        rev = np.asarray(grads[i], dtype=np.float64)
        for idx in itertools.product(*(range(n) for n in np.shape(x))):
            fd = _central_difference(f, xs, i, idx, eps)
            err = abs(rev[idx] - fd) - (atol + rtol * abs(fd))
            if not err <= 0 and (worst is None or not err <= worst[0]):
                worst = (err, i, idx, rev[idx], fd)
    if worst is not None:
        _, i, idx, r, fd = worst
        where = idx if len(idx) != 1 else f"({idx[0]},)"
        raise AssertionError(
            f"input {i}, index {where}: reverse-mode {r:.6g} vs finite-difference {fd:.6g}"
        )
    return True


def _float64(x):
    x = x.data if isinstance(x, Value) else x
    return float(x) if np.ndim(x) == 0 and not isinstance(x, np.ndarray) else np.array(x, float)


def _central_difference(f, xs, i, idx, eps):
    def at(delta):
        shifted = list(xs)
        if idx == ():  # a float or a 0-d array
            shifted[i] = xs[i] + delta
        else:
            shifted[i] = xs[i].copy()
            shifted[i][idx] += delta
        with no_grad(), _tracing(record=False):
            return float(np.asarray(f(*(Value(s) for s in shifted)).data).reshape(()))

    return (at(eps) - at(-eps)) / (2 * eps)
