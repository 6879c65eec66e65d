"""grad, value_and_grad, higher-order derivatives and gradcheck."""

import numpy as np
import pytest

from autograd_core import Value, grad, gradcheck, value_and_grad


def test_arguments_to_differentiate_must_be_positional():
    with pytest.raises(TypeError, match=r"argnums 0: f was called with 0 positional argument"):
        grad(lambda x, y: x * y)(x=1.0, y=2.0)
    with pytest.raises(TypeError, match=r"argnums 1: f was called with 1 positional argument"):
        grad(lambda x: x * x, argnums=1)(2.0)
    assert grad(lambda x, y=3.0: x * y)(2.0, y=5.0) == 5.0  # keywords for the others are fine


# ---- second derivatives against closed forms ---------------------------------------------

SECOND = {
    # name: (f, f', f'', point)
    "x**3": (lambda x: x**3, lambda x: 3 * x**2, lambda x: 6 * x, 1.3),
    "tanh": (
        lambda x: x.tanh(),
        lambda x: 1 - np.tanh(x) ** 2,
        lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2),
        0.7,
    ),
    "exp": (lambda x: x.exp(), np.exp, np.exp, 0.4),
    "log": (lambda x: x.log(), lambda x: 1 / x, lambda x: -1 / x**2, 1.7),
    "sigmoid": (
        lambda x: x.sigmoid(),
        lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2,
        lambda x: (np.exp(-2 * x) - np.exp(-x)) / (1 + np.exp(-x)) ** 3,
        0.6,
    ),
    "sqrt": (lambda x: x.sqrt(), lambda x: 0.5 / np.sqrt(x), lambda x: -0.25 * x**-1.5, 2.0),
    "1/x": (lambda x: 1.0 / x, lambda x: -1 / x**2, lambda x: 2 / x**3, 1.5),
    "x**x": (
        lambda x: x**x,
        lambda x: x**x * (np.log(x) + 1),
        lambda x: x**x * ((np.log(x) + 1) ** 2 + 1 / x),
        1.4,
    ),
}


@pytest.mark.parametrize("name", SECOND)
def test_second_derivative_via_grad_of_grad(name):
    f, d1, d2, x0 = SECOND[name]
    assert grad(f)(x0) == pytest.approx(d1(x0), rel=1e-10)
    g2 = grad(grad(f))(x0)
    assert type(g2) is float
    assert g2 == pytest.approx(d2(x0), rel=1e-10)


@pytest.mark.parametrize("name", SECOND)
def test_second_derivative_via_backward_create_graph(name):
    f, d1, d2, x0 = SECOND[name]
    x = Value(x0)
    f(x).backward(create_graph=True)
    g = x.grad
    assert isinstance(g, Value) and g.requires_grad
    assert float(g) == pytest.approx(d1(x0), rel=1e-10)
    x.zero_grad()
    g.backward()
    assert float(x.grad) == pytest.approx(d2(x0), rel=1e-10)


@pytest.mark.parametrize("name", ["x**3", "tanh", "exp", "log"])
def test_second_derivatives_elementwise_on_tensors(name):
    f, _, d2, _ = SECOND[name]
    x0 = np.array([0.4, 1.1, 1.9])
    g2 = grad(lambda x: grad(lambda y: f(y).sum())(x).sum())(x0)
    assert isinstance(g2, np.ndarray) and g2.shape == (3,)
    np.testing.assert_allclose(g2, d2(x0), rtol=1e-10)


def test_third_derivative():
    assert grad(grad(grad(lambda x: x**4)))(1.5) == pytest.approx(24 * 1.5, rel=1e-10)
    assert grad(grad(grad(lambda x: x.exp())))(0.3) == pytest.approx(np.exp(0.3), rel=1e-10)


