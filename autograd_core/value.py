"""``Value``: a node of the computation graph, for scalars (Python floats) and NumPy tensors.

Every op records its primitive, its inputs and its parameters on the Value it returns; nothing
else.  There are no closures, so the graph holds no reference cycles and is freed by reference
counting as soon as its root is dropped (after ``backward(create_graph=True)`` a leaf's grad
refers to the graph of its gradient: a cycle, as in PyTorch, freed by the cycle collector).
``backward`` walks the graph in reverse topological order, computed iteratively, and applies
each primitive's VJPs (see ``ops.py``).
"""

from __future__ import annotations

import contextlib
import copy
import numbers
import operator
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from . import ops


class _State:
    grad_enabled = True  # off inside no_grad(): ops record no graph
    scope: tuple = ()  # the nn modules whose forward is running, outermost first (drawings)


_state = _State()


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Ops inside this block record no graph: their results are constants."""
    before, _state.grad_enabled = _state.grad_enabled, False
    try:
        yield
    finally:
        _state.grad_enabled = before


class scope:
    """``with scope(module):`` tags the Values created inside with ``module`` (drawings group
    them).  A class, not a generator: every module call enters one (~1 us less)."""

    __slots__ = ("module", "before")

    def __init__(self, module) -> None:
        self.module = module

    def __enter__(self) -> None:
        self.before = _state.scope
        _state.scope = self.before + (self.module,)

    def __exit__(self, *exc) -> None:
        _state.scope = self.before


def check_no_values_inside(x) -> None:
    """Refuse a (nested) list or tuple holding Values: NumPy would turn it into a constant array
    and their gradients would be lost without a word."""
    stack = [x]
    while stack:
        item = stack.pop()
        if isinstance(item, Value):
            raise TypeError(
                "got a list holding Values: as an array they would be a constant and get no "
                "gradient; pass their .data for a constant, or compute with the Values themselves"
            )
        if isinstance(item, (list, tuple)):
            stack.extend(item)


def _as_data(x, dtype=None):
    """Python numbers become floats, integer and bool arrays float64, float arrays keep dtype."""
    if isinstance(x, Value):
        x = x.data
    elif isinstance(x, (list, tuple)):
        check_no_values_inside(x)
    if dtype is not None:
        x = np.asarray(x, dtype=dtype)
        if x.dtype.kind != "f":
            raise TypeError(f"Value holds real floating-point numbers, not dtype={x.dtype}")
        return float(x) if x.dtype == np.float64 and x.ndim == 0 and dtype is float else x
    if type(x) is float:
        return x
    if isinstance(x, numbers.Number) and not isinstance(x, np.generic):
        if isinstance(x, complex):
            raise TypeError(f"Value holds real numbers, got {x!r}")
        return float(x)
    x = np.asarray(x)
    if x.dtype.kind != "f":
        if x.dtype.kind not in "biu":
            raise TypeError(f"Value holds real numbers, got an array of dtype {x.dtype}")
        x = x.astype(np.float64)
    return x


def _constant(x):
    """A raw operand (a number or an array in an expression): no gradient flows to it.  Lists
    holding Values, and complex, string or object data, are refused as ``Value`` refuses them."""
    t = type(x)
    if t is float or t is int:
        return x
    if t is not np.ndarray:
        if isinstance(x, numbers.Number) and not isinstance(x, (np.generic, complex)):
            return float(x)
        check_no_values_inside(x)
        x = np.asarray(x)
    if x.dtype.kind not in "fiub":
        raise TypeError(f"Value holds real numbers, got an operand of dtype {x.dtype}")
    return x


def _bound(b):
    """A bound of ``clip``: None or a constant; a Value that needs a gradient is refused."""
    if isinstance(b, Value):
        if b.requires_grad:
            raise TypeError(
                "clip's bounds are constants, and no gradient flows to them: got a Value that "
                "requires grad; pass its .data"
            )
        return b.data
    return None if b is None else _constant(b)


def _leaf(data, grad, requires_grad: bool, label: str) -> Value:
    """A Value rebuilt from a pickle or a ``copy.copy``; its grad is its own array."""
    v = Value(data, requires_grad=requires_grad, label=label)
    v._grad = grad.copy() if isinstance(grad, np.ndarray) else grad
    return v


def _node(prim, data, x, y, aux: tuple, requires_grad: bool) -> Value:
    """The Value an op returns; it records the op and its inputs when a gradient may flow."""
    t = type(data)
    if t is not float and t is not np.ndarray:
        if t is tuple:  # (data, saved): arrays the forward made anyway, kept for the VJPs
            data, saved = data
            aux += saved
            t = type(data)
        if t is not float and t is not np.ndarray:  # a NumPy scalar: float if floats went in
            scalar = all(type(_data(v)) in (float, int) for v in (x, y) if v is not None)
            data = float(data) if scalar else np.asarray(data)
    out = Value.__new__(Value)
    out.data = data
    out._grad = None
    out.label = ""
    out._scope = _state.scope
    if requires_grad and _state.grad_enabled:
        out.requires_grad = True
        out._prim = prim
        out._x = x
        out._y = y
        out._aux = aux
    else:
        out.requires_grad = False
        out._prim = out._x = out._y = None
        out._aux = ()
    return out


def _data(v):
    return v.data if type(v) is Value else v


def _needs_grad(v) -> bool:
    return type(v) is Value and v.requires_grad


class Value:
    """A scalar or tensor in the computation graph: its data, its gradient, and how it was made.

    ``Value(data, *, requires_grad=True, label="", dtype=None)``.  Integers become float64, a
    float32 array stays float32; a scalar made from a Python number holds a Python float.  A
    float array that needs no conversion is held as is, not copied (as ``np.asarray``;
    ``nn.optim`` replaces a parameter's ``data`` rather than writing into it).
    """

    # An op's result records its primitive, its inputs _x and _y (Values, or raw constants;
    # _y is None for unary ops) and the op's parameters _aux.  Slots, no closures: no cycles.
    __slots__ = ("data", "_grad", "requires_grad", "label", "_prim", "_x", "_y", "_aux", "_scope")
    __array_ufunc__ = None  # ndarray (op) Value defers to Value's reflected operator

    def __init__(self, data, *, requires_grad: bool = True, label: str = "", dtype=None):
        self.data = _as_data(data, dtype)
        self._grad = None
        self.requires_grad = bool(requires_grad)
        self.label = label
        self._prim = self._x = self._y = None
        self._aux = ()
        self._scope = _state.scope

    # ---- recording ops -----------------------------------------------------------------

    def _unary(self, prim, *aux) -> Value:
        try:
            data = prim.forward(self.data, *aux)
        except (ArithmeticError, ValueError) as e:
            data = _retry_as_numpy(prim, (self.data,), aux, e)
        return _node(prim, data, self, None, aux, self.requires_grad)

    def _binary(self, prim, other, aux: tuple = ()) -> Value:
        if type(other) is Value:
            od, rg = other.data, self.requires_grad or other.requires_grad
        else:
            od = other = _constant(other)
            rg = self.requires_grad
        try:  # params (rare, see apply) are passed only if any: *() costs ~0.1 us a call
            data = prim.forward(self.data, od, *aux) if aux else prim.forward(self.data, od)
        except (ArithmeticError, ValueError) as e:
            data = _retry_as_numpy(prim, (self.data, od), aux, e)
        return _node(prim, data, self, other, aux, rg)

    def _rbinary(self, prim, other) -> Value:
        other = _constant(other)
        try:
            data = prim.forward(other, self.data)
        except (ArithmeticError, ValueError) as e:
            data = _retry_as_numpy(prim, (other, self.data), (), e)
        return _node(prim, data, other, self, (), self.requires_grad)

    # ---- operators -----------------------------------------------------------------------

    def __add__(self, other) -> Value:
        return self._binary(ops.add, other)

    def __radd__(self, other) -> Value:
        return self._rbinary(ops.add, other)

    def __sub__(self, other) -> Value:
        return self._binary(ops.sub, other)

    def __rsub__(self, other) -> Value:
        return self._rbinary(ops.sub, other)

    def __mul__(self, other) -> Value:
        return self._binary(ops.mul, other)

    def __rmul__(self, other) -> Value:
        return self._rbinary(ops.mul, other)

    def __truediv__(self, other) -> Value:
        return self._binary(ops.div, other)

    def __rtruediv__(self, other) -> Value:
        return self._rbinary(ops.div, other)

    def __pow__(self, other) -> Value:
        return self._binary(ops.pow_, other)

    def __rpow__(self, other) -> Value:
        return self._rbinary(ops.pow_, other)

    def __matmul__(self, other) -> Value:
        return self._binary(ops.matmul, other)

    def __rmatmul__(self, other) -> Value:
        return self._rbinary(ops.matmul, other)

    def __neg__(self) -> Value:
        return self._unary(ops.neg)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return self.abs()

    def __getitem__(self, idx) -> Value:
        return self._unary(ops.getitem, _raw_index(idx))

    # ---- comparisons: elementwise, as in NumPy; booleans, outside the graph -------------------

    __hash__ = object.__hash__  # identity, as a PyTorch tensor's: graphs keep Values in sets

    def _compare(self, op, other):
        if isinstance(other, Value):
            other = other.data
        elif isinstance(other, (list, tuple)) or hasattr(other, "__array__"):  # a torch tensor
            check_no_values_inside(other)
            other = np.asarray(other)
        elif not isinstance(other, (numbers.Real, np.generic)):
            return NotImplemented  # v == None is False, v < "a" a TypeError, as for arrays
        return op(self.data, other)

    def __eq__(self, other):
        return self._compare(operator.eq, other)

    def __ne__(self, other):
        return self._compare(operator.ne, other)

    def __lt__(self, other):
        return self._compare(operator.lt, other)

    def __le__(self, other):
        return self._compare(operator.le, other)

    def __gt__(self, other):
        return self._compare(operator.gt, other)

    def __ge__(self, other):
        return self._compare(operator.ge, other)

    # ---- in-place operators, as in PyTorch ---------------------------------------------------

    def __iadd__(self, other) -> Value:
        return self._inplace(ops.add, other)

    def __isub__(self, other) -> Value:
        return self._inplace(ops.sub, other)

    def __imul__(self, other) -> Value:
        return self._inplace(ops.mul, other)

    def __itruediv__(self, other) -> Value:
        return self._inplace(ops.div, other)

    def __ipow__(self, other) -> Value:
        return self._inplace(ops.pow_, other)

    def __imatmul__(self, other) -> Value:
        return self._inplace(ops.matmul, other)

    def _inplace(self, prim, other):
        """``x op= y``.  Under ``no_grad()`` a leaf keeps its identity and grad and takes the
        result as its data: a parameter update, ``p -= lr * p.grad``, as in PyTorch (a graph
        recorded before it reads the new data if its backward runs after, where PyTorch
        raises).  With gradients on, a leaf holding a gradient (a parameter in training)
        refuses, as ``x = x op y`` would quietly swap it for a new node that its model and
        optimizer do not hold.  Anything else is ``x = x op y``, a new node, as in micrograd,
        JAX and HIPS autograd."""
        if self._prim is not None or (_state.grad_enabled and self._grad is None):
            return NotImplemented
        if _state.grad_enabled:
            raise RuntimeError(
                f"{prim.name}= on a leaf Value that holds a gradient would replace it by a new "
                f"node, which a model or optimizer holding it would not see: update it under "
                f"no_grad(), as in PyTorch, or write x = x {prim.name} y for a new node"
            )
        data = self._binary(prim, other).data
        if np.shape(data) != self.shape:
            raise ValueError(
                f"{prim.name}=: the result has shape {np.shape(data)}, the Value {self.shape}"
            )
        self.data = float(data) if type(self.data) is float else np.asarray(data, self.dtype)
        return self

    # ---- elementwise functions -------------------------------------------------------------

    def exp(self) -> Value:
        """e^x."""
        return self._unary(ops.exp_)

    def log(self) -> Value:
        """Natural log; log(0) = -inf."""
        return self._unary(ops.log_)

    def sqrt(self) -> Value:
        """sqrt(x); its derivative 1 / (2 sqrt x) is inf at 0."""
        return self._unary(ops.sqrt)

    def abs(self) -> Value:
        """|x|; its derivative sign(x) is 0 at 0."""
        return self._unary(ops.abs_)

    def tanh(self) -> Value:
        """tanh x; derivative 1 - tanh^2 x."""
        return self._unary(ops.tanh)

    def relu(self) -> Value:
        """max(x, 0); derivative [x > 0]."""
        return self._unary(ops.relu)

    def sigmoid(self) -> Value:
        """1 / (1 + e^-x), stable for any x; derivative s (1 - s)."""
        return self._unary(ops.sigmoid)

    def softplus(self) -> Value:
        """log(1 + e^x), stable for any x; derivative sigmoid(x)."""
        return self._unary(ops.softplus)

    def clip(self, lo=None, hi=None) -> Value:
        """min(max(x, lo), hi); derivative 1 for lo <= x <= hi, else 0.  The bounds are
        constants (None, numbers, arrays): no gradient flows to them."""
        return self._unary(ops.clip, _bound(lo), _bound(hi))

    # ---- reductions and softmax ------------------------------------------------------------

    def sum(self, axis=None, keepdims: bool = False) -> Value:
        """sum over ``axis`` (all axes when None)."""
        return self._unary(ops.sum_, _axis(axis), keepdims)

    def mean(self, axis=None, keepdims: bool = False) -> Value:
        """sum / n over ``axis``."""
        total = self.sum(axis, keepdims)  # checks the axis as NumPy does
        return total / float(self.size // total.size if total.size else 1)

    def max(self, axis=None, keepdims: bool = False) -> Value:
        """max over ``axis``; the gradient is split evenly between tied maxima."""
        return self._unary(ops.max_, _axis(axis), keepdims)

    def logsumexp(self, axis=None, keepdims: bool = False) -> Value:
        """log sum_i e^{x_i}, computed as m + log sum e^{x_i - m} with m = max x."""
        return self._unary(ops.logsumexp, _axis(axis), keepdims)

    def log_softmax(self, axis: int = -1) -> Value:
        """x - logsumexp(x): log-probabilities, finite for any finite logits.  As in PyTorch,
        x is first shifted by its max along ``axis`` (a constant: log-softmax is the same for
        x - c), so that (x - m) - log sum e^(x - m) keeps the digits of the largest entries."""
        x = self
        if self.ndim and self.size:
            x = self - ops.shift_kept(self.data, _axis(axis))
        return x - x.logsumexp(axis, keepdims=True)

    def softmax(self, axis: int = -1) -> Value:
        """e^x / sum e^x along ``axis``, shifted by the max; J^T g = s (g - <g, s>)."""
        if self.ndim == 0:  # of one number: 1, as in PyTorch, with gradient 0
            ops.check_0d_axis(_axis(axis))
            return self * 0.0 + 1.0
        return self._unary(ops.softmax, _axis(axis))

    def xlogy(self, y) -> Value:
        """x log y elementwise, with 0 log 0 = 0 (there both partial derivatives are 0)."""
        if y is self:  # x log x: one log, and a derivative log x + 1 without another
            return self._unary(ops.xlogx)
        return self._binary(ops.xlogy, y)

    # ---- shapes ----------------------------------------------------------------------------

    def reshape(self, *shape) -> Value:
        """The same data in a new shape (one entry may be -1)."""
        return self._unary(ops.reshape, _ints(shape))

    def transpose(self, *axes) -> Value:
        """Axes permuted (reversed when none are given), as ndarray.transpose."""
        axes = None if axes == () or (len(axes) == 1 and axes[0] is None) else _ints(axes)
        for a in axes or ():  # as NumPy: -ndim <= axis < ndim (the VJP needs them >= 0)
            if not -self.ndim <= a < self.ndim:
                raise np.exceptions.AxisError(a, self.ndim)
        return self._unary(ops.transpose, axes and tuple(a % self.ndim for a in axes))

    @property
    def T(self) -> Value:
        return self.transpose()

    @property
    def shape(self) -> tuple:
        return ops.shape(self.data)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return 1 if type(self.data) is float else self.data.size

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float64) if type(self.data) is float else self.data.dtype

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d Value")
        return self.shape[0]

    def __iter__(self) -> Iterator[Value]:
        """The Values v[0], v[1], ..., as iterating an array gives its rows."""
        if not self.shape:
            raise TypeError("iteration over a 0-d Value")
        return (self[i] for i in range(self.shape[0]))

    def __bool__(self) -> bool:
        """The truth of a Value of size 1; for any other size it is ambiguous, as in NumPy."""
        if self.size != 1:
            raise ValueError(
                f"the truth value of a Value of shape {self.shape} is ambiguous: "
                "use v.data.any() or v.data.all()"
            )
        return bool(self.item())

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return np.array(self.data, dtype=dtype, copy=copy)

    def item(self) -> float:
        if self.size != 1:
            raise ValueError(f"item() needs a Value of size 1, got shape {self.shape}")
        return float(self.data) if type(self.data) is float else self.data.item()

    def __float__(self) -> float:
        return self.item()

    def __int__(self) -> int:
        return int(self.item())

    def __round__(self, ndigits: int | None = None):
        return round(self.item(), ndigits)

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"`` formats a Value of size 1 as its number."""
        return format(self.item(), spec) if spec else repr(self)

    # ---- gradients ---------------------------------------------------------------------------

    @property
    def grad(self):
        """d(root)/d(self) summed over backward passes; zeros until a pass reaches this node."""
        if self._grad is None:
            return 0.0 if type(self.data) is float else np.zeros_like(self.data)
        # a sum of 0-d arrays is a NumPy scalar: read it as the 0-d array it stands for
        return np.asarray(self._grad) if isinstance(self._grad, np.generic) else self._grad

    @grad.setter
    def grad(self, g) -> None:
        """Set by hand (None clears it): numbers of this Value's shape, held in its dtype."""
        if g is not None and not isinstance(g, Value):
            g = np.asarray(g)
            if g.dtype.kind not in "fiub":
                raise TypeError(f"a grad holds real numbers, got dtype {g.dtype}")
        shape = None if g is None else np.shape(_data(g))
        if shape is not None and shape != self.shape:
            raise ValueError(f"a grad of shape {shape} for a Value of shape {self.shape}")
        if type(g) is np.ndarray:
            g = float(g) if type(self.data) is float else g.astype(self.dtype, copy=False)
        self._grad = g

    @property
    def op(self) -> str:
        """The name of the op that produced this Value; "" for leaves and constants."""
        return "" if self._prim is None else self._prim.name

    @property
    def parents(self) -> tuple:
        """What this Value was computed from: Values, and raw numbers or arrays (constants)."""
        return () if self._x is None else (self._x,) if self._y is None else (self._x, self._y)

    def zero_grad(self) -> None:
        self._grad = None

    def __reduce__(self):
        """Pickled (and ``copy.copy``'d) as a leaf of the same data, grad, requires_grad and
        label, as PyTorch pickles a tensor: without the graph under a Value made by an op, or
        the module whose forward made it."""
        return (_leaf, (self.data, _data(self._grad), self.requires_grad, self.label))

    def __deepcopy__(self, memo) -> Value:
        """A leaf's copy, as a pickle's (``__reduce__``) but of copied data.  A Value made by an
        op is refused, as in PyTorch: its copy would carry a copy of the whole graph under it,
        whose leaves (a model's parameters) would then get the gradients."""
        if self._prim is not None:
            raise RuntimeError(
                f"deepcopy of a Value made by an op ({self.op!r}) would copy the graph under "
                "it: copy its .detach() (a leaf with the same data) instead"
            )
        _, (data, *rest) = self.__reduce__()
        return _leaf(copy.deepcopy(data, memo), *rest)

    def detach(self) -> Value:
        """A leaf holding the same data, cut from the graph."""
        return Value(self.data, requires_grad=False, label=self.label)

    def backward(self, grad=None, *, create_graph: bool = False) -> None:
        """Add d(self)/d(node) to ``node.grad`` for every node of the graph under ``self``.

        ``grad`` is the seed (the gradient of some scalar with respect to ``self``); it
        defaults to 1 for a Value of size 1.  With ``create_graph=True`` the gradients are
        differentiable Values, so they can be differentiated again.
        """
        seed = self._seed(grad, create_graph)
        before = _state.grad_enabled
        _state.grad_enabled = before or create_graph  # a graph of the gradient, even in no_grad()
        try:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                for _ in backprop(self, seed, create_graph=create_graph):
                    pass
        finally:
            _state.grad_enabled = before

    def _seed(self, grad, create_graph: bool):
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a Value that does not require grad: it was computed from "
                "constants only, or under no_grad()"
            )
        if grad is None:
            if self.size != 1:
                raise ValueError(
                    f"backward() on a non-scalar Value of shape {self.shape} needs a seed: "
                    f"pass grad= an array of shape {self.shape}"
                )
            seed = 1.0 if type(self.data) is float else np.ones_like(self.data)
        else:
            seed = grad.data if isinstance(grad, Value) else grad
            if np.shape(seed) != self.shape:
                raise ValueError(
                    f"backward() seed has shape {np.shape(seed)}, but the Value has shape "
                    f"{self.shape}"
                )
            if np.iscomplexobj(seed):
                raise TypeError("backward() seed is complex; gradients here are real")
            # a copy: the seed becomes this node's .grad, which must not alias the caller's array
            seed = float(seed) if type(self.data) is float else np.array(seed, self.dtype)
        if not create_graph:
            return seed
        if not isinstance(grad, Value):
            return Value(seed, requires_grad=False)
        same = type(self.data) is float or grad.dtype == self.dtype
        return grad if same else ops.astype(grad, self.dtype)  # a grad has its Value's dtype

    def __repr__(self) -> str:
        name = f"{self.label!r}, " if self.label else ""
        op = f", op={self.op!r}" if self._prim is not None else ""
        if self.shape == ():
            dtype = "" if self.dtype == np.float64 else f", dtype={self.dtype}"
            grad = f", grad={float(np.asarray(self.grad)):.6g}" if self.requires_grad else ""
            return f"Value({name}data={float(self.data):.6g}{grad}{dtype}{op})"
        return (
            f"Value({name}shape={self.shape}, dtype={self.dtype}{op},\n"
            f"      data={np.array2string(self.data, threshold=20, precision=4)})"
        )


