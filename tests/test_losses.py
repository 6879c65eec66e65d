"""Tests of the losses package: values against SciPy, gradients, stability, properties, errors."""

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import special, stats
from scipy.spatial.distance import jensenshannon

import losses
from autograd_core import Value, grad, gradcheck

LOG2 = math.log(2)
BASES = [math.e, 2]
REDUCTIONS = ["mean", "sum", "none"]
BATCH_SHAPES = [(), (4,), (2, 3)]
INFO_LOSSES = ["entropy", "cross_entropy", "kl_divergence", "js_divergence"]


def dist(shape, rng, low=0.05):
    """Random distributions along the last axis, every entry at least about ``low`` / k."""
    w = rng.uniform(low, 1.0, shape)
    return w / w.sum(axis=-1, keepdims=True)


def with_zeros(p, rng):
    """``p`` with one entry of every row set to exactly 0 and the row renormalized."""
    p = p.copy()
    rows = p.reshape(-1, p.shape[-1])
    rows[np.arange(len(rows)), rng.integers(0, p.shape[-1], len(rows))] = 0
    return p / p.sum(axis=-1, keepdims=True)


def reduce(per_row, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction](per_row)


def check_result(out, expected, reduction, shape, rtol=1e-10, atol=1e-12):
    assert isinstance(out, Value)
    if reduction == "none":
        assert out.shape == shape
    else:
        assert out.shape == ()
    np.testing.assert_allclose(np.asarray(out.data), reduce(expected, reduction), rtol, atol)


def scipy_information(name, p, q, base):
    """Per-row reference values from SciPy."""
    if name == "entropy":
        return stats.entropy(p, base=base, axis=-1)
    if name == "cross_entropy":
        return -special.xlogy(p, q).sum(axis=-1) / math.log(base)
    if name == "kl_divergence":
        return special.rel_entr(p, q).sum(axis=-1) / math.log(base)
    return jensenshannon(p, q, base=base, axis=-1) ** 2


def jsd_reference(p, q, base=math.e):
    """JSD from scipy.special.rel_entr: jensenshannon(p, q) ** 2 can be NaN where p == q."""
    m = (p + q) / 2
    return (special.rel_entr(p, m) + special.rel_entr(q, m)).sum(axis=-1) / 2 / math.log(base)


def call_information(name, p, q, **kw):
    fn = getattr(losses, name)
    return fn(p, **kw) if name == "entropy" else fn(p, q, **kw)


# ---- values against SciPy --------------------------------------------------------------------


@pytest.mark.parametrize("name", INFO_LOSSES)
@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("batch", BATCH_SHAPES)
def test_information_values_match_scipy(name, base, reduction, batch):
    rng = np.random.default_rng(len(batch))
    p = with_zeros(dist(batch + (5,), rng), rng)  # zeros in p: 0 log 0 = 0
    q = dist(batch + (5,), rng)
    out = call_information(name, p, q, reduction=reduction, base=base)
    check_result(out, scipy_information(name, p, q, base), reduction, batch)


def test_kl_matches_scipy_relative_entropy_and_cross_entropy_identity():
    rng = np.random.default_rng(1)
    p, q = dist((6, 4), rng), dist((6, 4), rng)
    kl = losses.kl_divergence(p, q, reduction="none", base=2)
    np.testing.assert_allclose(kl.data, stats.entropy(p, q, base=2, axis=-1), rtol=1e-12)
    h_pq = losses.cross_entropy(p, q, reduction="none", base=2).data
    h_p = losses.entropy(p, reduction="none", base=2).data
    np.testing.assert_allclose(h_pq, h_p + kl.data, rtol=1e-12)


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_values(base, reduction):
    rng = np.random.default_rng(2)
    p = rng.uniform(0, 1, (3, 4))
    p[0, :2] = [0.0, 1.0]
    q = rng.uniform(0.01, 0.99, (3, 4))
    expected = -(special.xlogy(p, q) + special.xlogy(1 - p, 1 - q)) / math.log(base)
    out = losses.binary_cross_entropy(p, q, reduction=reduction, base=base)
    check_result(out, expected, reduction, (3, 4))


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits_values(base, reduction):
    rng = np.random.default_rng(3)
    p = rng.uniform(0, 1, (2, 5))
    x = rng.normal(0, 5, (2, 5))
    expected = -(p * special.log_expit(x) + (1 - p) * special.log_expit(-x)) / math.log(base)
    out = losses.binary_cross_entropy_with_logits(p, x, reduction=reduction, base=base)
    check_result(out, expected, reduction, (2, 5))


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("batch", BATCH_SHAPES)
def test_softmax_cross_entropy_values(base, reduction, batch):
    rng = np.random.default_rng(4)
    x = rng.normal(0, 3, batch + (6,))
    logp = special.log_softmax(x, axis=-1)
    t = rng.integers(0, 6, batch)
    picked = np.take_along_axis(logp, t[..., None], axis=-1)[..., 0]
    out = losses.softmax_cross_entropy(x, t, reduction=reduction, base=base)
    check_result(out, -picked / math.log(base), reduction, batch)
    p = dist(batch + (6,), rng)
    out = losses.softmax_cross_entropy(x, p, reduction=reduction, base=base)
    check_result(out, -(p * logp).sum(axis=-1) / math.log(base), reduction, batch)


