"""Memory: the graph has no reference cycles, and training keeps memory flat."""

import gc
import tracemalloc

import numpy as np
import pytest

from autograd_core import Value, backward_steps, grad


def count_values():
    return sum(type(o) is Value for o in gc.get_objects())


def build(rng):
    """A graph using every op, with reuse, broadcasting, constants and scalars."""
    x = Value(rng.uniform(0.5, 1.5, size=(3, 4)), label="x")
    w = Value(rng.normal(size=(4, 2)), label="w")
    s = Value(2.0, label="s")
    k = Value(np.ones(2), requires_grad=False)
    h = (x @ w).tanh() * s + x.sum(axis=1, keepdims=True).log() - x.max(axis=1, keepdims=True)
    h = h.sigmoid().softmax(axis=0) ** 2 / s + h[[0, 0, 1]].relu().sum() + x.T.reshape(-1)[:3].sum()
    h = h * k + (2.0 - h) / 3.0 + 1.5**s - (-h).abs().sqrt() + h.clip(0.1, 0.9)
    h = h.log_softmax().logsumexp() + h.exp().mean(axis=(0, 1)) + (x.T @ x[:, 0]).sum()
    return x, w, s, h


@pytest.fixture
def no_automatic_gc():
    """Only reference counting frees objects during the test; collections are explicit.

    Values that already existed (say, kept alive by an earlier test's traceback) are held
    here, so that they are neither counted as this test's garbage nor have their ids reused.
    """
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield [o for o in gc.get_objects() if type(o) is Value]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if enabled:
            gc.enable()


def collected_values(existing):
    """Collect garbage, keeping it in gc.garbage; count the Values this test made among it."""
    old = {id(o) for o in existing}
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        return sum(type(o) is Value and id(o) not in old for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def test_a_dropped_graph_is_freed_by_reference_counting(no_automatic_gc):
    before = count_values()
    x, w, s, loss = build(np.random.default_rng(0))
    loss.backward()
    assert count_values() - before > 30
    del loss
    # the leaves are still alive; everything else went with the root
    assert count_values() - before == 3
    del x, w, s
    assert count_values() == before
    assert collected_values(no_automatic_gc) == 0


def test_backward_twice_and_intermediate_references_leave_no_cycles(no_automatic_gc):
    before = count_values()
    x, w, s, loss = build(np.random.default_rng(1))
    loss.backward()
    loss.backward()
    del x, w, s, loss
    assert count_values() == before
    assert collected_values(no_automatic_gc) == 0


def test_backward_steps_leave_no_cycles(no_automatic_gc):
    before = count_values()
    x, w, s, loss = build(np.random.default_rng(2))
    steps = list(backward_steps(loss))
    assert steps
    del steps, x, w, s, loss
    assert count_values() == before
    assert collected_values(no_automatic_gc) == 0


def test_grad_and_grad_of_grad_leave_no_cycles(no_automatic_gc):
    before = count_values()
    f = lambda v: (v.tanh() * v).sum()
    g1 = grad(f)(np.array([0.3, -0.4]))
    g2 = grad(lambda v: grad(f)(v).sum())(np.array([0.3, -0.4]))
    assert g1.shape == g2.shape == (2,)
    assert count_values() == before
    assert collected_values(no_automatic_gc) == 0


def test_a_deep_chain_is_freed(no_automatic_gc):
    before = count_values()
    x = Value(1.0)
    y = x
    for _ in range(100_000):
        y = y + 1.0
    y.backward()
    del y, x
    assert count_values() == before
    assert collected_values(no_automatic_gc) == 0


# ---- a training loop keeps memory flat -----------------------------------------------------


def test_training_loop_memory_is_flat():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 8))
    Y = (X[:, :1] * X[:, 1:2] > 0).astype(float)
    params = [
        Value(rng.normal(size=(8, 32)) * 0.3),
        Value(np.zeros(32)),
        Value(rng.normal(size=(32, 1)) * 0.3),
        Value(np.zeros(1)),
    ]

    def step():
        w1, b1, w2, b2 = params
        h = (X @ w1 + b1).tanh()
        p = (h @ w2 + b2).sigmoid()
        loss = -(Y * (p + 1e-9).log() + (1.0 - Y) * (1.0 - p + 1e-9).log()).mean()
        for q in params:
            q.zero_grad()
        loss.backward()
        for q in params:
            q.data = q.data - 0.5 * q.grad
        return float(loss)

    step()  # warm-up: caches, first-call allocations
    tracemalloc.start()
    try:
        current, peak, losses = [], [], []
        for _ in range(50):
            tracemalloc.reset_peak()
            losses.append(step())
            c, p = tracemalloc.get_traced_memory()
            current.append(c)
            peak.append(p)
    finally:
        tracemalloc.stop()
    assert losses[-1] < losses[0]  # it does train
    tol = 64 * 1024
    early_current = max(current[5:15])
    late_current = max(current[40:])
    assert late_current <= early_current + tol, (early_current, late_current)
    early_peak = max(peak[5:15])
    late_peak = max(peak[40:])
    assert late_peak <= early_peak + tol, (early_peak, late_peak)
    # nothing is kept from step to step beyond the parameters and their grads
    assert current[-1] - current[5] < tol
