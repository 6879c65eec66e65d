"""The primitives: each op's forward and its vector-Jacobian products, side by side.

A primitive is ``Primitive(name, forward, *vjps)`` with one VJP per input, in the style of
HIPS autograd's ``defvjp``: ``vjp(g, ans, *inputs, *params)`` maps the gradient ``g`` of the
output ``ans`` to the gradient of one input.  VJPs are written with operators and the helpers
below, which work on raw data (floats, ndarrays) and on ``Value``s alike: an ordinary backward
pass calls them with raw data and builds no graph; ``backward(create_graph=True)`` calls them
with Values, so the gradient is itself differentiable.  A VJP may return a gradient of the
output's (broadcast) shape: the engine sums it back to the input's shape.  A forward may return
``(ans, saved)``: ``saved``, a tuple of arrays it computed anyway, is passed to the VJPs after
the params (raw: a VJP uses it only when ``g`` is raw data) and is freed with the graph.

Scalars are Python floats.  Their forwards use ``math`` (fast); where Python raises
(1/0, exp(1000), log(0)) the engine redoes the op in NumPy, which follows IEEE 754: inf or nan.
"""

from __future__ import annotations

import math
import operator

import numpy as np


class Primitive:
    """An op: ``forward(*inputs, *params)`` on raw data, and one VJP per input."""

    __slots__ = ("name", "forward", "vjps")

    def __init__(self, name: str, forward, *vjps):
        self.name, self.forward, self.vjps = name, forward, vjps

    def __repr__(self) -> str:
        return f"Primitive({self.name!r})"


# ---- helpers that work on raw data and on Values alike -------------------------------------


def is_raw(x) -> bool:
    return isinstance(x, (int, float, np.ndarray, np.generic))


def raw(x):
    """The data behind ``x`` (constant: no gradient flows through what is computed from it)."""
    return x if is_raw(x) else x.data


def shape(x) -> tuple:
    return () if type(x) is float else x.shape


def sum_to(g, shp: tuple):
    """Sum a broadcast gradient back to shape ``shp`` (the adjoint of broadcasting)."""
    gshape = shape(g)
    if gshape == shp:
        return g
    lead = len(gshape) - len(shp)
    inner = tuple(lead + i for i, n in enumerate(shp) if n == 1 and gshape[lead + i] != 1)
    if inner:  # axes of size 1 in shp that were broadcast
        g = g.sum(axis=inner, keepdims=True)
    if lead:  # leading axes that broadcasting added (a bias's batch axis)
        g = sum_leading(g, lead)
    return g.reshape(shp) if shape(g) != shp else g


# np.sum and np.max over the rows of a matrix, or down its columns, run a short loop per row;
# BLAS and a transposed copy do the same in one pass.  W3 (float32, batch 1024) measured:
# a bias gradient, (1024, 256) summed down the columns, 32 us -> 13 us; the 10 logits of each
# row summed 18 us -> 3 us and maxed 50 us -> 7 us.
_BLAS_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def sum_leading(a, k: int):
    """``a`` (an array or a Value) summed over its first ``k`` axes: ones @ a, one BLAS call,
    for a contiguous float array."""
    if type(a) is np.ndarray and a.dtype in _BLAS_FLOATS and a.flags.c_contiguous and a.size:
        n = math.prod(a.shape[:k])
        return (np.ones(n, a.dtype) @ a.reshape(n, -1)).reshape(a.shape[k:])
    return a.sum(axis=tuple(range(k)))


def sum_kept(a: np.ndarray, axis) -> np.ndarray:
    """``a.sum(axis, keepdims=True)``; along the last axis a @ ones, one BLAS call."""
    if axis in (-1, a.ndim - 1) and a.dtype in _BLAS_FLOATS and a.ndim > 1:
        return (a @ np.ones(a.shape[-1], a.dtype))[..., None]
    return a.sum(axis=axis, keepdims=True)