def apply(prim: ops.Primitive, *inputs, params: tuple = ()) -> Value:
    """``prim`` applied to one or two ``inputs``: Values or constants, as in ``x + y``.

    The way to use a primitive that has no method or operator, e.g. ``ops.js_divergence``;
    a new op is a ``Primitive(name, forward, *vjps)`` applied with this function.  ``params``
    are constants such as an axis or indices, passed after the inputs to the forward and the
    VJPs.
    """
    if not 1 <= len(inputs) <= 2:
        raise TypeError(f"apply: a primitive takes 1 or 2 inputs, {prim.name} got {len(inputs)}")
    if len(inputs) != len(prim.vjps):
        n = len(prim.vjps)
        raise TypeError(
            f"apply: {prim.name} has {n} VJPs (one per input), got {len(inputs)} inputs"
        )
    x = inputs[0] if type(inputs[0]) is Value else Value(inputs[0], requires_grad=False)
    if len(inputs) == 1:
        return x._unary(prim, *params)
    return x._binary(prim, inputs[1], params)


def _axis(axis):
    """Axis arguments in every form NumPy takes: None, an integer, a sequence of integers."""
    if axis is None or isinstance(axis, int):
        return axis
    return operator.index(axis) if np.ndim(axis) == 0 else tuple(operator.index(a) for a in axis)


