"""W1 scalar MLP: micrograd's classic demo, one SGD step per call, all in scalar ops.

MLP 2-16-16-1 (ReLU hidden, linear out) on 100 two-moons points, loss = mean SVM max-margin
(1 - y * score).relu() + 1e-4 * sum(p * p); one step = forward over all points, backward, SGD
update of p.data. Ours runs the same structure as micrograd.nn (the tiny Neuron/Layer/MLP below,
on autograd_core's scalar Value). Every engine starts from the same weights.
"""

from __future__ import annotations

import random

from benchmarks import peers
from benchmarks.harness import Case

SIZES = [2, 16, 16, 1]
N_POINTS = 100
ALPHA = 1e-4
LR = 0.05
SEED = 0


class Neuron:
    """micrograd.nn.Neuron, over any scalar Value class."""

    def __init__(self, value_cls, nin, nonlin=True):
        self.w = [value_cls(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = value_cls(0.0)
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]


class Layer:
    """micrograd.nn.Layer."""

    def __init__(self, value_cls, nin, nout, **kwargs):
        self.neurons = [Neuron(value_cls, nin, **kwargs) for _ in range(nout)]

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]


class MLP:
    """micrograd.nn.MLP, with micrograd.nn.Module's zero_grad spelled via Value.zero_grad()."""

    def __init__(self, value_cls, nin, nouts):
        sz = [nin] + nouts
        n = len(nouts)
        self.layers = [Layer(value_cls, sz[i], sz[i + 1], nonlin=i != n - 1) for i in range(n)]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def zero_grad(self):
        for p in self.parameters():
            p.zero_grad()

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


def initial_weights() -> list[float]:
    """Parameters in micrograd's order: per neuron, nin weights ~ U(-1, 1) then bias 0."""
    rng = random.Random(SEED)
    out = []
    for nin, nout in zip(SIZES, SIZES[1:]):
        for _ in range(nout):
            out += [rng.uniform(-1, 1) for _ in range(nin)] + [0.0]
    return out


def loss(value_cls, model, X, y):
    """micrograd demo's loss: SVM max-margin over all points + L2."""
    inputs = [[value_cls(a), value_cls(b)] for a, b in X]
    scores = [model(x) for x in inputs]
    losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    return data_loss + ALPHA * sum(p * p for p in model.parameters())


def make_step(value_cls, model, X, y, zero_grad):
    """One training step; returns (loss, grad of the first parameter) for the check."""
    params = model.parameters()
    for p, w in zip(params, initial_weights(), strict=True):
        p.data = w

    def step():
        total = loss(value_cls, model, X, y)
        zero_grad()
        total.backward()
        for p in params:
            p.data -= LR * p.grad
        return total.data, params[0].grad

    return step


def count_nodes(root) -> int:
    """Nodes in a micrograd graph (iterative walk over _prev)."""
    seen, stack = {id(root)}, [root]
    while stack:
        for child in stack.pop()._prev:
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return len(seen)


def cases(quick: bool) -> list[Case]:
    make_moons = peers.require("sklearn.datasets").make_moons
    Xa, ya = make_moons(n_samples=N_POINTS, noise=0.1, random_state=SEED)
    X, y = Xa.tolist(), (ya * 2 - 1).tolist()  # Python floats/ints, labels -1/+1

    def ours():
        from autograd_core import Value

        model = MLP(Value, SIZES[0], SIZES[1:])
        return make_step(Value, model, X, y, model.zero_grad)

    def micrograd():
        mg_nn = peers.require("micrograd.nn")
        model = mg_nn.MLP(SIZES[0], SIZES[1:])
        return make_step(mg_nn.Value, model, X, y, model.zero_grad)

    def nodes_micrograd():
        mg_nn = peers.require("micrograd.nn")
        model = mg_nn.MLP(SIZES[0], SIZES[1:])
        return f"{count_nodes(loss(mg_nn.Value, model, X, y)):,} nodes/step"

    def nodes_ours():
        from autograd_core import Value, backward_steps

        model = MLP(Value, SIZES[0], SIZES[1:])
        n = sum(1 for _ in backward_steps(loss(Value, model, X, y)))
        return f"{n:,} nodes/step (backward_steps)"

    return [
        Case(
            "W1 scalar MLP",
            f"{N_POINTS} pts",
            {"ours": ours, "micrograd": micrograd, "micrograd, gc off": micrograd},
            target=("micrograd, gc off", 1.0),
            unit="ms/step",
            gc_off=frozenset({"micrograd, gc off"}),
            notes={"ours": nodes_ours, "micrograd": nodes_micrograd},
            reference="micrograd",  # the independent implementation: a wrong ours is named
        )
    ]
