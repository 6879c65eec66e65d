"""W4 op overhead: 200 elementwise ops on a 16-element float64 tensor, then sum and backward.

The ops cycle through (* 1.01, + 0.5, tanh). Time per op = (forward + sum + backward) / 200, so it
is the per-op cost of recording and differentiating a tiny op. Each call starts from a fresh leaf
and returns (sum, grad). "numpy fwd only" is the same forward without any gradient.
"""

from __future__ import annotations

import numpy as np

from benchmarks import peers
from benchmarks.harness import Case

N_OPS = 200
SIZE = 16


def chain(y, tanh):
    """The 200 ops; ``tanh`` is the engine's tanh as a function."""
    for i in range(N_OPS):
        k = i % 3
        if k == 0:
            y = y * 1.01
        elif k == 1:
            y = y + 0.5
        else:
            y = tanh(y)
    return y


def cases(quick: bool) -> list[Case]:
    x0 = np.random.default_rng(0).standard_normal(SIZE)

    def ours():
        from autograd_core import Value

        def step():
            x = Value(x0)
            s = chain(x, Value.tanh).sum()
            s.backward()
            return s.data, x.grad

        return step

    def torch_():
        torch = peers.require("torch")

        def step():
            x = torch.from_numpy(x0).requires_grad_()
            s = chain(x, torch.tanh).sum()
            s.backward()
            return s.detach(), x.grad

        return step

    def hips():
        ag = peers.require("autograd")
        anp = peers.require("autograd.numpy")
        vg = ag.value_and_grad(lambda x: anp.sum(chain(x, anp.tanh)))
        return lambda: vg(x0)

    def numpy_():
        return lambda: (chain(x0, np.tanh).sum(), None)

    return [
        Case(
            "W4 op overhead",
            f"{N_OPS} ops x {SIZE}",
            {"ours": ours, "torch": torch_, "HIPS autograd": hips, "numpy fwd only": numpy_},
            target=("torch", 1.0),
            unit="us/op",
            scale=1e6 / N_OPS,
            reference="torch",
        )
    ]
