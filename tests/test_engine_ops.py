"""Every op and method of the contract: forward against NumPy, gradient against gradcheck.

Inputs are kept away from kinks (relu, abs, clip, max): no values near 0, near a clip bound or
tied for a maximum.  A non-scalar output is reduced with a fixed weighted sum, so that every
element of the gradient matters.
"""

import zlib

import numpy as np
import pytest
import scipy.special as sp

from autograd_core import Value, grad, gradcheck, no_grad

SHAPES = {
    "float": None,  # a Python float
    "0d": (),
    "3": (3,),
    "2x3": (2, 3),
    "2x3x4": (2, 3, 4),
}


def _rng(*key):
    """A generator seeded by ``key`` (stable across runs: no ``hash``)."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def away(shape, lo=-1.5, hi=1.5, avoid=(0.0,), gap=0.15, key=0):
    """Uniform data in [lo, hi] at least ``gap`` from each point of ``avoid``; None: a float."""
    rng = _rng(shape, lo, hi, avoid, key)
    shp = () if shape is None else shape
    x = rng.uniform(lo, hi, size=shp)
    bad = np.zeros(shp, dtype=bool)
    for p in avoid:
        bad |= np.abs(x - p) < gap
    while bad.any():
        x[bad] = rng.uniform(lo, hi, size=int(bad.sum()))
        bad = np.zeros(shp, dtype=bool)
        for p in avoid:
            bad |= np.abs(x - p) < gap
    return float(x) if shape is None else np.asarray(x)


def positive(shape, key=0):
    return away(shape, 0.5, 2.0, avoid=(), key=key)


def weights(shape):
    """Fixed weights of mixed sign, none of them zero."""
    if shape == ():
        return 0.8
    n = int(np.prod(shape))
    return np.sin(np.arange(1, n + 1) * 1.7).reshape(shape) + 0.05


def wsum(out):
    """A scalar Value depending on every element of ``out``."""
    w = weights(out.shape)
    return (out * w).sum() if out.shape != () else out * w


def check_grad(fn, *inputs):
    assert gradcheck(lambda *vs: wsum(fn(*vs)), *inputs) is True


def close(v, ref, **kw):
    assert isinstance(v, Value)
    np.testing.assert_allclose(np.asarray(v), ref, rtol=kw.get("rtol", 1e-12), atol=1e-13)


def nd(x):
    return np.asarray(x, dtype=np.float64)


# ---- elementwise unary ------------------------------------------------------------------

UNARY = {
    # name: (Value op, NumPy reference, data maker)
    "neg": (lambda v: -v, lambda a: -a, away),
    "exp": (lambda v: v.exp(), np.exp, away),
    "log": (lambda v: v.log(), np.log, positive),
    "sqrt": (lambda v: v.sqrt(), np.sqrt, positive),
    "abs": (lambda v: v.abs(), np.abs, away),
    "tanh": (lambda v: v.tanh(), np.tanh, away),
    "relu": (lambda v: v.relu(), lambda a: np.maximum(a, 0), away),
    "sigmoid": (lambda v: v.sigmoid(), sp.expit, away),
}


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("name", UNARY)
def test_unary_forward_and_gradient(name, shape):
    op, ref, make = UNARY[name]
    x = make(shape)
    out = op(Value(x))
    close(out, ref(nd(x)))
    if shape is None:
        assert type(out.data) is float
    else:
        assert out.shape == shape
    check_grad(op, x)


def test_unary_gradients_have_the_closed_forms():
    x = away((2, 3))
    cases = {
        "neg": -np.ones_like(x),
        "exp": np.exp(x),
        "tanh": 1 - np.tanh(x) ** 2,
        "relu": (x > 0).astype(float),
        "abs": np.sign(x),
        "sigmoid": sp.expit(x) * (1 - sp.expit(x)),
    }
    for name, expected in cases.items():
        v = Value(x)
        UNARY[name][0](v).sum().backward()
        np.testing.assert_allclose(v.grad, expected, rtol=1e-12, err_msg=name)
    p = positive((2, 3))
    for name, expected in {"log": 1 / p, "sqrt": 0.5 / np.sqrt(p)}.items():
        v = Value(p)
        UNARY[name][0](v).sum().backward()
        np.testing.assert_allclose(v.grad, expected, rtol=1e-12, err_msg=name)


# ---- clip ---------------------------------------------------------------------------------

CLIPS = {
    "lo only": ((-0.5,), {}, lambda a: np.maximum(a, -0.5)),
    "hi only": ((None, 0.4), {}, lambda a: np.minimum(a, 0.4)),
    "hi keyword": ((), {"hi": 0.4}, lambda a: np.minimum(a, 0.4)),
    "lo keyword": ((), {"lo": -0.5}, lambda a: np.maximum(a, -0.5)),
    "both": ((-0.5, 0.4), {}, lambda a: np.clip(a, -0.5, 0.4)),
}


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("form", CLIPS)
def test_clip(form, shape):
    args, kwargs, ref = CLIPS[form]
    x = away(shape, avoid=(-0.5, 0.4), gap=0.1)
    out = Value(x).clip(*args, **kwargs)
    close(out, ref(nd(x)))
    check_grad(lambda v: v.clip(*args, **kwargs), x)
    v = Value(x)
    v.clip(*args, **kwargs).sum().backward()
    np.testing.assert_array_equal(np.asarray(v.grad), (ref(nd(x)) == nd(x)).astype(float))


def test_clip_on_both_sides_of_a_scalar():
    for x, lo, hi, value, g in [(2.0, -1.0, 1.0, 1.0, 0.0), (-2.0, -1.0, 1.0, -1.0, 0.0)]:
        v = Value(x)
        out = v.clip(lo, hi)
        out.backward()
        assert out.data == value and type(out.data) is float
        assert v.grad == g
    v = Value(0.3)
    v.clip(-1.0, 1.0).backward()
    assert v.grad == 1.0


@pytest.mark.parametrize("make", [float, np.array], ids=["float", "array"])
def test_clip_with_lo_above_hi_is_hi_everywhere_with_gradient_zero(make):
    """np.clip gives hi wherever lo > hi, whatever x is: as PyTorch's clamp, no gradient,
    even where x happens to equal hi."""
    for x in (-1.0, 0.0, 2.0):
        v = Value(make(x))
        out = v.clip(1.0, -1.0)
        out.sum().backward()
        assert float(out.data) == -1.0 and float(v.grad) == 0.0


# ---- binary operators with broadcasting -----------------------------------------------------

PAIRS = {
    "float,float": (None, None),
    "0d,0d": ((), ()),
    "3,3": ((3,), (3,)),
    "2x3,2x3": ((2, 3), (2, 3)),
    "2x3x4,2x3x4": ((2, 3, 4), (2, 3, 4)),
    "3x1,4": ((3, 1), (4,)),
    "4,3x1": ((4,), (3, 1)),
    "2x3,float": ((2, 3), None),
    "float,2x3": (None, (2, 3)),
    "1x3,2x1": ((1, 3), (2, 1)),
    "2x1,1x3": ((2, 1), (1, 3)),
    "2x3x4,3x1": ((2, 3, 4), (3, 1)),
    "0d,2x3": ((), (2, 3)),
}


def bshape(a, b):
    return np.broadcast_shapes(() if a is None else a, () if b is None else b)


BINARY = {
    "+": (lambda a, b: a + b, lambda s: away(s, key=1), lambda s: away(s, key=2)),
    "-": (lambda a, b: a - b, lambda s: away(s, key=1), lambda s: away(s, key=2)),
    "*": (lambda a, b: a * b, lambda s: away(s, key=1), lambda s: away(s, key=2)),
    "/": (lambda a, b: a / b, lambda s: away(s, key=1), lambda s: away(s, avoid=(0,), gap=0.5)),
    "**": (lambda a, b: a**b, positive, lambda s: away(s, key=3)),
}


@pytest.mark.parametrize("pair", PAIRS.values(), ids=PAIRS.keys())
@pytest.mark.parametrize("op", BINARY)
def test_binary_value_with_value(op, pair):
    fn, make_a, make_b = BINARY[op]
    a, b = make_a(pair[0]), make_b(pair[1])
    out = fn(Value(a), Value(b))
    close(out, fn(nd(a), nd(b)))
    assert out.shape == bshape(*pair)
    if pair == (None, None):
        assert type(out.data) is float
    check_grad(fn, a, b)


@pytest.mark.parametrize("pair", [p for p in PAIRS.values() if p[1] is not None])
@pytest.mark.parametrize("op", BINARY)
def test_binary_value_with_array_constant(op, pair):
    """Value (op) ndarray and ndarray (op) Value: the array is a constant, the result a Value."""
    fn, make_a, make_b = BINARY[op]
    a, b = make_a(pair[0]), make_b(pair[1])
    assert isinstance(fn(Value(a), b), Value)
    close(fn(Value(a), b), fn(nd(a), nd(b)))
    check_grad(lambda v: fn(v, b), a)
    # the reflected form: the array is on the left
    b_left, a_right = make_a(pair[1]), make_b(pair[0])
    out = fn(b_left, Value(a_right))
    assert isinstance(out, Value)
    close(out, fn(nd(b_left), nd(a_right)))
    check_grad(lambda v: fn(b_left, v), a_right)


NUMBERS = {
    "+": [2.5, 3, -1.25],
    "-": [2.5, 3, -1.25],
    "*": [2.5, 3, -1.25],
    "/": [2.5, 3, -1.25],
    "**": [2.0, 3, -1.5, 0.5],
}


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("op, c", [(op, c) for op, cs in NUMBERS.items() for c in cs])
def test_binary_value_with_numbers_both_sides(op, c, shape):
    fn = BINARY[op][0]
    x = positive(shape) if op == "**" else away(shape, avoid=(0,), gap=0.3)
    close(fn(Value(x), c), fn(nd(x), c))
    check_grad(lambda v: fn(v, c), x)
    # reflected: the number on the left (a positive base for **)
    left = abs(c) if op == "**" else c
    out = fn(left, Value(x))
    assert isinstance(out, Value)
    close(out, fn(left, nd(x)))
    check_grad(lambda v: fn(left, v), x)


def test_pow_with_a_value_exponent_has_both_partials():
    x, y = Value(1.7), Value(-0.6)
    (x**y).backward()
    assert x.grad == pytest.approx(-0.6 * 1.7**-1.6, rel=1e-12)
    assert y.grad == pytest.approx(1.7**-0.6 * np.log(1.7), rel=1e-12)
    a = positive((2, 3))
    b = away((3,))
    va, vb = Value(a), Value(b)
    (va**vb).sum().backward()
    np.testing.assert_allclose(va.grad, b * a ** (b - 1), rtol=1e-12)
    np.testing.assert_allclose(vb.grad, (a**b * np.log(a)).sum(0), rtol=1e-12)


def test_reflected_pow_with_an_int_base():
    """``2 ** v``: an int constant on the left; its gradient is 2**v log 2."""
    v = Value(0.5)
    out = 2**v
    assert out.data == pytest.approx(2**0.5)
    out.backward()
    assert v.grad == pytest.approx(2**0.5 * np.log(2), rel=1e-12)
    a = Value(np.array([0.5, 1.5]))
    (3**a).sum().backward()
    np.testing.assert_allclose(a.grad, 3 ** np.array([0.5, 1.5]) * np.log(3), rtol=1e-12)


def test_unary_minus_and_subtraction_signs():
    x = Value(np.array([1.0, -2.0]))
    (-x).sum().backward()
    np.testing.assert_array_equal(x.grad, [-1.0, -1.0])
    a, b = Value(3.0), Value(5.0)
    (a - b).backward()
    assert (a.grad, b.grad) == (1.0, -1.0)
    c = Value(2.0)
    (10.0 - c).backward()
    assert c.grad == -1.0
    d = Value(2.0)
    (10.0 / d).backward()
    assert d.grad == pytest.approx(-2.5)


# ---- matmul -------------------------------------------------------------------------------

MATMULS = {
    "2d@2d": ((2, 3), (3, 4)),
    "1d@2d": ((3,), (3, 4)),
    "2d@1d": ((2, 3), (3,)),
    "1d@1d": ((3,), (3,)),
    "3d@2d": ((2, 2, 3), (3, 4)),
    "2d@3d": ((4, 2), (3, 2, 3)),
    "3d@1d": ((2, 4, 3), (3,)),
    "1d@3d": ((3,), (2, 3, 4)),
    "4d@3d broadcast": ((2, 1, 2, 3), (3, 3, 2)),
    "3d@3d broadcast": ((1, 2, 3), (2, 3, 2)),
}


@pytest.mark.parametrize("shapes", MATMULS.values(), ids=MATMULS.keys())
def test_matmul(shapes):
    a, b = away(shapes[0], key=4), away(shapes[1], key=5)
    out = Value(a) @ Value(b)
    close(out, a @ b)
    assert out.shape == np.shape(a @ b)
    check_grad(lambda x, y: x @ y, a, b)
    # with a constant array on either side; the array on the left is the reflected form
    assert isinstance(a @ Value(b), Value)
    close(a @ Value(b), a @ b)
    close(Value(a) @ b, a @ b)
    check_grad(lambda y: a @ y, b)
    check_grad(lambda x: x @ b, a)


def test_matmul_gradients_are_the_transposed_products():
    a, b = away((2, 3), key=6), away((3, 4), key=7)
    va, vb = Value(a), Value(b)
    g = weights((2, 4))
    (va @ vb).backward(g)
    np.testing.assert_allclose(va.grad, g @ b.T, rtol=1e-12)
    np.testing.assert_allclose(vb.grad, a.T @ g, rtol=1e-12)
    x = Value(a[0])
    (x @ x).backward()
    np.testing.assert_allclose(x.grad, 2 * a[0], rtol=1e-12)


# ---- reductions ---------------------------------------------------------------------------

AXES = [None, 0, 1, -1, 2, -2, (0, 2), (-1, 0), (0, 1, 2), [0, 1]]


def distinct(shape, key=0):
    """Distinct values, at least 0.1 apart: no ties for max."""
    n = int(np.prod(shape))
    vals = np.linspace(-1.5, 1.5, n) + _rng(shape, key).uniform(-0.02, 0.02, n)
    return _rng(shape, key, 1).permutation(vals).reshape(shape)


REDUCTIONS = {
    "sum": (lambda v, ax, kd: v.sum(ax, keepdims=kd), np.sum),
    "sum kw": (lambda v, ax, kd: v.sum(axis=ax, keepdims=kd), np.sum),
    "mean": (lambda v, ax, kd: v.mean(ax, keepdims=kd), np.mean),
    "max": (lambda v, ax, kd: v.max(ax, keepdims=kd), np.max),
    "logsumexp": (lambda v, ax, kd: v.logsumexp(ax, keepdims=kd), sp.logsumexp),
}


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reductions_on_3d(name, axis, keepdims):
    op, ref = REDUCTIONS[name]
    x = distinct((2, 3, 4))
    nax = tuple(axis) if isinstance(axis, list) else axis
    out = op(Value(x), axis, keepdims)
    expected = ref(x, axis=nax, keepdims=keepdims)
    close(out, expected)
    assert out.shape == np.shape(expected)
    check_grad(lambda v: op(v, axis, keepdims), x)


@pytest.mark.parametrize("shape", [(3,), (2, 3), (1,), ()])
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reductions_on_small_shapes(name, shape):
    op, ref = REDUCTIONS[name]
    x = distinct(shape)
    for axis in [None] + ([0, -1] if shape else []):
        for keepdims in (False, True):
            out = op(Value(x), axis, keepdims)
            expected = ref(x, axis=axis, keepdims=keepdims)
            close(out, expected)
            # the shape NumPy's reductions give (scipy's logsumexp makes 0-d inputs 1-d)
            assert out.shape == np.sum(x, axis=axis, keepdims=keepdims).shape
            check_grad(lambda v, a=axis, k=keepdims: op(v, a, k), x)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "logsumexp"])
def test_reductions_of_a_python_float(name):
    op = REDUCTIONS[name][0]
    v = Value(0.7)
    out = op(v, None, False)
    assert float(out) == pytest.approx(0.7)
    out.backward()
    assert v.grad == pytest.approx(1.0)
    check_grad(lambda u: op(u, None, False), 0.7)
    assert float(op(Value(0.7), 0, False)) == pytest.approx(0.7)  # axis 0 of a 0-d, as NumPy


def test_builtin_abs_and_unary_plus():
    x = Value(np.array([-2.0, 3.0]))
    y = abs(x)
    assert y.op == "abs" and (+x) is x
    y.sum().backward()
    np.testing.assert_array_equal(y.data, [2.0, 3.0])
    np.testing.assert_array_equal(x.grad, [-1.0, 1.0])


def test_sum_mean_max_gradients_have_the_closed_forms():
    x = distinct((2, 3))
    v = Value(x)
    v.sum(axis=1).backward(np.array([2.0, -1.0]))
    np.testing.assert_array_equal(v.grad, [[2.0] * 3, [-1.0] * 3])
    v = Value(x)
    v.mean(axis=0, keepdims=True).backward(np.array([[3.0, 6.0, 9.0]]))
    np.testing.assert_allclose(v.grad, [[1.5, 3.0, 4.5]] * 2)
    v = Value(x)
    v.max(axis=1).backward(np.array([1.0, 2.0]))
    expected = np.zeros_like(x)
    expected[0, x[0].argmax()] = 1.0
    expected[1, x[1].argmax()] = 2.0
    np.testing.assert_array_equal(v.grad, expected)
    v = Value(x)
    v.logsumexp(axis=-1).sum().backward()
    np.testing.assert_allclose(v.grad, sp.softmax(x, axis=-1), rtol=1e-12)


# ---- softmax and log_softmax --------------------------------------------------------------


@pytest.mark.parametrize(
    "shape, axis",
    [((3,), None), ((3,), 0), ((3,), -1), ((2, 3), None), ((2, 3), 0), ((2, 3), 1)]
    + [((2, 3, 4), a) for a in (None, 0, 1, 2, -1, -2)],
)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_and_log_softmax(name, shape, axis):
    x = away(shape, -2, 2, avoid=())
    ref_axis = -1 if axis is None else axis

    def op(v):
        f = getattr(v, name)
        return f() if axis is None else f(axis=axis)

    out = op(Value(x))
    close(out, getattr(sp, name)(x, axis=ref_axis), rtol=1e-10)
    assert out.shape == shape
    check_grad(op, x)
    if name == "softmax":
        np.testing.assert_allclose(np.asarray(out).sum(axis=ref_axis), 1.0, rtol=1e-12)


def test_softmax_positional_axis():
    x = away((2, 3), avoid=())
    close(Value(x).softmax(0), sp.softmax(x, axis=0), rtol=1e-10)
    close(Value(x).log_softmax(0), sp.log_softmax(x, axis=0), rtol=1e-10)


# ---- shapes: reshape, transpose, .T ---------------------------------------------------------

RESHAPES = {
    "tuple": ((2, 3, 4), ((4, 6),), (4, 6)),
    "varargs": ((2, 3, 4), (4, 6), (4, 6)),
    "list": ((2, 3, 4), ([6, 4],), (6, 4)),
    "-1 alone": ((2, 3, 4), (-1,), (24,)),
    "-1 tuple": ((2, 3, 4), ((2, -1),), (2, 12)),
    "-1 varargs": ((2, 3, 4), (-1, 2, 3), (4, 2, 3)),
    "int": ((2, 3), (6,), (6,)),
    "to 3d": ((6,), (1, 2, 3), (1, 2, 3)),
    "0d to 1": ((), (1,), (1,)),
    "1x1 to 0d tuple": ((1, 1), ((),), ()),
}


@pytest.mark.parametrize("case", RESHAPES.values(), ids=RESHAPES.keys())
def test_reshape(case):
    shape, args, expected = case
    x = away(shape)
    out = Value(x).reshape(*args)
    assert out.shape == expected
    close(out, np.reshape(x, expected))
    check_grad(lambda v: v.reshape(*args), x)


TRANSPOSES = {
    "no args 3d": ((2, 3, 4), (), None),
    "tuple": ((2, 3, 4), ((2, 0, 1),), (2, 0, 1)),
    "varargs": ((2, 3, 4), (1, 2, 0), (1, 2, 0)),
    "list": ((2, 3, 4), ([0, 2, 1],), (0, 2, 1)),
    "None": ((2, 3, 4), (None,), None),
    "no args 2d": ((2, 3), (), None),
    "tuple 2d": ((2, 3), ((1, 0),), (1, 0)),
    "varargs 2d": ((2, 3), (1, 0), (1, 0)),
    "1d": ((3,), (), None),
    "negative axes": ((2, 3, 4), ((-1, 0, 1),), (-1, 0, 1)),
    "negative axes 2d": ((2, 3), (-1, 0), (-1, 0)),
}


@pytest.mark.parametrize("case", TRANSPOSES.values(), ids=TRANSPOSES.keys())
def test_transpose(case):
    shape, args, np_axes = case
    x = away(shape)
    out = Value(x).transpose(*args)
    expected = np.transpose(x, np_axes)
    assert out.shape == expected.shape
    close(out, expected)
    check_grad(lambda v: v.transpose(*args), x)
    v = Value(x)
    g = weights(expected.shape)
    v.transpose(*args).backward(g)
    inverse = np.argsort([a % len(shape) for a in np_axes]) if np_axes is not None else None
    np.testing.assert_array_equal(v.grad, np.transpose(g, inverse))


@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 3, 4)])
def test_T(shape):
    x = away(shape)
    close(Value(x).T, x.T)
    assert Value(x).T.shape == x.T.shape
    check_grad(lambda v: v.T, x)


# ---- indexing -----------------------------------------------------------------------------

X34 = away((3, 4), key=8)
INDICES = {
    "int": 1,
    "negative int": -1,
    "two ints": (0, 2),
    "slice": slice(1, None),
    "reversed slice": slice(None, None, -1),
    "tuple with slices": (slice(None), slice(1, 3)),
    "ellipsis": (Ellipsis, 0),
    "int array": np.array([2, 0]),
    "repeated int array": np.array([0, 0, 2, 0]),
    "repeated list": [1, 1, 1],
    "2d int array": np.array([[0, 1], [1, 1]]),
    "boolean mask": X34 > 0,
    "boolean row mask": np.array([True, False, True]),
    "tuple int and array": (1, np.array([3, 3, 0])),
    "pair of arrays": (np.array([0, 2, 0]), np.array([1, 3, 1])),
    "slice and array": (slice(0, 2), np.array([1, 1])),
    "newaxis": (None, slice(None)),
}


@pytest.mark.parametrize("idx", INDICES.values(), ids=INDICES.keys())
def test_indexing(idx):
    out = Value(X34)[idx]
    expected = X34[idx]
    assert out.shape == np.shape(expected)
    close(out, expected)
    check_grad(lambda v: v[idx], X34)
    # the gradient is the weights scattered back, repeated indices accumulating
    v = Value(X34)
    g = weights(np.shape(expected))
    v[idx].backward(g)
    scattered = np.zeros_like(X34)
    np.add.at(scattered, idx if not isinstance(idx, list) else np.asarray(idx), g)
    np.testing.assert_allclose(v.grad, scattered, rtol=1e-12)


def test_repeated_indices_accumulate():
    v = Value(np.array([1.0, 2.0, 3.0]))
    v[np.array([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(v.grad, [3.0, 0.0, 1.0])
    m = Value(np.ones((2, 2)))
    m[np.array([1, 1]), np.array([0, 0])].sum().backward()
    np.testing.assert_array_equal(m.grad, [[0.0, 0.0], [2.0, 0.0]])


@pytest.mark.parametrize("idx", [(), Ellipsis, None, (None, None)], ids=repr)
def test_indexing_a_scalar_as_numpy_indexes_a_0d_array(idx):
    for make in (float, np.array):  # a Python-float scalar and a 0-d array alike
        v = Value(make(2.0))
        out = v[idx]
        assert out.shape == np.array(2.0)[idx].shape and float(out.sum()) == 2.0
        (out * 3).sum().backward()
        assert v.grad == 3.0 and type(v.grad) is type(v.data)


def test_indexing_a_1d_value_to_a_scalar():
    v = Value(np.array([1.0, 2.0, 3.0]))
    s = v[1]
    assert s.shape == () and float(s) == 2.0
    (s * s).backward()
    np.testing.assert_array_equal(v.grad, [0.0, 4.0, 0.0])


# ---- ops compose: a small expression against NumPy ------------------------------------------


def test_a_composite_expression_matches_numpy():
    x, w, b = away((4, 3), key=9), away((3, 2), key=10), away((2,), key=11)

    def f(x, w, b):
        h = (x @ w + b).tanh()
        return (h.log_softmax(axis=1) * h.sigmoid()).mean() + (x**2).sum(axis=0).sqrt().max()

    ref_h = np.tanh(x @ w + b)
    ref = (sp.log_softmax(ref_h, axis=1) * sp.expit(ref_h)).mean() + np.sqrt(
        (x**2).sum(axis=0)
    ).max()
    assert float(f(Value(x), Value(w), Value(b))) == pytest.approx(ref, rel=1e-12)
    assert gradcheck(f, x, w, b)


# ---- axis and shape arguments in NumPy's other forms -----------------------------------------

NUMPY_FORMS = {
    "sum axis np.int64": (lambda v: v.sum(axis=np.int64(1)), lambda a: a.sum(axis=1)),
    "mean axis np.int64": (lambda v: v.mean(np.int64(-1)), lambda a: a.mean(axis=-1)),
    "max axis np.int64": (lambda v: v.max(axis=np.int64(0)), lambda a: a.max(axis=0)),
    "logsumexp axis np.intp": (
        lambda v: v.logsumexp(axis=np.intp(1), keepdims=True),
        lambda a: sp.logsumexp(a, axis=1, keepdims=True),
    ),
    "softmax axis np.int64": (lambda v: v.softmax(axis=np.int64(0)), lambda a: sp.softmax(a, 0)),
    "sum axis tuple of np.int64": (
        lambda v: v.sum(axis=(np.int64(0), np.int64(1))),
        lambda a: a.sum(axis=(0, 1)),
    ),
    "reshape np.int64": (lambda v: v.reshape(np.int64(6)), lambda a: a.reshape(6)),
    "reshape np.int64 varargs": (
        lambda v: v.reshape(np.int64(3), np.int64(2)),
        lambda a: a.reshape(3, 2),
    ),
    "reshape ndarray": (lambda v: v.reshape(np.array([3, 2])), lambda a: a.reshape(3, 2)),
    "reshape shape of another array": (
        lambda v: v.reshape(np.zeros((3, 2)).shape),
        lambda a: a.reshape(3, 2),
    ),
    "transpose ndarray": (lambda v: v.transpose(np.array([1, 0])), lambda a: a.transpose(1, 0)),
}


@pytest.mark.parametrize("case", NUMPY_FORMS.values(), ids=NUMPY_FORMS.keys())
def test_axis_and_shape_arguments_take_numpy_integers_and_arrays(case):
    """The contract: shape and axis arguments take every form NumPy takes."""
    op, ref = case
    x = distinct((2, 3))
    close(op(Value(x)), ref(x), rtol=1e-12)
    check_grad(op, x)


# ---- Python's protocols: in-place operators, iteration, truth, conversions ----------------


def test_an_in_place_update_under_no_grad_keeps_the_parameter():
    """``p -= lr * p.grad`` under no_grad(), as in PyTorch: p keeps its identity and grad, gets
    new data in its dtype, and the array it held before (maybe the caller's) is not written."""
    w0 = np.array([1.0, 2.0], dtype=np.float32)
    p = Value(w0)
    (p * p).sum().backward()
    with no_grad():
        q = p
        p -= 0.25 * p.grad  # [0.5, 1]
        p *= 2.0
        p /= 4.0
        p += np.float64(1.0)
    assert q is p and p.dtype == np.float32 and p.op == "" and p.requires_grad
    np.testing.assert_allclose(p.data, [1.25, 1.5])  # (2 p / 4) + 1
    np.testing.assert_array_equal(p.grad, [2.0, 4.0])
    np.testing.assert_array_equal(w0, [1.0, 2.0])
    s = Value(3.0)
    with no_grad():
        s -= 1
    assert s.data == 2.0 and type(s.data) is float
    with no_grad(), pytest.raises(ValueError, match=r"\+=: the result has shape \(2, 2\)"):
        p += np.ones((2, 2))


def test_an_in_place_operator_on_a_parameter_outside_no_grad_raises():
    p = Value(np.ones(2))
    (p * p).sum().backward()  # a leaf holding a gradient: a parameter in training
    with pytest.raises(RuntimeError, match="-= on a leaf Value that holds a gradient"):
        p -= 0.1 * p.grad
    np.testing.assert_array_equal(p.data, [1.0, 1.0])
    with pytest.raises(RuntimeError, match=r"\*\*= on a leaf"):  # **= and @= too
        p **= 2.0
    with pytest.raises(RuntimeError, match="@= on a leaf"):
        p @= np.eye(2)
    with no_grad():
        p **= 2.0
        p @= np.array([[1.0, 2.0], [0.0, 1.0]])
    assert p.op == "" and np.array_equal(p.data, [1.0, 3.0])  # updated, still the leaf


def test_an_in_place_operator_on_a_fresh_leaf_makes_a_new_node():
    """As in micrograd, JAX and HIPS autograd: an accumulator, or an argument inside a
    function that grad() differentiates, is rebound to a new node."""
    acc = Value(0.0)
    acc += Value(2.0) * Value(3.0)
    assert acc.data == 6.0 and acc.op == "+"

    def f(x):
        x += 1.0
        x *= x
        return x.sum()

    np.testing.assert_allclose(grad(f)(np.array([1.0, 2.0])), [4.0, 6.0])
    assert gradcheck(f, np.array([1.0, 2.0]))


def test_an_in_place_operator_on_a_node_or_a_constant_makes_a_new_node():
    x = Value(2.0)
    h = x * 3.0
    before = h
    h += x  # h = 3x + x
    assert h is not before and h.op == "+"
    h.backward()
    assert x.grad == 4.0
    k = Value(1.0, requires_grad=False)
    k += x  # a constant plus x: a new node that x's gradient flows through
    assert k.requires_grad and k.op == "+"


def test_iteration_truth_and_conversions_as_for_arrays():
    v = Value(np.array([[1.0, 2.0], [3.0, 4.0]]))
    rows = list(v)
    assert len(rows) == 2 and all(r.op == "getitem" for r in rows)
    sum(rows).sum().backward()
    np.testing.assert_array_equal(v.grad, np.ones((2, 2)))
    with pytest.raises(TypeError, match="iteration over a 0-d Value"):
        iter(Value(2.0))
    assert bool(Value(1.0)) and not bool(Value(0.0)) and not bool(Value(np.array([0.0])))
    with pytest.raises(ValueError, match=r"truth value of a Value of shape \(2, 2\) is ambiguous"):
        bool(v)
    assert int(Value(3.7)) == 3 and int(Value(np.array([-2.5]))) == -2
    assert f"{Value(np.float32(2.5)):.3f}" == "2.500" and f"{Value(1.0)}" == repr(Value(1.0))
    with pytest.raises(ValueError, match="size 1"):
        f"{v:.2f}"


def test_comparisons_are_elementwise_booleans_outside_the_graph():
    v, s = Value(np.array([-1.0, 2.0])), Value(2.5)
    assert (s == 2.5) is True and (s < 3) is True and (s != Value(2.5)) is False
    np.testing.assert_array_equal(v > 0, [False, True])
    np.testing.assert_array_equal(np.array([0.0, 3.0]) <= v, [False, False])  # reflected
    np.testing.assert_array_equal(v == [-1, 2], [True, True])
    np.testing.assert_array_equal(v[v > 0].data, [2.0])  # a mask, as in NumPy
    assert (s == None) is False and (s != "a") is True  # noqa: E711
    with pytest.raises(TypeError):
        assert s < "a"
    a, b = Value(1.0), Value(1.0)
    assert a == b and len({a, b}) == 2 and {a: 1}[a] == 1  # equal data, distinct nodes

    class Tensorish:  # anything with __array__, such as a torch tensor
        def __array__(self, dtype=None, copy=None):
            return np.array([-1.0, 3.0])

    np.testing.assert_array_equal(v == Tensorish(), [True, False])
    assert round(Value(2.567), 1) == 2.6 and round(Value(np.array([2.5]))) == 2