def test_mixed_partials():
    f = lambda x, y: x * x * y * y * y + (x * y).tanh()
    x0, y0 = 0.7, -0.4
    t = np.tanh(x0 * y0)
    expected = 6 * x0 * y0**2 + (1 - t**2) - 2 * x0 * y0 * t * (1 - t**2)
    assert grad(grad(f, 0), 1)(x0, y0) == pytest.approx(expected, rel=1e-10)
    assert grad(grad(f, 1), 0)(x0, y0) == pytest.approx(expected, rel=1e-10)


def test_mixed_partials_on_tensors():
    """d/dw of (d/dx sum(tanh(x @ w))) . v against finite differences."""
    x0 = np.array([[0.3, -0.5], [0.8, 0.1]])
    w0 = np.array([0.6, -0.2])
    v = np.array([[1.0, 0.5], [-0.3, 2.0]])
    f = lambda x, w: (x @ w).tanh().sum()
    mixed = grad(lambda x, w: (grad(f, 0)(x, w) * v).sum(), 1)(x0, w0)
    g0 = lambda x, w: np.asarray(grad(f, 0)(x, w))
    eps = 1e-6
    num = np.array(
        [((g0(x0, w0 + eps * e) - g0(x0, w0 - eps * e)) * v).sum() / (2 * eps) for e in np.eye(2)]
    )
    np.testing.assert_allclose(mixed, num, rtol=1e-6)


def test_create_graph_on_a_tensor_with_broadcasting():
    x = Value(np.array([[0.5, 1.0, 1.5]]))
    b = Value(np.array([[0.2], [0.4]]))
    y = ((x * b).tanh() * (x + b)).sum()
    y.backward(create_graph=True)
    gx, gb = x.grad, b.grad
    assert gx.shape == (1, 3) and gb.shape == (2, 1)
    x.zero_grad()
    b.zero_grad()
    (gx * np.array([[1.0, -1.0, 2.0]])).sum().backward()
    f = lambda xv, bv: float(np.sum(np.tanh(xv * bv) * (xv + bv)))
    eps = 1e-5

    def gxnum(xv, bv):
        out = np.zeros_like(xv)
        for i in np.ndindex(*xv.shape):
            e = np.zeros_like(xv)
            e[i] = eps
            out[i] = (f(xv + e, bv) - f(xv - e, bv)) / (2 * eps)
        return out

    w = np.array([[1.0, -1.0, 2.0]])
    num = np.zeros((2, 1))
    for i in range(2):
        e = np.zeros((2, 1))
        e[i] = 1e-4
        num[i] = ((gxnum(x.data, b.data + e) - gxnum(x.data, b.data - e)) * w).sum() / 2e-4
    np.testing.assert_allclose(b.grad.data if isinstance(b.grad, Value) else b.grad, num, rtol=1e-5)


# ---- second order through every op: Hessian-vector products against finite differences --------

_R = np.random.default_rng(7)
X0 = _R.uniform(0.5, 1.5, size=(2, 3))
V0 = _R.normal(size=(2, 3))
W0 = _R.normal(size=(3, 2))
C0 = _R.normal(size=(2, 3))