def test_softmax_cross_entropy_accepts_python_int_and_list_targets():
    x = np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 3.0]])
    logp = special.log_softmax(x, axis=-1)
    out = losses.softmax_cross_entropy(x, [0, 2], reduction="none")
    np.testing.assert_allclose(out.data, -logp[[0, 1], [0, 2]], rtol=1e-12)
    single = losses.softmax_cross_entropy(x[1], 2)
    np.testing.assert_allclose(single.data, -logp[1, 2], rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_values(reduction):
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(3, 2, 4)), rng.normal(size=(3, 2, 4))
    check_result(losses.mse(a, b, reduction=reduction), (a - b) ** 2, reduction, (3, 2, 4))


def test_inputs_as_lists_arrays_and_values_and_only_values_get_gradients():
    p_list = [0.25, 0.25, 0.5]
    q = Value(np.array([0.5, 0.25, 0.25]))
    out = losses.cross_entropy(p_list, q)
    assert isinstance(out, Value)
    np.testing.assert_allclose(out.data, -special.xlogy(p_list, q.data).sum(), rtol=1e-12)
    out.backward()
    np.testing.assert_allclose(q.grad, -np.array(p_list) / q.data, rtol=1e-12)
    constant = losses.entropy(np.array(p_list))
    np.testing.assert_allclose(constant.data, stats.entropy(p_list), rtol=1e-12)
    assert constant.requires_grad is False  # arrays are constants: nothing to differentiate
    assert losses.cross_entropy(np.array(p_list), q.data).requires_grad is False


@pytest.mark.parametrize("off, accepted", [(0.9e-6, True), (-0.9e-6, True), (1.1e-6, False)])
def test_rows_must_sum_to_one_within_1e_minus_6(off, accepted):
    p = np.array([[0.25, 0.25, 0.5], [0.5, 0.25, 0.25 + off]])
    if accepted:  # -sum p log p as given (stats.entropy would renormalize the rows)
        expected = special.entr(p).sum(axis=-1).mean()
        np.testing.assert_allclose(losses.entropy(p).item(), expected, rtol=1e-12)
    else:
        with pytest.raises(ValueError, match="row 1 of p sums to 1.0000011"):
            losses.entropy(p)


FLOAT32_LOSSES = {
    "entropy": lambda p, q, x: losses.entropy(p, base=2),
    "kl_divergence": lambda p, q, x: losses.kl_divergence(p, q),
    "cross_entropy": lambda p, q, x: losses.cross_entropy(p, q),
    "js_divergence": lambda p, q, x: losses.js_divergence(p, q),
    "binary_cross_entropy": lambda p, q, x: losses.binary_cross_entropy(p, q),
    "bce_with_logits": lambda p, q, x: losses.binary_cross_entropy_with_logits(p, x),
    "softmax_cross_entropy": lambda p, q, x: losses.softmax_cross_entropy(x, np.array([0, 1])),
    "mse": lambda p, q, x: losses.mse(x, p, reduction="none"),
}


@pytest.mark.parametrize("loss", FLOAT32_LOSSES.values(), ids=FLOAT32_LOSSES.keys())
def test_float32_inputs_stay_float32(loss):
    """In float32 the values and gradients are those of the float64 run to float32 precision."""
    p = np.array([[0.25, 0.75], [0.5, 0.5]])
    inputs = (p, p[::-1].copy(), np.array([[1.0, -2.0], [0.0, 3.0]]))
    runs = {}
    for dtype in (np.float32, np.float64):
        args = [Value(a.astype(dtype)) for a in inputs]
        out = loss(*args)
        out.sum().backward()
        runs[dtype] = out, args
    (out32, args32), (out64, args64) = runs[np.float32], runs[np.float64]
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32.data, out64.data, rtol=1e-5, atol=0)
    for a32, a64 in zip(args32, args64):
        assert a32.grad.dtype == np.float32
        np.testing.assert_allclose(a32.grad, a64.grad, rtol=1e-5, atol=1e-6)


