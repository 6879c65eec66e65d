"""The fused primitives (softmax, xlogy/xlogx, softplus, js_divergence, softmax_cross_entropy):
values, gradients, second order; and ``apply``, which records any primitive of one or two
inputs."""

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.special import expit, log_softmax, softmax

from autograd_core import (
    Primitive,
    Value,
    apply,
    grad,
    gradcheck,
    no_grad,
    ops,
)


def test_softmax_jacobian_is_diag_s_minus_s_s_transposed():
    x = np.array([0.3, -1.2, 2.0, 0.0])
    s = softmax(x)
    rows = []
    for i in range(4):
        v = Value(x)
        v.softmax().backward(np.eye(4)[i])
        rows.append(v.grad)
    assert np.allclose(np.array(rows), np.diag(s) - np.outer(s, s), atol=1e-15)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_gradient_and_its_gradient(axis):
    w = np.random.default_rng(0).normal(size=(3, 4))
    assert gradcheck(
        lambda x: (x.softmax(axis=axis) * w).sum(), np.random.default_rng(1).normal(size=(3, 4))
    )
    # the gradient is itself differentiable (create_graph runs the VJP on Values)
    df = grad(lambda x: (x.softmax(axis=axis) * w).sum())
    assert gradcheck(lambda x: (df(x) * w).sum(), np.random.default_rng(2).normal(size=(3, 4)))


def test_xlogy_zero_log_zero_is_zero_with_zero_gradients():
    x = Value(np.array([0.0, 0.0, 0.5, 2.0]))
    y = Value(np.array([0.0, 0.3, 0.5, 3.0]))
    z = x.xlogy(y)
    assert np.allclose(z.data, [0, 0, 0.5 * np.log(0.5), 2 * np.log(3)])
    z.sum().backward()
    assert np.allclose(x.grad, [0, np.log(0.3), np.log(0.5), np.log(3)])
    assert np.allclose(y.grad, [0, 0, 1, 2 / 3])


def test_xlogy_and_xlogx_gradients_and_second_derivative():
    rng = np.random.default_rng(3)
    assert gradcheck(lambda x, y: x.xlogy(y).sum(), rng.random((2, 3)), rng.random((2, 3)) + 0.1)
    assert gradcheck(lambda x: (x.xlogy(x) * x).sum(), rng.random((2, 3)) + 0.1)
    d2 = grad(grad(lambda x: x.xlogy(x)))
    assert d2(0.25) == pytest.approx(1 / 0.25)  # d^2/dx^2 x log x = 1/x
    assert grad(lambda x: x.xlogy(x))(0.0) == 0.0  # 0 log 0 = 0, gradient taken as 0


def test_softplus_is_exact_and_finite_at_extreme_logits():
    x = np.array([-1e4, -30.0, 0.0, 30.0, 1e4])
    v = Value(x)
    out = v.softplus()
    assert np.allclose(out.data, np.logaddexp(0, x), rtol=1e-15, atol=0)
    out.sum().backward()
    assert np.all(np.isfinite(v.grad))
    np.testing.assert_allclose(v.grad, expit(x), rtol=1e-12, atol=1e-300)  # expit(-30) ~ 9e-14
    assert gradcheck(lambda x: x.softplus().sum(), np.linspace(-5, 5, 7))


def test_softplus_curvature_at_zero_is_a_quarter():
    assert grad(grad(lambda x: x.softplus()))(0.0) == pytest.approx(0.25)
    d1 = grad(lambda x: x.softplus().sum())
    assert grad(lambda x: d1(x).sum())(np.zeros(3)) == pytest.approx([0.25] * 3)


@pytest.mark.parametrize("x", [2.0, np.float32(-3.0), np.array(0.5)])
def test_softmax_of_one_number_is_one_and_log_softmax_zero(x):
    v = Value(x)
    s, ls = v.softmax(), v.log_softmax()
    assert s.item() == 1.0 and ls.item() == 0.0 and s.dtype == ls.dtype == v.dtype
    (s + ls).backward()
    assert v.grad == 0.0
    assert grad(grad(lambda u: u.softmax() * u))(x) == 0.0  # d2/du2 (1 * u)