THROUGH = {
    "mul": lambda x: (x * x * C0).sum(),
    "div": lambda x: (C0 / x).sum(),
    "rdiv": lambda x: (1.0 / (x * x)).sum(),
    "pow number": lambda x: (x**3.0).sum(),
    "pow Value": lambda x: (x**x).sum(),
    "rpow": lambda x: (2.0**x).sum(),
    "neg sub": lambda x: (-(x**3) - x.mean()).sum(),
    "exp": lambda x: (x.exp() * C0).sum(),
    "log": lambda x: (x.log() * C0).sum(),
    "sqrt": lambda x: (x.sqrt() * C0).sum(),
    "abs": lambda x: ((x - 1.0).abs() * x).sum(),
    "relu": lambda x: ((x - 1.0).relu() * x).sum(),
    "clip": lambda x: (x.clip(0.7, 1.2) * x * x).sum(),
    "tanh": lambda x: (x.tanh() * C0).sum(),
    "sigmoid": lambda x: (x.sigmoid() * C0).sum(),
    "softmax": lambda x: (x.softmax(axis=0) * C0).sum(),
    "log_softmax": lambda x: (x.log_softmax() * C0).sum(),
    "logsumexp axis": lambda x: x.logsumexp(axis=1).exp().sum(),
    "logsumexp all": lambda x: x.logsumexp() * x.sum(),
    "sum axis": lambda x: (x.sum(axis=0) ** 2).sum(),
    "sum keepdims": lambda x: (x.sum(axis=1, keepdims=True) * x).sum(),
    "mean": lambda x: x.mean(axis=(0, 1)) ** 3,
    "max axis": lambda x: (x.max(axis=1) ** 2).sum(),
    "max all": lambda x: x.max() * x.sum(),
    "matmul": lambda x: ((x @ W0) ** 2).sum(),
    "rmatmul": lambda x: ((W0 @ x) ** 2).sum(),
    "matmul self": lambda x: (x @ x.T).tanh().sum(),
    "matvec": lambda x: ((x @ x[0]) ** 2).sum(),
    "vecmat": lambda x: ((x[1] @ x.T) ** 3).sum(),
    "reshape": lambda x: (x.reshape(3, 2) @ x).tanh().sum(),
    "transpose": lambda x: (x.transpose(1, 0) ** 3 * W0).sum(),
    "T": lambda x: (x.T.exp() * W0).sum(),
    "index repeated": lambda x: (x[np.array([0, 0, 1])] ** 3).sum(),
    "index mask": lambda x: (x[X0 > 1.0] ** 3).sum(),
    "index slice": lambda x: (x[:, 1:] ** 3).sum(),
    "broadcast row": lambda x: ((x + x[0]) ** 3).sum(),
    "broadcast scalar": lambda x: ((x * x.sum()) ** 2).sum(),
}


@pytest.mark.parametrize("name", THROUGH)
def test_hessian_vector_products_through_every_op(name):
    f = THROUGH[name]
    eps = 1e-5
    g = lambda y: np.asarray(grad(f)(y))
    expected = (g(X0 + eps * V0) - g(X0 - eps * V0)) / (2 * eps)
    hvp = grad(lambda y: (grad(f)(y) * V0).sum())(X0)
    np.testing.assert_allclose(hvp, expected, rtol=1e-5, atol=1e-6)
    x = Value(X0)
    f(x).backward(create_graph=True)
    first = x.grad
    np.testing.assert_allclose(np.asarray(first), g(X0), rtol=1e-12)
    x.zero_grad()
    (first * V0).sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), expected, rtol=1e-5, atol=1e-6)


def test_second_order_keeps_float32():
    x = np.array([0.5, 1.0], np.float32)
    g2 = grad(lambda a: grad(lambda b: (b**3).sum())(a).sum())(x)
    assert g2.dtype == np.float32
    np.testing.assert_allclose(g2, 6 * x, rtol=1e-6)
    v = Value(x)
    v.tanh().sum().backward(create_graph=True)
    assert v.grad.dtype == np.float32


def test_create_graph_backward_accumulates_like_backward():
    x = Value(2.0)
    (x**3).backward(create_graph=True)
    (x**3).backward(create_graph=True)
    assert float(x.grad) == pytest.approx(24.0)
    g = x.grad
    x.zero_grad()
    g.backward()
    assert float(x.grad) == pytest.approx(24.0)  # d/dx of 2 * 3x^2


def test_nested_grad_with_tuple_argnums_and_value_and_grad():
    inner = lambda x, y: sum(grad(lambda a, b: a * a * b, (0, 1))(x, y))  # 2ab + a^2
    assert grad(inner, (0, 1))(2.0, 3.0) == (pytest.approx(10.0), pytest.approx(4.0))

    def f(x):
        value, slope = value_and_grad(lambda y: y**3)(x)
        return value + slope  # x^3 + 3x^2

    assert grad(f)(2.0) == pytest.approx(24.0)