def test_empty_batch_sum_is_zero_and_none_is_empty():
    p = np.zeros((0, 3))
    assert losses.entropy(p, reduction="sum").data == 0
    assert losses.entropy(p, reduction="none").shape == (0,)
    assert losses.softmax_cross_entropy(p, np.zeros(0, dtype=int), reduction="sum").data == 0


@pytest.mark.parametrize("name", ["entropy", "kl_divergence", "cross_entropy", "js_divergence"])
def test_float32_with_float64_is_computed_in_float64(name):
    """As NumPy computes float32 * float64: in float64, so p log p is not left in float32."""
    p32, q = np.float32([0.2, 0.7, 0.1]), np.array([0.3, 0.3, 0.4])
    p = p32.astype(np.float64)
    m = (p + q) / 2  # not scipy's jensenshannon: it renormalizes p, which sums to 1 in float32
    fn = getattr(losses, name)
    expected = {
        "entropy": lambda: stats.entropy(p),  # one argument: its own dtype
        "kl_divergence": lambda: special.rel_entr(p, q).sum(),
        "cross_entropy": lambda: -special.xlogy(p, q).sum(),
        "js_divergence": lambda: (special.rel_entr(p, m) + special.rel_entr(q, m)).sum() / 2,
    }[name]()
    pv, qv = Value(p32), Value(q)
    out = fn(pv) if name == "entropy" else fn(pv, qv)
    if name == "entropy":
        assert out.dtype == np.float32
        return np.testing.assert_allclose(out.item(), expected, rtol=1e-6)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.item(), expected, rtol=1e-14)
    out.backward()
    assert pv.grad.dtype == np.float32 and qv.grad.dtype == np.float64


# ---- gradients ---------------------------------------------------------------------------------

# Each case: (loss, argument makers); all arguments are Values inside gradcheck, so targets are
# checked too.  At gradcheck's default step, eps = 1e-6, a perturbed row sums to 1 +- 1e-6: just
# inside the check's tolerance, which is inclusive.
GRAD_CASES = {
    "entropy": (losses.entropy, [lambda r: dist((3, 4), r)]),
    "cross_entropy": (losses.cross_entropy, [lambda r: dist((3, 4), r)] * 2),
    "kl_divergence": (losses.kl_divergence, [lambda r: dist((3, 4), r)] * 2),
    "js_divergence": (losses.js_divergence, [lambda r: dist((3, 4), r)] * 2),
    "binary_cross_entropy": (
        losses.binary_cross_entropy,
        [lambda r: r.uniform(0.05, 0.95, (3, 4))] * 2,
    ),
    "binary_cross_entropy_with_logits": (
        losses.binary_cross_entropy_with_logits,
        [lambda r: r.uniform(0.05, 0.95, (3, 4)), lambda r: r.normal(0, 3, (3, 4))],
    ),
    "softmax_cross_entropy": (
        losses.softmax_cross_entropy,
        [lambda r: r.normal(0, 3, (3, 4)), lambda r: dist((3, 4), r)],
    ),
    "mse": (losses.mse, [lambda r: r.normal(size=(3, 4))] * 2),
}