def max_kept(a: np.ndarray, axis) -> np.ndarray:
    """``a.max(axis, keepdims=True)``; rows of up to 32 entries along the last axis are
    transposed first, so that the max runs down contiguous columns."""
    if axis in (-1, a.ndim - 1) and a.ndim > 1 and a.shape[-1] <= 32 and a.size > 1024:
        cols = np.ascontiguousarray(a.reshape(-1, a.shape[-1]).T)
        return cols.max(axis=0).reshape(a.shape[:-1] + (1,))
    return a.max(axis=axis, keepdims=True)


def shift_kept(a: np.ndarray, axis) -> np.ndarray:
    """``max_kept``, with 0 where the max is not finite (a row all -inf, or holding inf): the
    shift that keeps e^(a - shift) from overflowing without turning -inf - -inf into NaN."""
    m = max_kept(a, axis)
    m[~np.isfinite(m)] = 0
    return m


def reduced_shape(shp: tuple, axis, keepdims: bool) -> tuple:
    """The shape of a reduction over ``axis`` of an array of shape ``shp``."""
    axes = range(len(shp)) if axis is None else (axis,) if isinstance(axis, int) else axis
    axes = {a % len(shp) for a in axes}
    if keepdims:
        return tuple(1 if i in axes else n for i, n in enumerate(shp))
    return tuple(n for i, n in enumerate(shp) if i not in axes)


def kept(r, shp: tuple, axis, keepdims: bool):
    """A reduction's result ``r`` reshaped as if it had been computed with keepdims=True."""
    if keepdims or shp == ():
        return r
    return r.reshape(reduced_shape(shp, axis, keepdims=True))


def expand(g, shp: tuple, axis, keepdims: bool):
    """The adjoint of summing over ``axis``: broadcast ``g`` back to shape ``shp``."""
    g = kept(g, shp, axis, keepdims)
    if shape(g) == shp:
        return g
    if is_raw(g):
        return np.broadcast_to(g, shp)
    return broadcast_to_(g, shp)


def exp(x):
    return np.exp(x) if is_raw(x) else x.exp()


def log(x):
    return np.log(x) if is_raw(x) else x.log()


def sigmoid_(x):
    return _sigmoid(x) if is_raw(x) else x.sigmoid()


def mask(cond, like):
    """``cond`` (booleans, or numbers such as signs) as a constant in ``like``'s dtype."""
    if isinstance(like, (int, float)):  # a scalar; cond is an array where it broadcast
        return cond.astype(np.float64) if isinstance(cond, np.ndarray) else float(cond)
    return np.asarray(cond, dtype=like.dtype)


# ---- forwards that keep Python floats on the scalar path ------------------------------------


def _elementwise(scalar_fn, array_fn):
    return lambda x: scalar_fn(x) if type(x) is float else array_fn(x)


def _log(x):
    with np.errstate(divide="ignore"):  # log(0) = -inf, quietly
        return np.log(x)


def _sigmoid(x):
    """1 / (1 + e^-x), evaluated without overflow for either sign of x."""
    if type(x) is float:
        if x >= 0:
            return 1.0 / (1.0 + math.exp(-x))
        e = math.exp(x)
        return e / (1.0 + e)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _softplus(x):
    """log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), exact for any x."""
    if type(x) is float:
        return max(x, 0.0) + math.log1p(math.exp(-abs(x)))
    return np.logaddexp(0, x)


def _pow(x, y):
    r = x**y
    return math.nan if type(r) is complex else r  # (-8.0) ** 0.5 is nan, as in NumPy


def power(x, y):
    """x ** y on raw data (floats as NumPy: nan, not complex) and on Values alike."""
    return _pow(x, y) if is_raw(x) and is_raw(y) else x**y


def _logsumexp(x, axis, keepdims):
    """log sum exp x, shifted by the max so that nothing overflows."""
    if type(x) is float or x.ndim == 0:
        check_0d_axis(axis)
        return x if type(x) is float else x.copy()  # the log-sum-exp of one number is itself
    if x.size == 0:  # log of an empty sum: -inf (max has no identity for the shift)
        return np.full(reduced_shape(x.shape, axis, keepdims), -np.inf, x.dtype)
    m = shift_kept(x, axis)
    with np.errstate(divide="ignore"):
        r = np.log(sum_kept(np.exp(x - m), axis)) + m
    return r if keepdims else r.reshape(reduced_shape(x.shape, axis, keepdims=False))