def _ints(args: tuple) -> tuple:
    """Shape or axes given as varargs or as one sequence (ints, NumPy integers, arrays)."""
    if len(args) == 1 and np.ndim(args[0]) == 1:
        args = tuple(args[0])
    return tuple(operator.index(a) for a in args)


def _raw_index(idx):
    if isinstance(idx, Value):
        idx = idx.data
    if isinstance(idx, tuple):
        return tuple(i.data if isinstance(i, Value) else i for i in idx)
    if isinstance(idx, list):
        return np.asarray(idx)
    return idx


def _retry_as_numpy(prim, datas, aux, error):
    """Redo an op that Python's floats refused (1/0, exp(1000), log(0)) with IEEE semantics."""
    if not all(type(d) in (float, int) for d in datas):
        shapes = " and ".join(str(np.shape(d)) for d in datas)
        if prim is ops.matmul:
            raise ValueError(
                f"@: shapes {shapes} are not aligned for matrix multiplication"
            ) from error
        if len(datas) == 2 and not _broadcastable(*datas):
            raise ValueError(f"{prim.name}: cannot broadcast shapes {shapes}") from error
        raise error  # NumPy's own (an overflow, or np.errstate(all="raise") at work)
    with np.errstate(all="ignore"):
        return float(prim.forward(*(np.float64(d) for d in datas), *aux))


