"""Run the benchmark suite: ``python -m benchmarks [--quick] [--only W1,W4] [--rounds K]``.

Prints the machine and versions, then one table: per workload and size, each engine's median
time, ours/engine, the target and PASS/MISS. ``--markdown [PATH]`` also writes it as markdown
(default benchmarks/results.md). Exit status is 0 unless ``--strict`` and ours failed somewhere
or some engine's outputs disagreed with the reference.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import os
import platform
import sys
import time

import numpy as np

from benchmarks import (
    harness,
    peers,
    w1_scalar_mlp,
    w2_deep_chain,
    w3_tensor_mlp,
    w4_op_overhead,
    w5_info_loss,
)

ENGINE_MODULES = ["autograd_core", "nn", "losses", "autograd.numpy", "micrograd.nn"]
WORKLOADS = {
    "W1": w1_scalar_mlp,
    "W2": w2_deep_chain,
    "W3": w3_tensor_mlp,
    "W4": w4_op_overhead,
    "W5": w5_info_loss,
}


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds, smaller N (smoke run)")
    ap.add_argument("--only", help="comma-separated workloads, e.g. W1,W4")
    ap.add_argument("--rounds", type=int, help="timed rounds per case (default 7, quick 3)")
    ap.add_argument("--threads", type=int, default=1, help="BLAS and torch threads (default 1)")
    ap.add_argument(
        "--markdown",
        nargs="?",
        const="benchmarks/results.md",
        metavar="PATH",
        help="also write the table as markdown (default PATH: benchmarks/results.md)",
    )
    ap.add_argument("--strict", action="store_true", help="exit 1 on ours errors or mismatches")
    args = ap.parse_args(argv)
    names = [w.strip().upper() for w in (args.only or ",".join(WORKLOADS)).split(",") if w.strip()]
    unknown = [w for w in names if w not in WORKLOADS]
    if unknown:
        ap.error(f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}")
    args.only = names
    args.rounds = args.rounds or (3 if args.quick else 7)
    if args.rounds < 1 or args.threads < 1:
        ap.error("--rounds and --threads must be >= 1")
    return args


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def limit_threads(n: int) -> tuple[contextlib.AbstractContextManager, str]:
    """Pin NumPy's BLAS (threadpoolctl) and torch to ``n`` threads; describe what was pinned."""
    torch = peers.get("torch")
    if torch is not None:
        torch.set_num_threads(n)
    tpc = peers.get("threadpoolctl")
    if tpc is None:
        return contextlib.nullcontext(), "threadpoolctl missing: BLAS threads NOT pinned"
    ctx = tpc.threadpool_limits(limits=n)
    pools = sorted({f"{p['internal_api']} x{p['num_threads']}" for p in tpc.threadpool_info()})
    return ctx, "pools: " + (", ".join(pools) or "none found")


# glibc's mallopt parameters and the ceiling of its dynamic mmap threshold on 64-bit Linux
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX = -1, -3, 32 << 20
TRIM_NEVER = (2 << 30) - 1  # mallopt takes an int: about 2 GiB


def fix_malloc() -> str:
    """Fix glibc malloc's mmap and trim thresholds for the run; describe what was done.

    glibc raises both as it sees large blocks freed, so in one process whether an engine's
    arrays reuse freed heap or take fresh pages depends on what ran before it: at W3 batch 1024
    HIPS autograd's median sample took 0 to ~350 page faults per step from run to run, and ours
    ~200 in some runs (none alone in a process). The mmap threshold is fixed where the dynamic
    one ends up (its 32 MiB ceiling). The trim threshold is set past any engine's peak, so that
    the heap is never given back to the system mid-run: at twice the mmap threshold (where the
    dynamic one ends up), PyTorch's W5 step took up to 100k page faults a step once W3 had run
    before it (212 ms a step instead of 73 ms), and none without trimming.
    """
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)  # None: not glibc (macOS)
    if mallopt is None or not (
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX) and mallopt(M_TRIM_THRESHOLD, TRIM_NEVER)
    ):
        return "malloc: no glibc mallopt, thresholds left dynamic"
    return "malloc: glibc mmap threshold 32 MiB, trim threshold 2 GiB, fixed for the run"


def environment(threads: int, pinned: str, malloc: str) -> list[str]:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    nproc = len(os.sched_getaffinity(0))
    torch = peers.get("torch")
    versions = [
        f"Python {platform.python_version()}",
        f"numpy {np.__version__}",
        f"torch {torch.__version__ if torch else 'not installed'}",
        f"HIPS autograd {peers.version('autograd')}",
        f"micrograd {peers.version('micrograd')}",
    ]
    return [
        f"machine: load avg {load} (1/5/15 min), nproc {nproc}, CPU {cpu_model()}",
        "versions: " + ", ".join(versions),
        f"threads: {threads} for NumPy BLAS and torch ({pinned})",
        malloc,
        "method: one process, warm-up, interleaved rotating rounds, median; ours/engine is the "
        "median of same-round ratios; imports gc.freeze()d, gc.collect() before each sample, "
        "GC on unless the engine says 'gc off'",
    ]


def main(argv=None) -> int:
    args = parse_args(argv)
    for name in ENGINE_MODULES + list(peers.KNOWN):
        peers.get(name)  # import everything up front (so every BLAS pool is pinned below)
    ctx, pinned = limit_threads(args.threads)
    gc.freeze()  # keep import-time objects out of every collection
    env = environment(args.threads, pinned, fix_malloc())
    print("\n".join(env), flush=True)
    rows, problems = [], []
    t_start = time.perf_counter()
    with ctx:
        for key in args.only:
            module = WORKLOADS[key]
            try:
                cases = module.cases(args.quick)
            except Exception as exc:
                title = (module.__doc__ or key).split(":")[0]
                rows.append([title, "", "(setup)"] + [""] * 5 + [harness.describe(exc)])
                continue
            for case in cases:
                print(f"  {case.workload} [{case.size}] ...", end="", file=sys.stderr, flush=True)
                t0 = time.perf_counter()
                results = harness.run_case(case, args.rounds, 0.02 if args.quick else 0.05)
                print(f" {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
                case_rows, case_problems = harness.table_rows(case, results)
                rows += case_rows
                problems += case_problems
    footer = [
        f"rounds: {args.rounds}{' (quick)' if args.quick else ''}, total "
        f"{time.perf_counter() - t_start:.0f} s, load avg after: "
        + ", ".join(f"{x:.2f}" for x in os.getloadavg())
    ]
    footer += [f"PROBLEM: {p}" for p in problems]
    print()
    print(harness.format_text(rows))
    print("\n".join(footer))
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("\n".join(["- " + line for line in env + footer]))
            f.write("\n\n" + harness.format_markdown(rows) + "\n")
        print(f"markdown written to {args.markdown}")
    return 1 if args.strict and problems else 0


if __name__ == "__main__":
    sys.exit(main())