@pytest.mark.parametrize("name", GRAD_CASES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_every_loss_and_argument(name, reduction):
    fn, makers = GRAD_CASES[name]
    rng = np.random.default_rng(6)
    inputs = [make(rng) for make in makers]
    weights = rng.uniform(0.5, 2.0, (3, 4))  # a non-uniform weighting checks "none" fully
    kw = {"reduction": reduction} if name == "mse" else {"reduction": reduction, "base": 2}

    def f(*args):
        out = fn(*args, **kw)
        if reduction != "none":
            return out
        return (out * (weights if out.ndim == 2 else weights[:, 0])).sum()

    assert gradcheck(f, *inputs)


def test_gradcheck_softmax_cross_entropy_with_class_indices():
    rng = np.random.default_rng(7)
    x, t = rng.normal(0, 3, (4, 5)), np.array([0, 4, 2, 2])
    assert gradcheck(lambda v: losses.softmax_cross_entropy(v, t), x)
    assert gradcheck(lambda v: losses.softmax_cross_entropy(v, 3, base=2), x[0])


def grads(fn, *arrays, **kw):
    values = [Value(a) for a in arrays]
    out = fn(*values, reduction="sum", **kw)
    out.backward()
    return out, [v.grad for v in values]


P0 = np.array([0.0, 0.0, 0.3, 0.7])  # exact zeros, one of them where q = 0 too
Q0 = np.array([0.0, 0.4, 0.2, 0.4])


def test_entropy_gradient_at_exact_zeros_is_finite_and_correct():
    p = np.array([[0.0, 0.2, 0.8, 0.0], [1.0, 0.0, 0.0, 0.0]])
    out, (g,) = grads(losses.entropy, p)
    np.testing.assert_allclose(out.data, stats.entropy(p, axis=-1).sum(), rtol=1e-12)
    assert np.isfinite(g).all()
    # -(log p + 1) where p > 0; the derivative of p log p at p = 0 is taken as 0
    safe = np.where(p > 0, p, 1)
    np.testing.assert_allclose(g, np.where(p > 0, -(np.log(safe) + 1), 0), rtol=1e-12)


def test_cross_entropy_gradient_at_exact_zeros():
    out, (gp, gq) = grads(losses.cross_entropy, P0, Q0)
    np.testing.assert_allclose(out.data, -special.xlogy(P0, Q0).sum(), rtol=1e-12)
    # d/dp = -log q (0 where p = q = 0), d/dq = -p / q (0 where p = 0)
    np.testing.assert_allclose(gp, [0, -np.log(0.4), -np.log(0.2), -np.log(0.4)], rtol=1e-12)
    np.testing.assert_allclose(gq, [0, 0, -0.3 / 0.2, -0.7 / 0.4], rtol=1e-12)


def test_kl_gradient_at_exact_zeros():
    out, (gp, gq) = grads(losses.kl_divergence, P0, Q0)
    np.testing.assert_allclose(out.data, special.rel_entr(P0, Q0).sum(), rtol=1e-12)
    # log p + 1 - log q where p > 0; -log q where p = 0 < q; 0 where p = q = 0
    expected_p = [0, -np.log(0.4), np.log(0.3 / 0.2) + 1, np.log(0.7 / 0.4) + 1]
    np.testing.assert_allclose(gp, expected_p, rtol=1e-12)
    np.testing.assert_allclose(gq, [0, 0, -0.3 / 0.2, -0.7 / 0.4], rtol=1e-12)


def test_js_gradient_at_exact_zeros():
    out, (gp, gq) = grads(losses.js_divergence, P0, Q0)
    np.testing.assert_allclose(out.data, jensenshannon(P0, Q0) ** 2, rtol=1e-12)
    m = (P0 + Q0) / 2
    # d/dp_i = log(p_i / m_i) / 2 where p_i > 0; (-log m_i - 1) / 2 where p_i = 0 < q_i
    expected_p = [0, (-np.log(m[1]) - 1) / 2, np.log(P0[2] / m[2]) / 2, np.log(P0[3] / m[3]) / 2]
    np.testing.assert_allclose(gp, expected_p, rtol=1e-12)
    np.testing.assert_allclose(gq[1:], np.log(Q0[1:] / m[1:]) / 2, rtol=1e-12)
    assert gq[0] == 0


def test_binary_cross_entropy_at_exact_zeros_and_ones():
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.3])
    q = np.array([0.0, 1.0, 0.2, 0.7, 0.4])
    out, (gp, gq) = grads(losses.binary_cross_entropy, p, q)
    expected = -(special.xlogy(p, q) + special.xlogy(1 - p, 1 - q))
    np.testing.assert_allclose(out.data, expected.sum(), rtol=1e-12)
    assert np.isfinite(gp).all()
    # (q - p) / (q (1 - q)) inside (0, 1); its limits 1 and -1 at q = p = 0 and q = p = 1
    inside = (q - p)[2:] / (q * (1 - q))[2:]
    np.testing.assert_allclose(gq, np.r_[1.0, -1.0, inside], rtol=1e-12)
    np.testing.assert_allclose(gp[2:], -np.log(q[2:] / (1 - q[2:])), rtol=1e-12)


def test_impossible_events_give_inf_never_nan():
    p, q = np.array([[0.5, 0.5], [0.5, 0.5]]), np.array([[1.0, 0.0], [0.5, 0.5]])
    for fn in (losses.cross_entropy, losses.kl_divergence):
        out = fn(p, q, reduction="none")
        assert out.data[0] == np.inf and np.isclose(out.data[1], fn(p[1], q[1]).data)
    assert losses.binary_cross_entropy([1.0], [0.0]).data == np.inf
    assert losses.binary_cross_entropy([0.0], [1.0]).data == np.inf
    js = losses.js_divergence(p, q, reduction="none", base=2)
    np.testing.assert_allclose(js.data, jsd_reference(p, q, base=2), rtol=1e-12, atol=1e-15)
    qv = Value(q)
    with np.errstate(divide="ignore"):
        losses.kl_divergence(p, qv, reduction="sum").backward()
    assert not np.isnan(qv.grad).any() and qv.grad[0, 1] == -np.inf


# ---- stability at huge logits ---------------------------------------------------------------

BIG = np.array([-1e4, -1000.0, -30.0, 0.0, 30.0, 1000.0, 1e4])