def _broadcastable(a, b) -> bool:
    try:
        np.broadcast_shapes(np.shape(a), np.shape(b))
    except ValueError:
        return False
    return True


class Step(NamedTuple):
    """One step of the backward pass: a node, the gradient it received, what it sent on."""

    node: Value
    grad: Any
    input_grads: tuple


def _topological_order(root: Value) -> list:
    """Nodes under ``root`` that need gradients, each after all of its inputs (no recursion)."""
    order, seen, stack = [], set(), [root]
    push, pop, visit = stack.append, stack.pop, seen.add
    while stack:
        node = pop()
        if node is None:  # the marker pushed above a node: its inputs are all done
            order.append(pop())
        elif node not in seen:
            visit(node)
            push(node)
            push(None)
            x, y = node._x, node._y
            if type(x) is Value and x.requires_grad and x not in seen:
                push(x)
            if type(y) is Value and y.requires_grad and y not in seen:
                push(y)
    return order


def _fit(g, like):
    """A gradient summed back to the shape of the input it flows into, in that input's dtype."""
    if type(like) is float:
        if type(g) is float:
            return g
        if type(g) is Value:  # create_graph: a float's grad is float64, as float(...) below
            g = g if g.shape == () else g.sum()
            return g if g.dtype == np.float64 else ops.astype(g, np.float64)
        return float(np.sum(g))
    if type(g) is Value:  # create_graph: the same, as nodes
        g = ops.sum_to(g, like.shape)
        return g if g.dtype == like.dtype else ops.astype(g, like.dtype)
    if type(g) is not np.ndarray or g.shape != like.shape:
        g = ops.sum_to(np.asarray(g), like.shape)
    return g if g.dtype == like.dtype else g.astype(like.dtype)