# ---- grad and value_and_grad ----------------------------------------------------------------


def test_grad_returns_the_arguments_shape_and_kind():
    f = lambda x: (x * x).sum()
    g = grad(f)(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert isinstance(g, np.ndarray) and g.shape == (2, 2)
    np.testing.assert_array_equal(g, [[2.0, 4.0], [6.0, 8.0]])
    g = grad(lambda x: x * x)(3.0)
    assert type(g) is float and g == 6.0
    g = grad(lambda x: x * x)(3)
    assert type(g) is float and g == 6.0
    g = grad(f)([1.0, 2.0])
    np.testing.assert_array_equal(g, [2.0, 4.0])
    g = grad(lambda x: (x * 2.0).sum())(np.ones((2, 1, 3)))
    assert g.shape == (2, 1, 3)


def test_grad_of_a_function_that_does_not_depend_on_its_argument_is_zeros():
    g = grad(lambda x: Value(3.0))(np.ones((2, 3)))
    assert isinstance(g, np.ndarray) and g.shape == (2, 3) and not g.any()
    g = grad(lambda x: Value(3.0))(2.0)
    assert g == 0.0 and type(g) is float
    g = grad(lambda x, y: (Value(y) * 2.0).sum(), 0)(np.ones(2), np.ones(3))
    assert g.shape == (2,) and not g.any()
    g = grad(lambda x: x.detach() * 2.0)(1.5)
    assert g == 0.0
    assert grad(grad(lambda x: x * 2.0))(1.5) == 0.0  # f'' of a linear function


def test_grad_argnums():
    f = lambda a, b, c: (a * b).sum() + c * 2.0
    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    np.testing.assert_array_equal(grad(f, 1)(a, b, 5.0), a)
    ga, gc = grad(f, (0, 2))(a, b, 5.0)
    np.testing.assert_array_equal(ga, b)
    assert gc == 2.0
    out = grad(f, (1,))(a, b, 5.0)
    assert isinstance(out, tuple) and len(out) == 1
    np.testing.assert_array_equal(out[0], a)


def test_grad_passes_other_arguments_unchanged():
    seen = {}

    def f(x, k, *, scale):
        seen["k"], seen["scale"] = k, scale
        return (x * scale).sum()

    obj = object()
    g = grad(f)(np.ones(2), obj, scale=3.0)
    assert seen["k"] is obj and seen["scale"] == 3.0
    np.testing.assert_array_equal(g, [3.0, 3.0])


def test_grad_leaves_dot_grad_untouched():
    w = Value(np.array([1.0, 2.0]))
    g = grad(lambda x: (x * w).sum())(np.array([3.0, 4.0]))
    np.testing.assert_array_equal(g, [1.0, 2.0])
    assert not w.grad.any()
    x = Value(np.array([3.0, 4.0]))
    grad(lambda v: (v * v).sum())(x)
    assert not x.grad.any()


def test_grad_of_a_value_argument():
    x = Value(np.array([1.0, 3.0]))
    np.testing.assert_array_equal(grad(lambda v: (v * v).sum())(x), [2.0, 6.0])


def test_grad_differentiates_its_argument_only_not_other_uses_of_the_same_value():
    # As in JAX and HIPS autograd: d/dy (y x) at y = x is x, even when y is x itself.
    x = Value(3.0)
    assert grad(lambda y: y * x)(x) == 3.0
    # Nested, the inner derivative holds the closure's x fixed: d/dy (y^2 x) = 2 y x, at y = x
    # that is 2 x^2, whose derivative is 4 x = 12 (not 3 x^2 = 27 differentiated).
    assert grad(lambda x: grad(lambda y: y * y * x)(x))(3.0) == pytest.approx(12.0)
    assert grad(lambda x: grad(lambda a, b: a * a * b)(x, x))(3.0) == pytest.approx(12.0)
    hess = grad(lambda x: grad(lambda y: (y * y * x).sum())(x).sum())(np.array([1.0, 2.0]))
    np.testing.assert_allclose(hess, [4.0, 8.0])  # d/dx_i sum_j 2 x_j^2 = 4 x_i


def test_value_and_grad():
    f = lambda x: (x**2).sum() + 1.0
    v, g = value_and_grad(f)(np.array([1.0, 2.0]))
    assert float(v) == 6.0
    assert not isinstance(v, Value)
    np.testing.assert_array_equal(g, [2.0, 4.0])
    v, g = value_and_grad(lambda x: x.exp())(0.0)
    assert v == 1.0 and g == 1.0
    v, (ga, gb) = value_and_grad(lambda a, b: a * b, (0, 1))(2.0, 5.0)
    assert (v, ga, gb) == (10.0, 5.0, 2.0)


def test_grad_of_a_non_scalar_function_raises():
    with pytest.raises(ValueError, match=r"scalar"):
        grad(lambda x: x * 2.0)(np.ones(3))


# ---- Hessian-vector product of a small network ------------------------------------------------

RNG = np.random.default_rng(42)
X = RNG.normal(size=(5, 3))
Y = RNG.normal(size=(5, 1))
SHAPES = [(3, 4), (4,), (4, 1)]
SIZES = [int(np.prod(s)) for s in SHAPES]


def unpack(w):
    parts, i = [], 0
    for shp, n in zip(SHAPES, SIZES, strict=True):
        parts.append(w[i : i + n].reshape(shp))
        i += n
    return parts


def loss(w):
    """A two-layer tanh network's squared error, with all parameters in one flat vector."""
    w1, b1, w2 = unpack(w)
    h = (X @ w1 + b1).tanh()
    return ((h @ w2 - Y) ** 2).mean()


def numpy_grad(w):
    return np.asarray(grad(loss)(w))


def fd_hessian(w, eps=1e-5):
    n = w.size
    H = np.zeros((n, n))
    for j in range(n):
        e = np.zeros(n)
        e[j] = eps
        H[:, j] = (numpy_grad(w + e) - numpy_grad(w - e)) / (2 * eps)
    return (H + H.T) / 2


def test_hessian_vector_product_via_grad_of_grad():
    w0 = RNG.normal(size=sum(SIZES)) * 0.7
    v = RNG.normal(size=w0.size)
    hvp = grad(lambda w: (grad(loss)(w) * v).sum())(w0)
    assert hvp.shape == w0.shape
    np.testing.assert_allclose(hvp, fd_hessian(w0) @ v, rtol=1e-5, atol=1e-7)


def test_hessian_vector_product_via_backward_create_graph():
    w0 = RNG.normal(size=sum(SIZES)) * 0.7
    v = RNG.normal(size=w0.size)
    w = Value(w0)
    loss(w).backward(create_graph=True)
    g = w.grad
    assert isinstance(g, Value)
    np.testing.assert_allclose(np.asarray(g), numpy_grad(w0), rtol=1e-12)
    w.zero_grad()
    (g * v).sum().backward()
    np.testing.assert_allclose(np.asarray(w.grad), fd_hessian(w0) @ v, rtol=1e-5, atol=1e-7)


# ---- gradcheck ---------------------------------------------------------------------------------


def test_gradcheck_passes_and_returns_true():
    assert gradcheck(lambda a, b: (a @ b).tanh().sum(), np.ones((2, 3)), np.ones((3, 2))) is True
    assert gradcheck(lambda s: s * s, 2.0) is True
    assert gradcheck(lambda v: (v * v).sum(), Value(np.array([1.0, 2.0]))) is True


def test_gradcheck_works_in_float64_for_float32_inputs():
    x = np.array([0.3, -0.7, 1.1], dtype=np.float32)
    assert gradcheck(lambda v: (v.tanh() * v).sum(), x, atol=1e-7, rtol=1e-6) is True


def test_gradcheck_does_not_modify_its_inputs():
    x = np.array([1.0, 2.0])
    gradcheck(lambda v: (v**3).sum(), x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


def wrong(v):
    """A function with a deliberately wrong gradient: d/dx of x * detach(x) is x, not 2x."""
    return (v * v.detach()).sum()


def test_gradcheck_message_names_input_index_and_both_values():
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    with pytest.raises(AssertionError) as info:
        gradcheck(lambda a, b: (a * b).sum() + wrong(b), np.ones((2, 3)), x)
    msg = str(info.value)
    # worst mismatch: input 1 (the second), index (1, 2), reverse 1 + 6 = 7 vs numeric 1 + 12
    assert "input 1" in msg
    assert "(1, 2)" in msg
    assert "reverse-mode 7" in msg and "finite-difference 13" in msg


def test_gradcheck_message_for_1d_and_scalar_inputs():
    with pytest.raises(AssertionError, match=r"input 0, index \(2,\).* 3\b.* 6\b"):
        gradcheck(wrong, np.array([1.0, 2.0, 3.0]))
    with pytest.raises(AssertionError, match=r"input 0.*reverse-mode 4\b.*finite-difference 8\b"):
        gradcheck(lambda s: s * s.detach(), 4.0)


def test_gradcheck_respects_tolerances():
    f = lambda v: (v * v).sum() + (v.detach() * 1e-4).sum()  # off by 1e-4 per element
    x = np.array([1.0, 2.0])
    assert gradcheck(f, x, atol=1e-3) is True
    with pytest.raises(AssertionError):
        gradcheck(f, x, atol=1e-6, rtol=1e-6)


def test_gradients_returned_by_grad_are_independent_writable_arrays():
    ga, gb = grad(lambda x, y: (x + y).sum(), (0, 1))(np.ones(3), np.ones(3))
    assert ga.flags.writeable and gb.flags.writeable
    ga[0] = 5.0
    assert np.array_equal(gb, np.ones(3))


@pytest.mark.parametrize("argnums", [(0, 0), (0, -2), (1, -1)], ids=str)
def test_argnums_naming_one_argument_twice_raises(argnums):
    f = lambda x, y: x * x * y  # the second entry would replace the first's variable: a 0
    with pytest.raises(ValueError, match="same argument twice"):
        grad(f, argnums)(2.0, 3.0)
    assert grad(f, (0, 1))(2.0, 3.0) == (12.0, 4.0)


def test_argnums_takes_numpy_integers_and_refuses_empty_or_non_integer_argnums():
    f = lambda x, y: x * y * y
    assert grad(f, np.int64(1))(2.0, 3.0) == 12.0  # as JAX: any integer
    with pytest.raises(ValueError, match="argnums is empty"):
        grad(f, ())
    for bad in ("x", 1.5, (0, 0.5)):
        with pytest.raises(TypeError, match="argnums must be an int or a tuple of ints"):
            grad(f, bad)


def test_create_graph_gradients_have_their_values_dtype_when_dtypes_mix():
    # as the plain backward pass: float32 x times a float64 constant gives x a float32 grad
    x = Value(np.array([1.0, 2.0], np.float32))
    ((x * x) * np.array([1.0, 2.0])).sum().backward(create_graph=True)
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [2.0, 8.0])
    first = x.grad
    x.zero_grad()
    first.sum().backward()  # and the second derivative too
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    y = Value(np.array([1.0, 2.0]))
    z = y * 3.0
    z.backward(Value(np.ones(2, np.float32)), create_graph=True)  # a float32 seed
    assert y.grad.dtype == z.grad.dtype == np.float64
    f = lambda x: grad(lambda y: (y * y * np.array([1.0, 2.0])).sum())(x).sum()
    assert grad(f)(np.array([1.0, 2.0], np.float32)).dtype == np.float32
    s = Value(2.0)  # a Python float's grad is float64, also when it is a Value
    (s * np.ones(3, np.float32)).sum().backward(create_graph=True)
    assert s.grad.dtype == np.float64
