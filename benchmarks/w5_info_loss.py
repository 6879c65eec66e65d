"""W5 information loss: Jensen-Shannon divergence of two (4096, 1000) float64 softmax batches.

p = softmax(a) is fixed, q = softmax(b) with b the differentiated input; the loss is the mean
over rows of JSD(p_i, q_i). Each call returns (loss, dloss/db). Every engine recomputes log p
(ours cannot know p is constant). Floor: forward and backward by hand in NumPy, using
dJSD/dq = log(q / m) / 2 and the softmax backward g -> q * (g - <g, q>).
"""

from __future__ import annotations

import numpy as np

from benchmarks import peers
from benchmarks.harness import Case

SHAPE = (4096, 1000)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def numpy_step_fn(p, b):
    """Hand-written forward + backward (the floor)."""
    rows = b.shape[0]

    def step():
        z = b - b.max(axis=1, keepdims=True)
        q = np.exp(z)
        s = q.sum(axis=1, keepdims=True)
        q /= s
        logm = p + q
        logm *= 0.5
        np.log(logm, out=logm)
        d = z - np.log(s)  # log q
        d -= logm  # log(q / m)
        kp = np.log(p)
        kp -= logm
        kp *= p  # p log(p / m)
        loss = 0.5 * (kp.sum() + np.vdot(q, d)) / rows
        d *= 0.5 / rows  # dloss/dq
        g = d - np.einsum("ij,ij->i", d, q)[:, None]
        g *= q
        return loss, g

    return step


def cases(quick: bool) -> list[Case]:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(SHAPE), rng.standard_normal(SHAPE)
    p = softmax(a)

    def ours():
        import losses
        from autograd_core import Value

        def step():
            bv = Value(b)
            loss = losses.js_divergence(p, bv.softmax(axis=-1))
            loss.backward()
            return loss.data, bv.grad

        return step

    def torch_():
        torch = peers.require("torch")
        pt = torch.from_numpy(p)

        def step():
            bt = torch.from_numpy(b).requires_grad_()
            q = torch.softmax(bt, dim=-1)
            logm = ((pt + q) * 0.5).log()
            kl = (pt * (pt.log() - logm)).sum(-1) + (q * (q.log() - logm)).sum(-1)
            loss = 0.5 * kl.mean()
            loss.backward()
            return loss.detach(), bt.grad

        return step

    def hips():
        ag = peers.require("autograd")
        anp = peers.require("autograd.numpy")

        def f(b):
            e = anp.exp(b - anp.max(b, axis=-1, keepdims=True))
            q = e / anp.sum(e, axis=-1, keepdims=True)
            logm = anp.log((p + q) * 0.5)
            kl = anp.sum(p * (anp.log(p) - logm), -1) + anp.sum(q * (anp.log(q) - logm), -1)
            return 0.5 * anp.mean(kl)

        vg = ag.value_and_grad(f)
        return lambda: vg(b)

    return [
        Case(
            "W5 JS divergence",
            f"{SHAPE[0]}x{SHAPE[1]}",
            {
                "ours": ours,
                "numpy by hand": lambda: numpy_step_fn(p, b),
                "torch": torch_,
                "HIPS autograd": hips,
            },
            target=("torch", 1.0),
            unit="ms",
            blas=True,
            rtol=1e-8,
            reference="numpy by hand",
        )
    ]