@pytest.mark.parametrize("shape", [(5,), (3, 5), (2, 3, 4)])
def test_softmax_gradient_along_the_last_axis_of_any_rank(shape):
    rng = np.random.default_rng(4)
    x, w = rng.normal(size=shape), rng.normal(size=shape)
    s = softmax(x, axis=-1)
    v = Value(x)
    (v.softmax() * w).sum().backward()
    expected = s * (w - (w * s).sum(axis=-1, keepdims=True))
    np.testing.assert_allclose(v.grad, expected, rtol=1e-12, atol=1e-15)


def rows(shape, rng, zeros=False):
    x = rng.random(shape) + (0 if zeros else 0.05)
    if zeros:
        x[x < 0.3] = 0.0
    return x / x.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 3, 4)])
def test_js_divergence_primitive_per_row_value_and_gradients(shape):
    rng = np.random.default_rng(5)
    p, q = rows(shape, rng), rows(shape, rng)
    out = apply(ops.js_divergence, p, q)
    assert out.shape == shape[:-1]
    np.testing.assert_allclose(out.data, jensenshannon(p, q, axis=-1) ** 2, rtol=1e-10)
    w = rng.uniform(0.5, 2.0, shape[:-1])
    assert gradcheck(lambda p, q: (apply(ops.js_divergence, p, q) * w).sum(), p, q, eps=1e-7)


def test_js_divergence_primitive_gradient_is_differentiable():
    rng = np.random.default_rng(6)
    p, q, w = rows((2, 3), rng), rows((2, 3), rng), rng.normal(size=(2, 3))
    dq = grad(lambda q: apply(ops.js_divergence, p, q).sum())
    # d/dq of log(q / m) / 2 is known in closed form: check the Values it returns, then their
    # own gradient against finite differences
    np.testing.assert_allclose(dq(q), np.log(2 * q / (p + q)) / 2, rtol=1e-12)
    assert gradcheck(lambda q: (dq(q) * w).sum(), q)
    dp = grad(lambda p, q: apply(ops.js_divergence, p, q).sum(), argnums=0)
    assert gradcheck(lambda p: (dp(p, q) * w).sum(), p)


def test_js_divergence_primitive_at_exact_zeros_is_finite():
    rng = np.random.default_rng(7)
    p, q = rows((6, 5), rng, zeros=True), rows((6, 5), rng, zeros=True)
    p[0], q[0] = [0, 0, 0, 1, 0], [0, 0, 0.5, 0.5, 0]  # p = q = 0 in some places
    pv, qv = Value(p), Value(q)
    out = apply(ops.js_divergence, pv, qv)
    np.testing.assert_allclose(out.data, jensenshannon(p, q, axis=-1) ** 2, rtol=1e-10)
    out.sum().backward()
    m = (p + q) / 2
    safe = lambda x: np.where(x > 0, x, 1)
    # (L(x) - L(m)) / 2 with L(t) = log t + 1, taken as 0 at t = 0
    L = lambda t: np.where(t > 0, np.log(safe(t)) + 1, 0)
    np.testing.assert_allclose(qv.grad, (L(q) - L(m)) / 2, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(pv.grad, (L(p) - L(m)) / 2, rtol=1e-12, atol=1e-15)


def test_apply_records_a_new_primitive_with_its_vjp():
    cube = Primitive("cube", lambda x: x**3, lambda g, ans, x: g * 3 * x**2)
    x = Value(np.array([1.0, -2.0, 0.5]))
    y = apply(cube, x)
    assert y.op == "cube" and y.parents == (x,)
    np.testing.assert_allclose(y.data, x.data**3)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, 3 * x.data**2)
    # the VJP is written with operators, so the second derivative comes for free: 6x
    assert grad(grad(lambda x: apply(cube, x)))(0.5) == pytest.approx(3.0)
    assert apply(ops.add, 1.0, 2.0).data == 3.0  # constants in, a constant out


