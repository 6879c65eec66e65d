"""nn.optim against the torch.optim.SGD / torch.optim.Adam update rules written out in numpy."""

import re

import numpy as np
import pytest

import nn
from autograd_core import Value

A = np.array([[1.0, -2.0, 0.5], [0.3, 0.8, -1.5]])
B = np.array([0.7, -0.4, 1.1])


def make_params():
    return [Value(A.copy(), label="a"), Value(B.copy(), label="b")]


def loss_and_grads(a, b):
    """loss = sum(a**3) / 3 + sum(a @ b) + sum(b**2): grads a**2 + outer(1, b), a.sum(0) + 2b.

    The gradient depends on the parameters, so every step sees a new gradient.
    """
    ga = a**2 + np.ones((2, 1)) * b
    gb = a.sum(axis=0) + 2 * b
    return ga, gb


def backward(params):
    a, b = params
    ((a**3).sum() / 3 + (a @ b).sum() + (b**2).sum()).backward()


def test_backward_gives_the_hand_written_gradients():
    params = make_params()
    backward(params)
    for p, g in zip(params, loss_and_grads(A, B), strict=True):
        np.testing.assert_allclose(p.grad, g)


@pytest.mark.parametrize("momentum, wd", [(0.0, 0.0), (0.9, 0.0), (0.9, 0.05), (0.0, 0.1)])
def test_sgd_matches_torch_rule(momentum, wd):
    lr, steps = 0.05, 5
    params = make_params()
    opt = nn.optim.SGD(iter(params), lr=lr, momentum=momentum, weight_decay=wd)
    a, b = A.copy(), B.copy()
    bufs = [None, None]
    for _ in range(steps):
        opt.zero_grad()
        backward(params)
        opt.step()
        new = []
        for i, (p, g) in enumerate(zip((a, b), loss_and_grads(a, b), strict=True)):
            g = g + wd * p
            if momentum:
                bufs[i] = g if bufs[i] is None else momentum * bufs[i] + g
                g = bufs[i]
            new.append(p - lr * g)
        a, b = new
    np.testing.assert_allclose(params[0].data, a, rtol=1e-12)
    np.testing.assert_allclose(params[1].data, b, rtol=1e-12)
    assert not np.allclose(a, A)