def check_0d_axis(axis) -> None:
    """Reducing a scalar: NumPy takes axis None, (), 0 or -1 (tuples of them); others are out
    of bounds."""
    for a in () if axis is None else (axis,) if isinstance(axis, int) else axis:
        if a not in (0, -1):
            raise np.exceptions.AxisError(a, 0)


def _max(x, axis, keepdims):
    if type(x) is float:
        check_0d_axis(axis)
        return x
    return x.max(axis=axis, keepdims=keepdims)


def _sum(x, axis, keepdims):
    if type(x) is float:
        check_0d_axis(axis)
        return x
    return x.sum(axis=axis, keepdims=keepdims)


def _softmax(x, axis):
    """e^(x - max) / sum e^(x - max), with the temporaries reused in place."""
    if x.size == 0:
        return x.copy()
    e = np.subtract(x, max_kept(x, axis))
    np.exp(e, out=e)
    e /= sum_kept(e, axis)
    return e


def _softmax_vjp(g, ans, x, axis):
    """J^T g for J = diag(s) - s s^T: s * (g - <g, s>)."""
    if is_raw(g) and np.ndim(g) > 0 and axis in (-1, np.ndim(g) - 1):
        # The same in two temporaries fewer: <g, s> row by row without forming g * s, then
        # one array updated in place (a benchmark showed it pays).
        r = np.subtract(g, np.einsum("...i,...i->...", g, ans)[..., None])
        r *= ans
        return r
    return ans * (g - (g * ans).sum(axis=axis, keepdims=True))


def _softmax_cross_entropy(x, t):
    """logsumexp(x) - x_t per row (classes on the last axis, ``t`` integer indices of shape
    x.shape[:-1]), for x finite or -inf with a finite maximum in every row (a -inf class gets
    probability 0; +inf if it is x_t); softmax(x), made on the way, is saved for the VJP."""
    m = max_kept(x, -1)
    with np.errstate(over="ignore"):  # x - m below -max float: -inf, and e^-inf = 0
        e = np.exp(x - m)
    s = sum_kept(e, -1)
    r = np.log(s[..., 0]) + (m[..., 0] - x[_at_targets(t)])  # m - x_t first: exact near 0
    e /= s
    return r, (e,)


def _softmax_cross_entropy_vjp(g, ans, x, t, softmax_x):
    """g (softmax(x) - onehot(t)), row by row."""
    if is_raw(g):
        r = softmax_x * g[..., None]
        r[_at_targets(t)] -= g
        return r
    onehot = np.zeros(shape(x), raw(x).dtype)
    onehot[_at_targets(t)] = 1
    return kept(g, shape(x), -1, False) * (x.softmax(-1) - onehot)


def _at_targets(t):
    """The index of x[..., t] row by row: one entry per row, for any rank."""
    return (*np.indices(t.shape, sparse=True), t)


def _positive(x) -> bool:
    """Whether every entry is > 0 (one reduction): then x log x and x log y need no mask."""
    xr = raw(x)
    return xr > 0 if isinstance(xr, (int, float)) else xr.size == 0 or xr.min() > 0


def one_where_both_zero(x, y):
    """``y`` with 1 where x = y = 0, so that x log y and x / y are 0 there (0 log 0 = 0)."""
    if _positive(y):
        return y
    xr, yr = raw(x), raw(y)
    both_zero = (xr == 0) & (yr == 0)
    if isinstance(both_zero, (bool, np.bool_)):  # two scalars
        return y + 1.0 if both_zero else y
    if isinstance(y, np.ndarray):  # raw: y + 0 would turn -0.0 into 0.0 (and flip 1/y)
        return np.where(both_zero, y.dtype.type(1), y)
    return y + mask(both_zero, yr if isinstance(yr, np.ndarray) else xr)