@pytest.mark.parametrize("target", [0.0, 0.3, 1.0])
def test_bce_with_logits_is_stable_at_huge_logits(target):
    p = np.full_like(BIG, target)
    out, (gp, gx) = grads(losses.binary_cross_entropy_with_logits, p, BIG)
    per_element = losses.binary_cross_entropy_with_logits(p, BIG, reduction="none").data
    # softplus(x) - p x, summed as two non-negative terms (so that nothing cancels)
    expected = p * np.logaddexp(0, -BIG) + (1 - p) * np.logaddexp(0, BIG)
    np.testing.assert_allclose(per_element, expected, rtol=1e-14, atol=1e-300)
    assert np.isfinite(out.data)
    # sigmoid(x) = exp(x - softplus(x)) carries the rounding of x - softplus(x): ulp(x) absolute
    np.testing.assert_allclose(gx, special.expit(BIG) - p, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gp, -BIG, rtol=1e-14)
    assert gx[3] == pytest.approx(0.5 - target, abs=1e-16)  # not 0 - target: kinks at x = 0


@pytest.mark.parametrize("p, x", [(1.0, 40.0), (0.0, -40.0), (1.0, 700.0), (0.0, -30.0)])
def test_bce_with_logits_keeps_the_digits_of_a_loss_near_zero(p, x):
    """A confident right answer costs log(1 + e^-|x|) (4.2e-18 at |x| = 40): softplus(x) - p x
    would round it to 0, or to a few ulps of |x|."""
    out = losses.binary_cross_entropy_with_logits(np.array([p]), np.array([x]))
    assert out.item() == pytest.approx(math.log1p(math.exp(-abs(x))), rel=1e-15, abs=0)


def test_gradcheck_bce_with_logits_at_huge_logits():
    x = np.array([1e4, -1e4, 1000.0, -1000.0, 0.0])
    p = np.array([0.3, 0.6, 0.1, 0.9, 0.5])
    assert gradcheck(lambda p_, x_: losses.binary_cross_entropy_with_logits(p_, x_), p, x)


LOGITS = np.array([[1e4, -1e4, 0.0], [-1000.0, 1000.0, 999.0], [1e4, 1e4, -1e4], [0, 0, 0]])


def test_softmax_cross_entropy_is_stable_at_huge_logits():
    t = np.array([1, 2, 0, 1])
    onehot = np.eye(3)[t]
    # class indices: logsumexp(x) - x_t as (max x - x_t) + log sum e^(x - max x); distributions:
    # the sum of p log_softmax(x), with log_softmax(x) = (x - max x) - log sum e^(x - max x):
    # both as exact as scipy's log_softmax (lse - x_t would lose digits of the large logits)
    exact = -special.log_softmax(LOGITS, axis=-1)
    for targets in (t, Value(onehot)):
        x = Value(LOGITS)
        out = losses.softmax_cross_entropy(x, targets, reduction="none")
        np.testing.assert_allclose(out.data, exact[np.arange(4), t], rtol=1e-14)
        out.sum().backward()
        np.testing.assert_allclose(x.grad, special.softmax(LOGITS, axis=-1) - onehot, atol=1e-15)
    # the gradient with respect to distribution targets is -log_softmax(x): finite
    np.testing.assert_allclose(targets.grad, exact, rtol=1e-14)


def test_gradcheck_softmax_cross_entropy_at_large_logits():
    x = np.array([[1000.0, -1000.0, 999.0], [-1000.0, 1000.0, 1000.0]])
    p = np.array([[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]])
    assert gradcheck(lambda x_, p_: losses.softmax_cross_entropy(x_, p_), x, p, eps=1e-7)
    assert gradcheck(lambda x_: losses.softmax_cross_entropy(x_, np.array([1, 0])), x)


# ---- properties -------------------------------------------------------------------------------


def normalize(w):
    """Rows of nonnegative weights to distributions (an all-zero row becomes uniform)."""
    w = np.where(w.sum(axis=-1, keepdims=True) > 0, w, 1.0)
    return w / w.sum(axis=-1, keepdims=True)


@st.composite
def distribution_pairs(draw):
    k, batch = draw(st.integers(2, 6)), draw(st.integers(1, 4))
    w = draw(arrays(np.float64, (2, batch, k), elements=st.floats(0, 1, allow_subnormal=False)))
    p, q = normalize(w)
    return p, q


