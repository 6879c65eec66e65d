"""The fused primitives (softmax, xlogy/xlogx, softplus): values, gradients, second order."""

import numpy as np
import pytest
from scipy.special import expit

from autograd_core import Value, grad, gradcheck


def test_softmax_jacobian_is_diag_s_minus_s_s_transposed():
    x = np.array([0.3, -1.2, 2.0, 0.0])
    s = Value(x).softmax().data
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
    assert np.allclose(v.grad, expit(x))
    assert gradcheck(lambda x: x.softplus().sum(), np.linspace(-5, 5, 7))


def test_softplus_curvature_at_zero_is_a_quarter():
    assert grad(grad(lambda x: x.softplus()))(0.0) == pytest.approx(0.25)
    d1 = grad(lambda x: x.softplus().sum())
    assert grad(lambda x: d1(x).sum())(np.zeros(3)) == pytest.approx([0.25] * 3)