def _xlogx_vjp(g, ans, x):
    """d(x log x)/dx = log x + 1, read off the answer as ans / x + 1 (no second log); 0 at 0."""
    if _positive(x):
        if is_raw(ans):  # the same, in one temporary (a benchmark showed it pays)
            d = np.divide(ans, x)
            d += 1
            d *= g
            return d
        return g * (ans / x + 1)
    zero = mask(raw(x) == 0, raw(x))
    return g * (ans / (x + zero) + (1 - zero))


def _xlogy(x, y):
    y = one_where_both_zero(x, y)
    if type(x) is float and type(y) is float:
        return x * math.log(y) if y > 0 else x * _log(np.float64(y))
    r = float(_log(y)) if isinstance(y, (int, float)) else _log(y)  # a number must not widen x
    if type(r) is np.ndarray and r.shape == np.shape(x) and r.dtype == np.result_type(x, r):
        r *= x  # in place: one temporary, not two
        return r
    return x * r


def _kl_to(x, m, out):
    """sum_i x_i log(x_i / m_i) over the last axis (0 log 0 = 0), and log(x / m) written into
    ``out`` for the VJPs; None instead of it where x has a zero (its gradient needs the
    0 log 0 convention, see ``_js_vjp``)."""
    log_xm = np.log(np.divide(x, m, out=out), out=out)
    kl = np.einsum("...i,...i->...", x, log_xm)
    if np.isnan(kl).any():  # 0 * log(0 / m) gave nan: those terms are 0
        return np.einsum("...i,...i->...", x, np.where(x == 0, 0, log_xm)), None
    return kl, log_xm


def _js(p, q):
    """JSD(p, q) along the last axis: (sum p log(p / m) + sum q log(q / m)) / 2, m = (p + q) / 2.

    Saves log(p / m) and log(q / m), twice the gradients, for the VJPs (see ``_kl_to``).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.add(p, q)
        m *= 0.5
        kl_p, log_pm = _kl_to(p, m, np.empty_like(m))
        kl_q, log_qm = _kl_to(q, m, m)  # m is not needed after this
    return (kl_p + kl_q) * 0.5, (log_pm, log_qm)


def _js_vjp(g, x, other, log_xm):
    """dJSD/dx = (L(x) - L(m)) / 2 with L(t) = d(t log t)/dt = log t + 1, taken as 0 at t = 0.

    Where x > 0 that is log(x / m) / 2, saved by the forward as ``log_xm``.
    """
    g = kept(g, shape(x), -1, False) * 0.5
    if is_raw(g) and log_xm is not None:
        return g * log_xm
    m = (x + other) * 0.5
    zx, zm = mask(raw(x) == 0, raw(x)), mask(raw(m) == 0, raw(m))
    return g * ((log(x + zx) + 1) * (1 - zx) - (log(m + zm) + 1) * (1 - zm))


def _relu_vjp(g, ans, x):
    """g where x > 0, else 0; on arrays, a 0/1 mask in g's dtype multiplied by g in place."""
    if type(x) is float:
        return g if x > 0 else 0.0
    if type(x) is np.ndarray and type(g) is np.ndarray and x.shape == g.shape:
        m = mask(x > 0, g)
        return np.multiply(m, g, out=m)
    return g * (raw(x) > 0)


def _getitem(x, idx):
    """x[idx]; a scalar float is indexed as the 0-d array it stands for (v[()], v[None])."""
    return (np.asarray(x) if type(x) is float else x)[idx]


def _clip(x, lo, hi):
    if type(x) is float and not isinstance(lo, np.ndarray) and not isinstance(hi, np.ndarray):
        if lo != lo or hi != hi:  # a NaN bound: NaN, as np.clip (max and min would skip it)
            return math.nan
        return min(x if lo is None else max(x, lo), math.inf if hi is None else hi)
    return np.clip(x, lo, hi)