@settings(max_examples=50, deadline=None)
@given(distribution_pairs())
def test_cross_entropy_is_entropy_plus_kl(pq):
    p, q = pq
    h_pq = losses.cross_entropy(p, q, reduction="none").data
    h_p = losses.entropy(p, reduction="none").data
    kl = losses.kl_divergence(p, q, reduction="none").data
    np.testing.assert_allclose(h_pq, h_p + kl, rtol=1e-9, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(distribution_pairs())
def test_kl_is_nonnegative_and_zero_on_the_diagonal(pq):
    p, q = pq
    assert (losses.kl_divergence(p, q, reduction="none").data >= -1e-12).all()
    np.testing.assert_allclose(losses.kl_divergence(p, p, reduction="none").data, 0, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(distribution_pairs())
def test_js_is_symmetric_and_bounded(pq):
    p, q = pq
    pq_nats = losses.js_divergence(p, q, reduction="none").data
    qp_nats = losses.js_divergence(q, p, reduction="none").data
    np.testing.assert_allclose(pq_nats, qp_nats, rtol=1e-12, atol=1e-15)
    assert (pq_nats >= -1e-12).all() and (pq_nats <= LOG2 + 1e-12).all()
    bits = losses.js_divergence(p, q, reduction="none", base=2).data
    assert (bits <= 1 + 1e-12).all()
    np.testing.assert_allclose(bits, jsd_reference(p, q, base=2), rtol=1e-9, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(distribution_pairs())
def test_entropy_is_maximal_at_the_uniform_distribution(pq):
    p, _ = pq
    k = p.shape[-1]
    h = losses.entropy(p, reduction="none").data
    assert (h >= 0).all() and (h <= math.log(k) + 1e-12).all()
    np.testing.assert_allclose(losses.entropy(np.full(k, 1 / k)).data, math.log(k), rtol=1e-12)


probabilities = arrays(np.float64, st.integers(1, 8), elements=st.floats(0, 1))


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_binary_cross_entropy_is_two_class_cross_entropy(data):
    p = data.draw(probabilities)
    q = data.draw(arrays(np.float64, p.shape, elements=st.floats(0, 1)))
    bce = losses.binary_cross_entropy(p, q, reduction="none").data
    two = losses.cross_entropy(np.stack([p, 1 - p], -1), np.stack([q, 1 - q], -1), reduction="none")
    np.testing.assert_allclose(bce, two.data, rtol=1e-12, atol=1e-300)


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_bce_with_logits_is_bce_of_sigmoid(data):
    p = data.draw(probabilities)
    x = data.draw(arrays(np.float64, p.shape, elements=st.floats(-10, 10)))
    with_logits = losses.binary_cross_entropy_with_logits(p, x, reduction="none").data
    plain = losses.binary_cross_entropy(p, special.expit(x), reduction="none").data
    np.testing.assert_allclose(with_logits, plain, rtol=1e-9, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_softmax_cross_entropy_targets_agree_and_shift_invariant(data):
    n, k = data.draw(st.integers(1, 4)), data.draw(st.integers(2, 5))
    x = data.draw(arrays(np.float64, (n, k), elements=st.floats(-20, 20)))
    t = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    by_index = losses.softmax_cross_entropy(x, t, reduction="none").data
    by_onehot = losses.softmax_cross_entropy(x, np.eye(k)[t], reduction="none").data
    via_ce = losses.cross_entropy(np.eye(k)[t], special.softmax(x, axis=-1), reduction="none")
    shifted = losses.softmax_cross_entropy(x + 100.0, t, reduction="none").data
    np.testing.assert_allclose(by_index, by_onehot, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(by_index, via_ce.data, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(by_index, shifted, rtol=1e-9, atol=1e-9)


# ---- validation ------------------------------------------------------------------------------

GOOD = np.array([[0.2, 0.8], [0.5, 0.5]])
X = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 1.0]])

BAD_INPUTS = [
    # (call, regex the message must match)
    (lambda: losses.entropy([0.5, -0.1, 0.6]), r"p\[1\] = -0\.1 is negative"),
    (lambda: losses.entropy([[0.2, 0.8], [1.5, -0.5]]), r"p\[1, 0\] = 1\.5 is above 1"),
    (lambda: losses.entropy([0.5, np.nan, 0.5]), r"p\[1\] = nan is NaN"),
    (lambda: losses.entropy(Value(np.array([-0.2, 1.2]))), r"p\[0\] = -0\.2 is negative"),
    (lambda: losses.entropy([[0.5, 0.5], [0.3, 0.3]]), r"row 1 of p sums to 0\.6"),
    (lambda: losses.entropy([[[0.5, 0.5]], [[0.3, 0.3]]]), r"row 1, 0 of p sums to 0\.6"),
    (lambda: losses.entropy([0.3, 0.6]), r"p sums to 0\.9"),
    (lambda: losses.entropy([0.5, 0.5 + 2e-6]), r"p sums to 1\.000002"),
    (lambda: losses.entropy(0.5), r"shape \(\)"),
    (lambda: losses.cross_entropy(GOOD, GOOD[0]), r"p\.shape = \(2, 2\) and q\.shape = \(2,\)"),
    (lambda: losses.kl_divergence(GOOD, [[0.2, 0.8], [0.9, 0.2]]), r"row 1 of q sums to 1\.1"),
    (lambda: losses.kl_divergence(GOOD, [[0.2, 0.8], [1.1, -0.1]]), r"q\[1, 0\] = 1\.1 is above"),
    (lambda: losses.js_divergence(GOOD, np.ones((2, 3)) / 3), r"\(2, 2\).*\(2, 3\)"),
    (lambda: losses.binary_cross_entropy([0.5, 1.5], [0.5, 0.5]), r"p\[1\] = 1\.5 is above 1"),
    (lambda: losses.binary_cross_entropy([0.5, 0.5], [0.5, -1.0]), r"q\[1\] = -1\.0"),
    (lambda: losses.binary_cross_entropy([0.5], [0.5, 0.5]), r"\(1,\).*\(2,\)"),
    (lambda: losses.binary_cross_entropy_with_logits([2.0], [0.0]), r"p\[0\] = 2\.0"),
    (lambda: losses.binary_cross_entropy_with_logits([1.0], [np.inf]), r"logits\[0\] = inf"),
    (lambda: losses.binary_cross_entropy_with_logits([1.0], [1.0, 2.0]), r"\(1,\).*\(2,\)"),
    (lambda: losses.softmax_cross_entropy(X, [0, 3]), r"class index 3 at targets\[1\].*3 classes"),
    (lambda: losses.softmax_cross_entropy(X, [-1, 0]), r"class index -1 at targets\[0\]"),
    (lambda: losses.softmax_cross_entropy(X[0], 7), r"class index 7 is out of range for 3"),
    (lambda: losses.softmax_cross_entropy(X, [0, 1, 2]), r"\(2,\).*targets\.shape = \(3,\)"),
    (lambda: losses.softmax_cross_entropy(X, [0.0, 1.0]), r"\(2, 3\).*\(2,\).*integer"),
    (lambda: losses.softmax_cross_entropy(X, np.ones((2, 2)) / 2), r"\(2, 3\).*\(2, 2\)"),
    (lambda: losses.softmax_cross_entropy(X, np.ones((2, 3))), r"row 0 of targets sums to 3"),
    (lambda: losses.softmax_cross_entropy(X, X / 6), r"targets\[1, 1\] = -0\.1666"),
    (lambda: losses.softmax_cross_entropy([[np.nan, 1.0]], [0]), r"logits\[0, 0\] = nan"),
    (lambda: losses.softmax_cross_entropy(1.0, 0), r"logits.*shape \(\)"),
    (lambda: losses.mse(np.ones(3), np.ones((3, 1))), r"\(3,\).*\(3, 1\)"),
    (lambda: losses.mse([1.0, np.nan], [1.0, 1.0]), r"pred\[1\] = nan"),
    (lambda: losses.entropy(GOOD, reduction="avg"), r"'avg'"),
    (lambda: losses.mse(GOOD, GOOD, reduction="Mean"), r"'Mean'"),
    (lambda: losses.entropy(GOOD, base=1), r"base.*1"),
    (lambda: losses.kl_divergence(GOOD, GOOD, base=-2), r"base.*-2"),
    (lambda: losses.entropy(np.zeros((0, 3))), re.escape("empty batch of shape (0,)")),
]


@pytest.mark.parametrize("call, message", BAD_INPUTS)
def test_bad_inputs_raise_value_error_naming_the_problem(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_bce_with_logits_has_the_right_curvature_at_a_zero_logit():
    """Newton's method starts at w = 0, where every logit is 0: d2/dx2 = sigmoid'(0) = 1/4."""
    f = lambda z: losses.binary_cross_entropy_with_logits(np.array([1.0, 0.0]), z, reduction="sum")
    d1 = grad(f)
    assert np.allclose(grad(lambda z: d1(z).sum())(np.zeros(2)), [0.25, 0.25])


def test_finite_logits_whose_sum_overflows_are_accepted():
    # finite but huge: accepted (the check is entrywise, not on a sum that would overflow)
    x = np.array([[1.7e308, 1.7e308, -1.7e308]])
    out = losses.softmax_cross_entropy(x, np.array([0]))
    assert out.item() == pytest.approx(np.log(2))
    out = losses.softmax_cross_entropy(np.array([[1.7e308, 1.7e308, -np.inf]]), np.array([0]))
    assert out.item() == pytest.approx(np.log(2))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_cross_entropy_takes_minus_inf_logits_as_masked_classes(dtype):
    """As in PyTorch: a -inf logit is a class of probability 0, which gets gradient 0."""
    x = np.array([[0.0, -np.inf, 1.0], [2.0, 0.5, -np.inf]], dtype)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    xv = Value(x)
    out = losses.softmax_cross_entropy(xv, np.array([0, 1]), reduction="none")
    expected = special.logsumexp(x.astype(float), axis=1) - [0.0, 0.5]
    np.testing.assert_allclose(out.data, expected, rtol=tol, atol=0)
    out.sum().backward()
    expected_grad = special.softmax(x.astype(float), axis=1) - [[1.0, 0, 0], [0, 1, 0]]
    np.testing.assert_allclose(xv.grad, expected_grad, rtol=tol, atol=tol)
    assert xv.grad[0, 1] == 0 and xv.grad[1, 2] == 0
    # the target masked out: the loss is +inf (probability 0), the gradient stays finite
    xv = Value(x)
    out = losses.softmax_cross_entropy(xv, np.array([1, 0]))
    assert out.item() == np.inf
    out.backward()
    assert np.isfinite(xv.grad).all() and xv.grad[0, 1] == pytest.approx(-0.5)


def test_gradcheck_softmax_cross_entropy_with_a_masked_class():
    mask = np.array([[0.0, -np.inf, 0.0, 0.0], [0.0, 0.0, 0.0, -np.inf]])
    x = np.random.default_rng(3).normal(size=mask.shape)
    f = lambda x: losses.softmax_cross_entropy(x + mask, np.array([2, 0]))
    assert gradcheck(f, x)
    assert gradcheck(lambda x: (grad(f)(x) ** 2).sum(), x)  # second order


@pytest.mark.parametrize(
    "logits, targets, message",
    [
        ([[np.inf, 0.0]], [0], r"logits\[0, 0\] = inf; logits must be finite or -inf"),
        ([[0.0, 1.0], [-np.inf, -np.inf]], [0, 1], r"row 1 of logits is -inf in every class"),
        ([-np.inf, -np.inf], 0, r"logits is -inf in every class"),
        ([[0.0, -np.inf]], [[1.0, 0.0]], r"logits\[0, 1\] = -inf; logits must be finite"),
    ],
)
def test_softmax_cross_entropy_rejects_what_masking_cannot_mean(logits, targets, message):
    with pytest.raises(ValueError, match=message):
        losses.softmax_cross_entropy(np.array(logits), np.array(targets))


@pytest.mark.parametrize(
    "p, q", [(1.0, 0.0), (0.5, 0.0), (0.0, 1.0), (0.0, 0.0), (1.0, 1.0), (0.3, 0.6)]
)
def test_binary_cross_entropy_of_python_float_scalars_matches_0d_arrays(p, q):
    # x log 0 is -inf for x > 0: q = 0 with p > 0 costs +inf, on the float path as on arrays
    values = {}
    for make in (float, np.array):
        pv, qv = Value(make(p)), Value(make(q))
        loss = losses.binary_cross_entropy(pv, qv)
        loss.backward()
        values[make] = (float(loss.data), float(pv.grad), float(qv.grad))
    np.testing.assert_array_equal(values[float], values[np.array])
    impossible = (p > 0 and q == 0) or (p < 1 and q == 1)  # the model gave the truth 0
    assert math.isinf(values[float][0]) == impossible and not math.isnan(values[float][0])


def test_a_list_of_values_is_refused_rather_than_made_a_constant():
    with pytest.raises(TypeError, match="list holding Values"):
        losses.mse([Value(1.0), Value(2.0)], [0.0, 0.0])
    with pytest.raises(TypeError, match="list holding Values"):
        Value([[1.0, Value(2.0)]])


@pytest.mark.parametrize(
    "call",
    [
        lambda: losses.mse(np.array([1 + 1j]), np.array([0.0])),  # was cast, imaginary part lost
        lambda: losses.entropy(np.array([0.5 + 0j, 0.5])),
        lambda: losses.softmax_cross_entropy(np.array([["1", "2"]]), np.array([0])),
    ],
)
def test_arrays_that_are_not_real_numbers_raise_type_error(call):
    with pytest.raises(TypeError, match="real numbers, got an array of dtype"):
        call()


def test_a_python_number_argument_never_widens_a_float32_loss():
    # as a * 2.0 stays float32 (API.md): the number takes the other argument's dtype
    q32 = Value(np.float32(0.25))
    assert losses.mse(q32, 0.5).dtype == losses.mse(0.5, q32).dtype == np.float32
    assert losses.binary_cross_entropy(1.0, q32).dtype == np.float32
    logits32 = np.array(2.0, np.float32)
    assert losses.binary_cross_entropy_with_logits(1.0, logits32).dtype == np.float32
    assert losses.mse(0.5, 0.25).dtype == np.float64
