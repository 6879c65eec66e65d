"""Special points: ties, kinks, zeros, infinities and huge logits."""

import math
import warnings

import numpy as np
import pytest
import scipy.special as sp

from autograd_core import Value


@pytest.fixture
def no_warnings():
    """Turn every warning into an error inside the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# ---- max: ties split the gradient evenly --------------------------------------------------


def test_max_gradient_is_split_evenly_over_ties():
    v = Value(np.array([1.0, 3.0, 3.0, 2.0]))
    out = v.max()
    assert float(out) == 3.0
    out.backward()
    np.testing.assert_array_equal(v.grad, [0.0, 0.5, 0.5, 0.0])


def test_max_over_all_equal_values():
    v = Value(np.full((2, 3), 7.0))
    v.max().backward()
    np.testing.assert_allclose(v.grad, np.full((2, 3), 1 / 6))


def test_max_ties_per_row_with_axis_and_keepdims():
    x = np.array([[5.0, 5.0, 5.0, 1.0], [0.0, 2.0, -1.0, 2.0]])
    for keepdims in (False, True):
        v = Value(x)
        out = v.max(axis=1, keepdims=keepdims)
        np.testing.assert_array_equal(np.asarray(out), x.max(axis=1, keepdims=keepdims))
        seed = np.array([3.0, 4.0]).reshape(out.shape)
        out.backward(seed)
        np.testing.assert_allclose(v.grad, [[1.0, 1.0, 1.0, 0.0], [0.0, 2.0, 0.0, 2.0]])


def test_max_ties_over_a_tuple_of_axes():
    x = np.zeros((2, 2, 3))
    x[0, 1, 2] = x[1, 0, 2] = 4.0  # two maxima in column 2
    x[:, :, 0] = 1.0  # four equal maxima in column 0
    x[1, 1, 1] = 3.0  # one maximum in column 1
    v = Value(x)
    v.max(axis=(0, 1)).sum().backward()
    expected = np.zeros_like(x)
    expected[:, :, 0] = 0.25
    expected[1, 1, 1] = 1.0
    expected[0, 1, 2] = expected[1, 0, 2] = 0.5
    np.testing.assert_allclose(v.grad, expected)


def test_max_ties_along_axis_0():
    v = Value(np.array([[2.0, 1.0], [2.0, 3.0], [2.0, 3.0]]))
    v.max(axis=0).sum().backward()
    np.testing.assert_allclose(v.grad, [[1 / 3, 0.0], [1 / 3, 0.5], [1 / 3, 0.5]])


# ---- kinks and zeros -----------------------------------------------------------------------


def test_sqrt_gradient_at_zero_is_inf(no_warnings):
    s = Value(0.0)
    s.sqrt().backward()
    assert s.grad == np.inf
    a = Value(np.array([0.0, 4.0]))
    out = a.sqrt()
    np.testing.assert_array_equal(np.asarray(out), [0.0, 2.0])
    out.sum().backward()
    np.testing.assert_array_equal(a.grad, [np.inf, 0.25])


def test_abs_gradient_at_zero_is_zero():
    s = Value(0.0)
    s.abs().backward()
    assert s.grad == 0.0
    a = Value(np.array([-2.0, 0.0, 3.0]))
    a.abs().sum().backward()
    np.testing.assert_array_equal(a.grad, [-1.0, 0.0, 1.0])


def test_relu_gradient_at_zero_is_zero():
    s = Value(0.0)
    s.relu().backward()
    assert s.grad == 0.0
    a = Value(np.array([-2.0, 0.0, 3.0]))
    a.relu().sum().backward()
    np.testing.assert_array_equal(a.grad, [0.0, 0.0, 1.0])


@pytest.mark.parametrize("x", [0.0, np.array(0.0), np.array([0.0, 1.0]), np.zeros((2, 2))])
def test_log_of_zero_is_minus_inf_without_warning(no_warnings, x):
    v = Value(x)
    out = v.log()
    assert np.all(np.asarray(out)[np.asarray(x) == 0] == -np.inf)
    if type(x) is float:
        assert type(out.data) is float
    out.sum().backward() if out.size > 1 else out.backward()
    assert np.all(np.asarray(v.grad)[np.asarray(x) == 0] == np.inf)


def test_log_of_a_float32_zero_stays_float32(no_warnings):
    v = Value(np.zeros(2, np.float32))
    out = v.log()
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data, [-np.inf, -np.inf])


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda: Value(1.0) / 0, np.inf),
        (lambda: Value(1.0) / 0.0, np.inf),
        (lambda: 1.0 / Value(0.0), np.inf),
        (lambda: 1 / Value(0.0), np.inf),
        (lambda: Value(-1.0) / Value(0.0), -np.inf),
        (lambda: Value(0.0) / Value(0.0), np.nan),
        (lambda: Value(1000.0).exp(), np.inf),
        (lambda: Value(-1000.0).exp(), 0.0),
        (lambda: Value(0.0) ** -1.0, np.inf),
        (lambda: Value(10.0) ** 400.0, np.inf),
        (lambda: 10.0 ** Value(400.0), np.inf),
        (lambda: Value(-8.0) ** (1 / 3), np.nan),
        (lambda: Value(-1.0).sqrt(), np.nan),
        (lambda: Value(-1.0).log(), np.nan),
    ],
    ids=["x/0", "x/0.", "1./x", "1/x", "-1/0", "0/0", "exp(1000)", "exp(-1000)", "0**-1",
         "10**400", "rpow 10**400", "(-8)**(1/3)", "sqrt(-1)", "log(-1)"],
)  # fmt: skip
def test_scalars_follow_ieee_754_not_python(make, expected):
    """1/0 on scalars gives inf (not ZeroDivisionError), exp(1000) inf (not OverflowError)."""
    out = make()
    assert type(out.data) is float
    if np.isnan(expected):
        assert np.isnan(out.data)
    else:
        assert out.data == expected


def test_relu_of_nan_is_nan_on_scalars_as_on_arrays():
    """np.maximum(nan, 0) is nan: a scalar ReLU must not turn a NaN into 0."""
    s, a = Value(float("nan")), Value(np.array([np.nan, -1.0, 2.0]))
    assert math.isnan(s.relu().data)
    np.testing.assert_array_equal(a.relu().data, [np.nan, 0.0, 2.0])
    s.relu().backward()
    a.relu().sum().backward()
    assert s.grad == 0.0 and list(a.grad) == [0.0, 0.0, 1.0]  # [x > 0] alike


def test_scalar_division_by_zero_backward_is_ieee():
    x, y = Value(1.0), Value(0.0)
    (x / y).backward()
    assert x.grad == np.inf
    assert y.grad == -np.inf


def test_exp_1000_gradient_is_inf():
    x = Value(1000.0)
    x.exp().backward()
    assert x.grad == np.inf
    assert type(x.grad) is float


def test_log_of_scalar_zero_backward_is_inf(no_warnings):
    x = Value(0.0)
    x.log().backward()
    assert x.grad == np.inf


def test_pow_exponent_gradient_at_a_zero_base_is_zero():
    x, y = Value(0.0), Value(2.0)
    (x**y).backward()
    assert x.grad == 0.0 and y.grad == 0.0
    a, b = Value(np.array([0.0, 2.0])), Value(np.array([3.0, 3.0]))
    (a**b).sum().backward()
    np.testing.assert_allclose(b.grad, [0.0, 8.0 * np.log(2.0)])
    np.testing.assert_allclose(a.grad, [0.0, 12.0])


@pytest.mark.filterwarnings("ignore:divide by zero encountered in power")  # NumPy's own, on arrays
@pytest.mark.parametrize("make", [float, lambda x: np.array([x])], ids=["float", "1-d"])
def test_pow_exponent_gradient_at_a_zero_base_and_negative_exponent_is_minus_inf(make):
    """As PyTorch: d(0^y)/dy = 0^y log 0 = inf * -inf = -inf for y < 0 (it was nan)."""
    x, y = Value(make(0.0)), Value(make(-1.0))
    (x**y).sum().backward()
    assert np.all(np.asarray(y.grad) == -np.inf) and np.all(np.asarray(x.grad) == -np.inf)


@pytest.mark.filterwarnings("ignore:invalid value encountered in power")  # NumPy's own, on arrays
@pytest.mark.parametrize(
    "make", [float, np.array, lambda x: np.array([x])], ids=["float", "0-d", "1-d"]
)
def test_negative_base_to_a_fractional_power_is_nan_with_a_nan_gradient(make):
    # as NumPy: (-8) ** (1/3) is nan, and so is its derivative; a Python float must not give a
    # complex number whose real part passes for a gradient
    a = Value(make(-8.0))
    y = a ** (1 / 3)
    (y if y.size == 1 and y.ndim == 0 else y.sum()).backward()
    assert np.isnan(np.asarray(y.data)).all() and np.isnan(np.asarray(a.grad)).all()


def test_pow_with_exponent_zero_has_zero_gradient_at_a_zero_base():
    """d/dx x**0 = 0 everywhere (x**0 = 1, also at 0 as in NumPy); PyTorch gives 0, not nan.

    Polynomial features ``x ** [0, 1, 2]`` with a zero in x must not poison the gradient.
    """
    x = Value(np.array([0.0, 1.0, 2.0]))
    (x ** np.array([0.0, 1.0, 2.0])).sum().backward()
    expected = np.array([0.0, 1.0, 4.0])  # 0, d/dx x at 1, d/dx x^2 at 2
    np.testing.assert_array_equal(x.grad, expected)
    s = Value(0.0)
    (s**0).backward()
    assert s.grad == 0.0
    a, b = Value(0.0), Value(0.0)
    (a**b).backward()
    assert a.grad == 0.0 and b.grad == 0.0


# ---- huge logits: finite values and gradients --------------------------------------------------

BIG = np.array([1000.0, -1000.0, 0.0, 999.0, -999.5])


@pytest.mark.parametrize("x", [1000.0, -1000.0, 30.0, -30.0, 0.0])
def test_sigmoid_of_large_scalars(no_warnings, x):
    v = Value(x)
    out = v.sigmoid()
    out.backward()
    s = sp.expit(x)
    assert type(out.data) is float
    assert out.data == pytest.approx(s, rel=1e-14, abs=0.0)
    assert np.isfinite(v.grad)
    assert v.grad == pytest.approx(s * (1 - s), rel=1e-10, abs=1e-300)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_of_large_arrays(no_warnings, dtype):
    x = np.concatenate([BIG, [30.0, -30.0, 2.0]]).astype(dtype)
    v = Value(x)
    out = v.sigmoid()
    out.backward(np.ones_like(x))
    s = sp.expit(x.astype(np.float64))
    assert out.dtype == dtype
    tol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(out.data, s, rtol=tol, atol=0)
    assert np.all(np.isfinite(v.grad))
    # float32: s(1 - s) rounds to 0 once s rounds to 1 (x = 30), as in PyTorch
    atol = 1e-12 if dtype == np.float32 else 1e-300
    np.testing.assert_allclose(v.grad, s * (1 - s), rtol=10 * tol, atol=atol)


def test_softmax_of_huge_logits(no_warnings):
    x = np.array([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, 999.0]])
    w = np.array([[1.0, -2.0, 0.5], [0.3, 2.0, -1.0], [1.5, -0.5, 2.0]])
    v = Value(x)
    out = v.softmax(axis=1)
    s = sp.softmax(x, axis=1)
    np.testing.assert_allclose(out.data, s, rtol=1e-12, atol=1e-300)
    (out * w).sum().backward()
    expected = s * (w - (w * s).sum(axis=1, keepdims=True))  # the closed form
    assert np.all(np.isfinite(v.grad))
    np.testing.assert_allclose(v.grad, expected, rtol=1e-10, atol=1e-12)


def test_log_softmax_of_huge_logits(no_warnings):
    x = np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 999.0]])
    w = np.array([[1.0, -2.0, 0.5], [0.3, 2.0, -1.0]])
    v = Value(x)
    out = v.log_softmax(axis=-1)
    ls = sp.log_softmax(x, axis=-1)
    assert np.all(np.isfinite(out.data))
    np.testing.assert_allclose(out.data, ls, rtol=1e-12)
    (out * w).sum().backward()
    s = np.exp(ls)
    expected = w - s * w.sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(v.grad, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("axis, keepdims", [(0, False), (1, True), (None, False)])
def test_logsumexp_over_an_empty_axis_is_minus_inf(no_warnings, axis, keepdims):
    # log of an empty sum, as scipy.special.logsumexp and torch.logsumexp give
    x = np.zeros((0, 3), np.float32)
    v = Value(x)
    out = v.logsumexp(axis=axis, keepdims=keepdims)
    assert out.shape == x.sum(axis=axis, keepdims=keepdims).shape and out.dtype == np.float32
    assert np.all(out.data == -np.inf)
    out.sum().backward()
    assert v.grad.shape == (0, 3)


@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, False), (1, True), ((0, 1), False)])
def test_logsumexp_of_huge_logits(no_warnings, axis, keepdims):
    x = np.array([[1000.0, 999.0, -1000.0], [-1000.0, -1000.0, -1001.0]])
    v = Value(x)
    out = v.logsumexp(axis=axis, keepdims=keepdims)
    ref = sp.logsumexp(x, axis=axis, keepdims=keepdims)
    assert np.all(np.isfinite(out.data))
    np.testing.assert_allclose(np.asarray(out), ref, rtol=1e-12)
    out.backward(np.ones(np.shape(out.data))) if out.size > 1 else out.backward()
    # d logsumexp / dx = softmax over the reduced axes
    expected = np.exp(x - sp.logsumexp(x, axis=axis, keepdims=True))
    np.testing.assert_allclose(v.grad, expected, rtol=1e-10, atol=1e-300)


def test_softmax_of_float32_huge_logits_stays_finite(no_warnings):
    x = np.array([100.0, 0.0, -100.0, 80.0], dtype=np.float32)
    v = Value(x)
    out = v.softmax()
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, sp.softmax(x.astype(np.float64)), rtol=1e-5, atol=1e-30)
    w = np.arange(4, dtype=np.float32)
    (out * w).sum().backward()
    assert v.grad.dtype == np.float32 and np.all(np.isfinite(v.grad))
    s = sp.softmax(x.astype(np.float64))
    np.testing.assert_allclose(v.grad, s * (w - (w * s).sum()), rtol=1e-5, atol=1e-30)


@pytest.mark.parametrize("lo, hi", [(np.nan, None), (None, np.nan), (np.nan, np.nan)])
def test_clip_with_a_nan_bound_is_nan_on_scalars_as_on_arrays(lo, hi):
    for make in (float, np.array, lambda x: np.array([x])):  # np.clip and torch.clamp agree
        v = Value(make(0.5))
        out = v.clip(lo, hi)
        out.sum().backward()
        assert np.isnan(out.data).all() and float(np.sum(v.grad)) == 0.0


def test_clip_of_a_scalar_with_array_bounds_broadcasts_as_np_clip():
    v = Value(-1.0)
    out = v.clip(np.array([0.0, -2.0, 1.0]))
    np.testing.assert_array_equal(out.data, np.clip(-1.0, [0.0, -2.0, 1.0], None))
    out.sum().backward()
    assert v.grad == 1.0  # only the middle entry passes x through


def test_xlogy_gradient_in_y_at_minus_zero_keeps_its_sign(no_warnings):
    # d/dy x log y = x / y: -inf at y = -0.0 for x > 0, as torch.xlogy gives, on every path
    for make in (float, np.array, lambda t: np.array([t])):
        x, y = Value(make(2.0)), Value(make(-0.0))
        x.xlogy(y).sum().backward()
        assert float(np.sum(y.grad)) == -np.inf


def test_xlogy_of_float32_by_a_python_number_stays_float32():
    for x in (np.array(0.5, np.float32), np.array([0.5, 0.0], np.float32)):
        assert Value(x).xlogy(2.0).dtype == Value(x).xlogy(2).dtype == np.float32


@pytest.mark.parametrize("op", ["sum", "max", "mean", "logsumexp", "softmax", "log_softmax"])
def test_reducing_a_scalar_over_an_axis_out_of_range_raises_as_numpy(op):
    for make in (float, np.array):
        v = Value(make(0.7))
        for axis in (0, -1):  # a 0-d array takes these, as in NumPy
            getattr(v, op)(axis=axis)
        with pytest.raises(np.exceptions.AxisError, match="out of bounds"):
            getattr(v, op)(axis=5)


@pytest.mark.parametrize("axis", [0, 1])
def test_softmax_over_an_empty_axis_is_empty_as_in_torch(axis):
    v = Value(np.zeros((0, 3)))
    out = v.softmax(axis=axis)
    assert out.shape == (0, 3)
    out.sum().backward()
    assert v.grad.shape == (0, 3)


def test_log_softmax_keeps_the_digits_of_large_logits(no_warnings):
    # (x - max) - log sum e^(x - max), as scipy and torch: x - logsumexp(x) would round the
    # small log-probability of the largest logit to a multiple of its ulp
    for x in (np.array([1e6, 1e6 - 20]), np.array([30.0, 20.0], np.float32)):
        out = Value(x).log_softmax()
        exact = sp.log_softmax(x.astype(np.float64))
        np.testing.assert_allclose(out.data, exact, rtol=1e-12 if x.dtype == np.float64 else 1e-3)
    x, w = np.array([1000.0, 990.0, 995.0]), np.array([1.0, 2.0, 3.0])
    v = Value(x)
    (v.log_softmax() * w).sum().backward()
    assert abs(v.grad.sum()) < 1e-14  # sum_i d/dx_i of a shift-invariant function is 0
    np.testing.assert_allclose(v.grad, w - sp.softmax(x) * w.sum(), rtol=1e-12, atol=1e-14)