def _inside(x, lo, hi):
    """lo <= x <= hi, a bound of None being no limit: where clip passes its gradient (as
    PyTorch's clamp: nowhere if lo > hi, where the result is hi whatever x is)."""
    inside = True
    if lo is not None:
        inside = inside & (x >= lo)
    if hi is not None:
        inside = inside & (x <= hi)
    return inside


def _scatter(g, shp, idx):
    """Zeros of shape ``shp`` with ``g`` added at ``idx`` (repeated indices accumulate)."""
    out = np.zeros(shp, dtype=np.result_type(g))
    np.add.at(out, idx, g)
    return out


def _max_vjp(g, ans, x, axis, keepdims):
    """The gradient of max flows to the maxima, split evenly between ties."""
    shp, xr = shape(x), raw(x)
    is_max = xr == kept(raw(ans), shp, axis, keepdims)
    share = is_max / np.sum(is_max, axis=axis, keepdims=True)
    return expand(g, shp, axis, keepdims) * mask(share, xr)


def _matmul_vjp(g, x, y, argnum):
    """d(x @ y): g @ y^T for x, x^T @ g for y, with 1-d operands promoted as matmul does."""
    xd, yd = len(shape(x)), len(shape(y))
    if xd == 2 and yd == 2:  # the common case
        return g @ y.T if argnum == 0 else x.T @ g
    if xd == 1 and yd == 1:
        return g * (y if argnum == 0 else x)
    if xd == 1:
        x, g = x.reshape((1, -1)), g.reshape(shape(g)[:-1] + (1, shape(g)[-1]))
    if yd == 1:
        y, g = y.reshape((-1, 1)), g.reshape(shape(g) + (1,))
    if argnum == 0:
        r = g @ swap_last(y)
        return r.reshape(shape(r)[:-2] + (shape(r)[-1],)) if xd == 1 else r
    r = swap_last(x) @ g
    return r.reshape(shape(r)[:-1]) if yd == 1 else r


def swap_last(a):
    n = len(shape(a))
    return a.transpose(tuple(range(n - 2)) + (n - 1, n - 2))


# ---- the table -----------------------------------------------------------------------------
# fmt: off
add = Primitive("+", operator.add,
                lambda g, ans, x, y: g,
                lambda g, ans, x, y: g)
sub = Primitive("-", operator.sub,
                lambda g, ans, x, y: g,
                lambda g, ans, x, y: -g)
mul = Primitive("*", operator.mul,
                lambda g, ans, x, y: g * y,
                lambda g, ans, x, y: g * x)
div = Primitive("/", operator.truediv,
                lambda g, ans, x, y: g / y,
                lambda g, ans, x, y: -g * ans / y)
# As in PyTorch: d(x^y)/dx = y x^(y-1) is 0 where y = 0 (x^(y-1+[y=0]) keeps 0 * inf away),
# and d(x^y)/dy = x^y log x is 0 where x = 0 <= y (log(x + [x=0<=y]) is 0 there; where y < 0
# it is inf * log 0 = -inf).
pow_ = Primitive("**", _pow,
                 lambda g, ans, x, y: g * y * power(x, y - 1 + mask(raw(y) == 0, raw(y))),
                 lambda g, ans, x, y:
                 g * ans * log(x + mask((raw(x) == 0) & (raw(y) >= 0), raw(x))))
matmul = Primitive("@", operator.matmul,
                   lambda g, ans, x, y: _matmul_vjp(g, x, y, 0),
                   lambda g, ans, x, y: _matmul_vjp(g, x, y, 1))
identity = Primitive("identity", lambda x: x,                 # grad() wraps an argument
                     lambda g, ans, x: g)                      # that is already in a graph
neg = Primitive("neg", operator.neg,
                lambda g, ans, x: -g)
exp_ = Primitive("exp", _elementwise(math.exp, np.exp),
                 lambda g, ans, x: g * ans)
log_ = Primitive("log", _elementwise(math.log, _log),
                 lambda g, ans, x: g / x)
