"""W2 deep chain: y = tanh(0.999 * y + 0.001) applied N times to a scalar leaf, then backward.

Each call builds the chain from a fresh leaf x = 0.5 and returns (y, dy/dx). The chain has 3 ops
per step (mul, add, tanh); bytes/node below divide the graph's memory by 3N. Memory is measured
once (untimed) at N = 1e5: tracemalloc peak and RSS delta for ours, RSS delta for torch (its C++
allocations are invisible to tracemalloc), each after gc.collect() and malloc_trim.
"""

from __future__ import annotations

import ctypes
import gc
import math
import os
import tracemalloc

from benchmarks import peers
from benchmarks.harness import Case, Skipped

X0 = 0.5
MEM_N = 100_000


def micrograd_tanh(self):
    """tanh for micrograd 0.1.0's Value, written exactly as micrograd's own ops are."""
    Value = type(self)
    x = self.data
    t = (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1)
    out = Value(t, (self,), "tanh")

    def _backward():
        self.grad += (1 - t**2) * out.grad

    out._backward = _backward
    return out


def rss_bytes() -> int:
    """Resident set size of this process, from /proc/self/statm."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _settle() -> None:
    """Free garbage and hand freed heap back to the OS so an RSS delta means something."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def rss_per_node(build, n: int) -> float:
    """RSS growth while ``build()`` holds its N-step graph, per node (3 per step)."""
    _settle()
    before = rss_bytes()
    graph = build()
    delta = rss_bytes() - before
    del graph
    _settle()
    return delta / (3 * n)


def cases(quick: bool) -> list[Case]:
    sizes = [10_000, 100_000] + ([] if quick else [1_000_000])
    return [_case(n, quick) for n in sizes]


def _case(n: int, quick: bool) -> Case:
    def build_ours():
        from autograd_core import Value

        x = Value(X0)
        y = x
        for _ in range(n):
            y = (0.999 * y + 0.001).tanh()
        return x, y

    def ours():
        def step():
            x, y = build_ours()
            y.backward()
            return y.data, x.grad

        return step

    def build_torch():
        torch = peers.require("torch")
        x = torch.tensor(X0, dtype=torch.float64, requires_grad=True)
        y = x
        for _ in range(n):
            y = (0.999 * y + 0.001).tanh()
        return x, y

    def torch_():
        peers.require("torch")

        def step():
            x, y = build_torch()
            y.backward()
            return y.detach(), x.grad

        return step

    def hips():
        if quick and n > 10_000:
            raise Skipped("skipped in --quick (~10 s/call at N=1e5)")
        ag = peers.require("autograd")
        anp = peers.require("autograd.numpy")

        def f(y):
            for _ in range(n):
                y = anp.tanh(0.999 * y + 0.001)
            return y

        vg = ag.value_and_grad(f)
        return lambda: vg(X0)

    def micrograd():
        Value = peers.require("micrograd.engine").Value

        def step():
            x = Value(X0)
            y = x
            for _ in range(n):
                y = micrograd_tanh(0.999 * y + 0.001)
            y.backward()
            return y.data, x.grad

        return step

    def mem_ours():
        _settle()
        tracemalloc.start()
        graph = build_ours()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        del graph
        rss = rss_per_node(build_ours, n)
        return f"{peak / (3 * n):.0f} B/node (tracemalloc peak), {rss:.0f} B/node (RSS)"

    def mem_torch():
        return f"{rss_per_node(build_torch, n):.0f} B/node (RSS)"

    mem = {"ours": mem_ours, "torch": mem_torch} if n == MEM_N else {}
    return Case(
        "W2 deep chain",
        f"N={n:.0e}".replace("e+0", "e"),
        {"ours": ours, "torch": torch_, "HIPS autograd": hips, "micrograd": micrograd},
        target=("torch", 1.0),
        unit="ms",
        reference="torch",
        notes=mem,
        max_rounds=1 if quick and n > 10_000 else 3 if n >= 1_000_000 else None,
    )