def backprop(root: Value, seed, *, create_graph=False, accumulate=True, steps=False, wrt=()):
    """The backward pass, as a generator over nodes in reverse topological order.

    Each node's gradient is complete when it is reached; its primitive's VJPs send it on to
    the node's inputs.  With ``accumulate``, every node's ``.grad`` gets this pass's gradient
    added.  With ``steps``, a ``Step`` is yielded per node.  The generator returns a dict with
    this pass's gradient of each node in ``wrt`` that the root depends on.
    """
    order = _topological_order(root)
    pending = {root: seed}
    pop, get = pending.pop, pending.get
    wanted, found = set(wrt), {}
    stored = {id(seed)}  # ids of the arrays this pass stored as some node's grad
    for node in reversed(order):
        g = pop(node)
        prim = node._prim
        if accumulate:
            old = node._grad
            if old is not None:
                node._grad = old + g
            elif type(g) is np.ndarray:
                # A leaf owns its grad, safe to modify in place: copy what may be shared.
                shared = id(g) in stored or g.base is not None or not g.flags.writeable
                if prim is None and shared:
                    g = g.copy()
                node._grad = g
                stored.add(id(g))
            else:
                node._grad = g
        if wanted and node in wanted:
            found[node] = g
        if prim is None:
            if steps:
                yield Step(node, g, ())
            continue
        # The inputs' data (or, to build a graph of the gradient, the input Values).  A float
        # gradient only ever flows into float data; anything else is fitted by _fit.
        # The op's params and the arrays its forward saved (aux) follow the inputs; a call
        # with *() costs ~0.1 us, a lot on scalar graphs, so they are passed only if any.
        x, y, vjps = node._x, node._y, prim.vjps
        ans = node if create_graph else node.data
        gy = None
        try:
            if y is None:  # a unary node records a graph only when its input needs a gradient
                aux, xd = node._aux, x if create_graph else x.data
                gx = vjps[0](g, ans, xd, *aux) if aux else vjps[0](g, ans, xd)
            else:
                xd = x if create_graph or type(x) is not Value else x.data
                yd = y if create_graph or type(y) is not Value else y.data
                if node._aux:  # params or saved arrays: they follow the inputs
                    gx, gy = _binary_vjps_with_aux(node, g, ans, xd, yd)
                else:
                    gx = vjps[0](g, ans, xd, yd) if type(x) is Value and x.requires_grad else None
                    if type(y) is Value and y.requires_grad:
                        gy = vjps[1](g, ans, xd, yd)
        except ArithmeticError:  # Python floats refused (1/0): redo with IEEE semantics
            gx, gy = _vjps_as_numpy(node, g)
        if gx is not None:
            if type(gx) is not float:
                gx = _fit(gx, x.data)
            old = get(x)
            pending[x] = gx if old is None else old + gx
        if gy is not None:
            if type(gy) is not float:
                gy = _fit(gy, y.data)
            old = get(y)
            pending[y] = gy if old is None else old + gy
        if steps:
            yield Step(node, g, (gx,) if y is None else (gx, gy))
    return found