@pytest.mark.parametrize("wd", [0.0, 0.1])
def test_adam_matches_torch_rule(wd):
    lr, (b1, b2), eps, steps = 0.02, (0.8, 0.95), 1e-6, 6
    params = make_params()
    opt = nn.optim.Adam(params, lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd)
    ps = [A.copy(), B.copy()]
    ms, vs = [0.0, 0.0], [0.0, 0.0]
    for t in range(1, steps + 1):
        opt.zero_grad()
        backward(params)
        opt.step()
        for i, g in enumerate(loss_and_grads(*ps)):
            g = g + wd * ps[i]
            ms[i] = b1 * ms[i] + (1 - b1) * g
            vs[i] = b2 * vs[i] + (1 - b2) * g**2
            m_hat, v_hat = ms[i] / (1 - b1**t), vs[i] / (1 - b2**t)
            ps[i] = ps[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
    np.testing.assert_allclose(params[0].data, ps[0], rtol=1e-10)
    np.testing.assert_allclose(params[1].data, ps[1], rtol=1e-10)
    # Adam's first step moves every coordinate by about lr
    first = make_params()
    adam = nn.optim.Adam(first, lr=lr, eps=eps)
    backward(first)
    adam.step()
    np.testing.assert_allclose(np.abs(first[0].data - A), lr, rtol=1e-3)


def sgd_first_step(p, g, lr=0.1, wd=0.1):
    """The first SGD step with weight decay: the momentum buffer is g + wd * p itself."""
    return p - lr * (g + wd * p)


def adam_first_step(p, g, lr=0.1, wd=0.1, eps=1e-8):
    """The first Adam step with weight decay: m_hat = g + wd * p and v_hat = m_hat**2."""
    g = g + wd * p
    return p - lr * g / (np.abs(g) + eps)


def test_step_keeps_dtype_and_skips_params_without_grad():
    used = Value(np.ones(3, dtype=np.float32))
    unused = Value(np.ones(2))
    scalar = Value(2.0)
    params = [used, unused, scalar]
    for opt, first_step in (
        (nn.optim.SGD(params, lr=0.1, momentum=0.5, weight_decay=0.1), sgd_first_step),
        (nn.optim.Adam(params, lr=0.1, weight_decay=0.1), adam_first_step),
    ):
        before, snapshot = used.data, used.data.copy()
        expected_used = first_step(snapshot.astype(np.float64), np.array([1.0, 2.0, 3.0]))
        expected_scalar = first_step(scalar.data, 3.0)
        opt.zero_grad()
        (used * np.array([1.0, 2.0, 3.0], dtype=np.float32)).sum().backward()
        (scalar * 3.0).backward()
        opt.step()
        assert used.dtype == np.float32
        assert np.array_equal(before, snapshot)  # the old array is not written
        np.testing.assert_allclose(used.data, expected_used, rtol=1e-6)  # float32 steps
        assert np.array_equal(unused.data, np.ones(2))  # never reached by backward: untouched
        assert type(scalar.data) is float
        assert scalar.data == pytest.approx(expected_scalar, rel=1e-13, abs=0)
    opt.zero_grad()
    assert np.all(used.grad == 0)


@pytest.mark.parametrize(
    "make",
    [lambda ps: nn.optim.SGD(ps, lr=0.1, momentum=0.9), lambda ps: nn.optim.Adam(ps, lr=0.1)],
)
def test_step_never_writes_the_callers_array(make):
    """Value(w0) shares w0 (as np.asarray); a step must not change w0, nor a second Value made
    from the same array (each parameter moves by its own gradient only)."""
    w0 = np.array([1.0, 2.0, 3.0])
    a, b = Value(w0), Value(w0)
    opt = make([a, b])
    for _ in range(3):
        opt.zero_grad()
        (a * 2.0).sum().backward()  # b gets no gradient
        opt.step()
    assert np.array_equal(w0, [1.0, 2.0, 3.0])
    assert np.array_equal(b.data, [1.0, 2.0, 3.0])
    assert np.all(a.data < w0)


def test_a_single_value_is_not_taken_for_a_list_of_parameters():
    # iterating a Value gives its rows: the optimizer would have updated copies of slices
    for opt in (nn.optim.SGD, nn.optim.Adam):
        with pytest.raises(TypeError, match=r"an iterable of Values, e.g. \[w\], not a Value"):
            opt(Value(np.ones((3, 2))), lr=0.1)


def test_defaults_are_the_contracts():
    p = [Value(np.ones(2))]
    adam = nn.optim.Adam(p)
    assert (adam.lr, adam.betas, adam.eps, adam.weight_decay) == (1e-3, (0.9, 0.999), 1e-8, 0.0)
    sgd = nn.optim.SGD(p, lr=0.1)
    assert (sgd.lr, sgd.momentum, sgd.weight_decay) == (0.1, 0.0, 0.0)


def test_zero_grad_clears_grads():
    p = Value(np.ones(2))
    opt = nn.optim.SGD([p], lr=0.1)
    (p * 2.0).sum().backward()
    assert np.all(p.grad == 2.0)
    opt.zero_grad()
    assert np.all(p.grad == 0.0)
    opt.step()  # no grad since zero_grad: nothing moves
    assert np.all(p.data == 1.0)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: nn.optim.SGD(p, lr=-0.1), "invalid learning rate -0.1: must be >= 0"),
        (lambda p: nn.optim.SGD(p, lr=0.1, momentum=-0.5), "invalid momentum -0.5: must be >= 0"),
        (
            lambda p: nn.optim.SGD(p, lr=0.1, weight_decay=-1.0),
            "invalid weight_decay -1.0: must be >= 0",
        ),
        (lambda p: nn.optim.SGD([], lr=0.1), "optimizer got an empty parameter list"),
        (lambda p: nn.optim.Adam(p, lr=float("nan")), "invalid learning rate nan: must be >= 0"),
        (
            lambda p: nn.optim.Adam(p, betas=(0.9, 1.0)),
            "invalid betas (0.9, 1.0): need two values in [0, 1)",
        ),
        (
            lambda p: nn.optim.Adam(p, betas=(0.9,)),
            "invalid betas (0.9,): need two values in [0, 1)",
        ),
        (lambda p: nn.optim.Adam(p, eps=-1e-8), "invalid eps -1e-08: must be >= 0"),
        (lambda p: nn.optim.Adam(p, weight_decay=-0.1), "invalid weight_decay -0.1: must be >= 0"),
    ],
)
def test_invalid_hyperparameters_raise(make, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        make([Value(np.ones(2))])


def test_sgd_fits_a_linear_model():
    model = nn.Dense(3, 1, rng=0)
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    x = np.random.default_rng(0).normal(size=(20, 3))
    target = x @ np.array([[1.0], [-1.0], [2.0]])
    losses = []
    for _ in range(50):
        loss = ((model(x) - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 1e-2 * losses[0]


@pytest.mark.parametrize("opt", [nn.optim.SGD, nn.optim.Adam])
def test_params_must_be_values_listed_once(opt):
    model = nn.MLP([2, 3], rng=0)
    with pytest.raises(TypeError, match=r"params\[0\] is a Dense, not a Value"):
        opt(model, lr=0.1)  # the module, not model.parameters()
    with pytest.raises(TypeError, match=r"params\[1\] is a ndarray"):
        opt([model.parameters()[0], np.ones(3)], lr=0.1)
    w = model.parameters()[0]
    with pytest.raises(ValueError, match=r"params\[2\] is params\[0\] again"):
        opt([w, model.parameters()[1], w], lr=0.1)  # it would be updated twice a step