sqrt = Primitive("sqrt", _elementwise(math.sqrt, np.sqrt),     # d/dx at 0: inf, as PyTorch
                 lambda g, ans, x: g / (ans * 2))
abs_ = Primitive("abs", _elementwise(abs, np.abs),             # d/dx at 0: 0, as PyTorch
                 lambda g, ans, x: g * mask(np.sign(raw(x)), raw(x)))
tanh = Primitive("tanh", _elementwise(math.tanh, np.tanh),
                 lambda g, ans, x: g * (1 - ans * ans))
relu = Primitive("relu", _elementwise(lambda x: 0.0 if x <= 0 else x, lambda x: np.maximum(x, 0)),
                 _relu_vjp)
sigmoid = Primitive("sigmoid", _sigmoid,
                    lambda g, ans, x: g * ans * (1 - ans))
softplus = Primitive("softplus", _softplus,                    # derivative: sigmoid(x)
                     lambda g, ans, x: g * sigmoid_(x))
clip = Primitive("clip", _clip,                               # gradient 1 inside [lo, hi]
                 lambda g, ans, x, lo, hi: g * mask(_inside(raw(x), lo, hi), raw(x)))
sum_ = Primitive("sum", _sum,
                 lambda g, ans, x, axis, keepdims: expand(g, shape(x), axis, keepdims))
max_ = Primitive("max", _max, _max_vjp)
logsumexp = Primitive("logsumexp", _logsumexp,               # gradient: softmax(x)
                      lambda g, ans, x, axis, keepdims:
                      kept(g, shape(x), axis, keepdims)
                      * exp(x - kept(ans, shape(x), axis, keepdims)))
softmax = Primitive("softmax", _softmax, _softmax_vjp)
softmax_cross_entropy = Primitive("softmax_cross_entropy",      # fused: a benchmark showed
                                  _softmax_cross_entropy,       # it pays (W3, batch 32)
                                  _softmax_cross_entropy_vjp)
xlogy = Primitive("xlogy", _xlogy,                            # 0 log 0 = 0, with gradients 0
                  lambda g, ans, x, y: g * log(one_where_both_zero(x, y)),
                  lambda g, ans, x, y: g * x / one_where_both_zero(x, y))
xlogx = Primitive("xlogx", lambda x: _xlogy(x, x), _xlogx_vjp)  # 0 log 0 = 0, gradient 0
js_divergence = Primitive("js_divergence", _js,                # per row, over the last axis
                          lambda g, ans, p, q, log_pm, log_qm: _js_vjp(g, p, q, log_pm),
                          lambda g, ans, p, q, log_pm, log_qm: _js_vjp(g, q, p, log_qm))
reshape = Primitive("reshape", np.reshape,
                    lambda g, ans, x, shp: g.reshape(shape(x)))
transpose = Primitive("transpose", np.transpose,
                      lambda g, ans, x, axes:
                      g.transpose(None if axes is None else tuple(np.argsort(axes))))
getitem = Primitive("getitem", _getitem,
                    lambda g, ans, x, idx: scatter(g, shape(x), idx))
scatter_ = Primitive("scatter", _scatter,                    # the adjoint of getitem
                     lambda g, ans, x, shp, idx: g[idx])
broadcast_to = Primitive("broadcast_to", np.broadcast_to,
                         lambda g, ans, x, shp: sum_to(g, shape(x)))
astype_ = Primitive("astype", lambda x, dtype: np.asarray(x, dtype),  # casts a gradient of
                    lambda g, ans, x, dtype: astype(g, np.result_type(raw(x))))  # create_graph
# fmt: on


def scatter(g, shp, idx):
    return _scatter(g, shp, idx) if is_raw(g) else g._unary(scatter_, shp, idx)


def broadcast_to_(x, shp):
    return x._unary(broadcast_to, shp)


def astype(x, dtype):
    """``x`` in ``dtype``: a cast of raw data, or a node (cast back by its VJP) on a Value."""
    return np.asarray(x, dtype) if is_raw(x) else x._unary(astype_, np.dtype(dtype))