def test_a_forward_may_save_arrays_for_its_vjps():
    # ||x|| saves x / ||x||, its gradient; with Values (second order) the VJP recomputes it
    def norm_forward(x):
        n = np.sqrt((x * x).sum())
        return n, (x / n,)

    def norm_vjp(g, ans, x, unit):
        return g * unit if isinstance(g, (float, np.ndarray)) else g * x / ans

    norm = Primitive("norm", norm_forward, norm_vjp)
    x = Value(np.array([3.0, 4.0]))
    n = apply(norm, x)
    assert n.data == 5.0
    n.backward()
    np.testing.assert_allclose(x.grad, [0.6, 0.8])
    n.backward()  # the saved array is not consumed: a second pass adds the same gradient
    np.testing.assert_allclose(x.grad, [1.2, 1.6])
    assert gradcheck(lambda x: apply(norm, x) * 2, np.array([1.0, -2.0, 2.0]))
    hessian_row = grad(lambda x: grad(lambda x: apply(norm, x))(x)[0])(np.array([3.0, 4.0]))
    np.testing.assert_allclose(hessian_row, [16 / 125, -12 / 125])  # (I - u u^T) / ||x||, row 0


def test_js_divergence_backward_twice_and_under_no_grad():
    rng = np.random.default_rng(8)
    p, q = rows((3, 4), rng), Value(rows((3, 4), rng))
    out = apply(ops.js_divergence, p, q).sum()
    out.backward()
    first = q.grad.copy()
    out.backward()
    np.testing.assert_allclose(q.grad, 2 * first)
    with no_grad():
        constant = apply(ops.js_divergence, p, q)
    assert not constant.requires_grad
    np.testing.assert_allclose(constant.data, jensenshannon(p, q.data, axis=-1) ** 2, rtol=1e-10)


@pytest.mark.parametrize("shape", [(5,), (4, 5), (2, 3, 5)])
def test_softmax_cross_entropy_primitive_value_and_gradients(shape):
    rng = np.random.default_rng(9)
    x = rng.normal(size=shape) * 3
    t = rng.integers(0, shape[-1], shape[:-1])
    out = apply(ops.softmax_cross_entropy, x, params=(t,))
    assert out.shape == shape[:-1]
    expected = -np.take_along_axis(log_softmax(x, axis=-1), t[..., None], axis=-1)[..., 0]
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    w = rng.uniform(0.5, 2.0, shape[:-1])
    f = lambda x: (apply(ops.softmax_cross_entropy, x, params=(t,)) * w).sum()
    assert gradcheck(f, x)
    # the gradient is w (softmax(x) - onehot(t)), and it is differentiable in turn
    df = grad(f)
    onehot = np.eye(shape[-1])[t]
    expected_grad = w[..., None] * (softmax(x, axis=-1) - onehot)
    np.testing.assert_allclose(df(x), expected_grad, rtol=1e-12, atol=1e-15)
    v = rng.normal(size=shape)
    assert gradcheck(lambda x: (df(x) * v).sum(), x)


def test_softmax_cross_entropy_primitive_float32_and_huge_logits():
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], dtype=np.float32)
    xv = Value(x)
    out = apply(ops.softmax_cross_entropy, xv, params=(np.array([1, 2]),))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, [2e4, np.log(3)], rtol=1e-6)
    out.sum().backward()
    assert xv.grad.dtype == np.float32
    np.testing.assert_allclose(xv.grad, [[1, -1, 0], [1 / 3, 1 / 3, -2 / 3]], atol=1e-6)


def test_apply_passes_params_after_the_inputs_of_a_binary_primitive():
    # a x + y with the constant a as a param: forward(x, y, a), vjp(g, ans, x, y, a)
    axpy = Primitive(
        "axpy", lambda x, y, a: a * x + y, lambda g, ans, x, y, a: a * g, lambda g, ans, x, y, a: g
    )
    x, y = Value(np.array([1.0, 2.0])), Value(np.array([[0.5, 0.5], [1.0, -1.0]]))
    out = apply(axpy, x, y, params=(3.0,))
    np.testing.assert_allclose(out.data, [[3.5, 6.5], [4.0, 5.0]])
    out.sum().backward()
    np.testing.assert_allclose(x.grad, [6.0, 6.0])  # 3 g, summed over the broadcast axis
    np.testing.assert_allclose(y.grad, np.ones((2, 2)))
    assert gradcheck(lambda x, y: (apply(axpy, x, y, params=(-2.0,)) ** 2).sum(), x.data, y.data)