def _binary_vjps_with_aux(node, g, ans, xd, yd):
    """The VJPs of a binary node with params or saved arrays (they follow the inputs)."""
    (vjp_x, vjp_y), aux = node._prim.vjps, node._aux
    gx = vjp_x(g, ans, xd, yd, *aux) if _needs_grad(node._x) else None
    gy = vjp_y(g, ans, xd, yd, *aux) if _needs_grad(node._y) else None
    return gx, gy


def _vjps_as_numpy(node, g):
    as64 = lambda v: np.float64(v) if type(v) is float else v
    inputs = node.parents
    args = tuple(as64(_data(v)) for v in inputs) + node._aux
    with np.errstate(all="ignore"):
        grads = [
            float(vjp(as64(g), as64(node.data), *args)) if _needs_grad(v) else None
            for vjp, v in zip(node._prim.vjps, inputs)
        ]
    return grads[0], (grads[1] if len(grads) > 1 else None)


def backward_steps(root: Value) -> Iterator[Step]:
    """Run ``root.backward()`` one node at a time, yielding a ``Step`` per node.

    Exhausting the generator leaves exactly the gradients ``backward()`` leaves; stopping early
    leaves those of the steps taken so far (a later ``backward()`` adds a whole pass to them).
    """
    if root.requires_grad and root.size != 1:  # checked here, not at the first next()
        raise ValueError(
            f"backward_steps() starts from a scalar (a Value of size 1), got shape {root.shape}"
        )
    return _steps(root, root._seed(None, False))


def _steps(root: Value, seed) -> Iterator[Step]:
    passes = backprop(root, seed, steps=True)
    while True:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            step = next(passes, None)
        if step is None:
            return
        yield step