def test_apply_checks_the_number_of_inputs():
    with pytest.raises(TypeError, match="has 2 VJPs .one per input., got 1 inputs"):
        apply(ops.add, 1.0)
    with pytest.raises(TypeError, match=r"1 or 2 inputs, \+ got 3"):
        apply(ops.add, 1.0, 2.0, 3.0)


# ---- the reductions the fused primitives use: BLAS and transposed copies ---------------------

REDUCTION_CASES = [
    ((1024, 10), np.float32),  # W3's logits: the transposed-copy max and the BLAS sum
    ((4096, 33), np.float64),  # rows just too long for the transposed max
    ((3, 50, 7), np.float32),  # any rank
    ((5,), np.float64),  # 1-d: np.sum and np.max
    ((0, 4), np.float32),  # no rows
    ((40, 30), np.float16),  # no BLAS for float16: np.sum
]


def _summed_right(got, a, axis, keepdims=False):
    """Within a few roundings of the float64 sum, measured against sum |a| (as any order of
    float additions is)."""
    want = a.sum(axis=axis, keepdims=keepdims, dtype=np.float64)
    scale = np.abs(a).sum(axis=axis, keepdims=keepdims, dtype=np.float64)
    eps = np.finfo(a.dtype).eps
    return (
        got.dtype == a.dtype
        and got.shape == want.shape
        and np.all(np.abs(got - want) <= 4 * eps * scale + 1e-300)
    )


@pytest.mark.parametrize(("shp", "dtype"), REDUCTION_CASES)
def test_row_max_and_row_sum_equal_numpys(shp, dtype):
    a = np.random.default_rng(0).normal(size=shp).astype(dtype)
    assert _summed_right(ops.sum_kept(a, -1), a, -1, keepdims=True)
    if a.size:
        m = ops.max_kept(a, -1)
        assert m.dtype == dtype and np.array_equal(m, a.max(axis=-1, keepdims=True))  # exact


@pytest.mark.parametrize(("shp", "dtype"), REDUCTION_CASES + [((2, 3, 4), np.float64)])
def test_sum_over_leading_axes_equals_numpys(shp, dtype):
    a = np.random.default_rng(1).normal(size=shp).astype(dtype)
    for k in range(1, a.ndim + 1):
        assert _summed_right(np.asarray(ops.sum_leading(a, k)), a, tuple(range(k)))


@pytest.mark.parametrize("axis", [0, 1, -1, -2, None, (0, 1)])
def test_kept_row_max_and_sum_along_any_axis_equal_numpys(axis):
    a = np.random.default_rng(3).normal(size=(300, 5))
    assert np.array_equal(ops.max_kept(a, axis), a.max(axis=axis, keepdims=True))
    assert _summed_right(ops.sum_kept(a, axis), a, axis, keepdims=True)


def test_reductions_of_non_contiguous_arrays_and_non_finite_entries():
    a = np.random.default_rng(2).normal(size=(64, 12))
    for view in (a.T, a[::2], np.broadcast_to(a[0], (100, 12))):
        np.testing.assert_allclose(ops.sum_leading(view, 1), view.sum(axis=0), rtol=1e-13, atol=0)
        sums = view.sum(axis=-1, keepdims=True)
        np.testing.assert_allclose(ops.sum_kept(view, -1), sums, rtol=1e-13, atol=0)
        assert np.array_equal(ops.max_kept(view, -1), view.max(axis=-1, keepdims=True))
    b = np.zeros((200, 6))
    b[1, 2], b[2, 0], b[3] = np.inf, np.nan, [np.inf, -np.inf, 0, 0, 0, 0]
    with np.errstate(invalid="ignore"):  # inf - inf
        same = [
            (ops.sum_kept(b, -1), b.sum(axis=-1, keepdims=True)),
            (ops.max_kept(b, -1), b.max(axis=-1, keepdims=True)),
            (ops.sum_leading(b.T.copy(), 1), b.T.sum(axis=0)),
        ]
    for got, want in same:
        assert np.array_equal(got, want, equal_nan=True)
