"""The timing method shared by every workload, and the table it prints.

A workload module exposes ``cases(quick) -> list[Case]``. A :class:`Case` is one workload at one
size: shared setup (done when the case is built) plus, per engine, a *factory*: a zero-arg
callable that builds the engine's state and returns the zero-arg *step* that is timed. A factory
or step that raises (a missing peer, a feature ours lacks yet, a RecursionError) turns that
engine's row into a note; the other engines still run.

Method, identical for every workload:

* all engines run in this one process, with the thread count fixed by ``__main__``;
* warm-up: each engine's step runs once (its outputs are kept for the numerical check) and again
  if it is fast; the number of calls per sample (``inner``) is chosen so a sample lasts at least
  ``min_sample`` seconds (only the micro-workloads need more than one call);
* the outputs of every engine are compared with the reference engine's once, before timing;
* then ``rounds`` interleaved rounds: round r runs every engine once, the order rotated by r
  (at least ``Case.min_rounds`` for a size whose ratio sits so near its target that a verdict
  from fewer rounds flips between runs; at most ``Case.max_rounds`` for very slow sizes);
* ``__main__`` imports every engine up front and calls ``gc.freeze()``, so a collection never
  scans the import-time objects of peers (torch alone adds ~150k) that an engine would not
  share a process with outside this harness;
* ``gc.collect()`` runs (untimed) before every sample so no engine pays for another's garbage;
  the GC stays enabled during the sample unless the engine is listed in ``Case.gc_off``;
* after each sample of a BLAS-heavy case the harness sleeps ``BLAS_PAUSE`` s (spinning
  OpenBLAS threads);
* the reported time is the median over rounds; spread is (max - min) / median;
* ours/engine is the median over rounds of the ratio of the two engines' samples in the same
  round: they were measured side by side, so a drift of the machine's speed between rounds
  cancels (a ratio of the two medians moved 2.5-4x more from run to run on the project's VM).
"""

from __future__ import annotations

import gc
import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmarks.peers import Missing

Step = Callable[[], Any]
Factory = Callable[[], Step]

BLAS_PAUSE = 0.15
OURS = "ours"


@dataclass
class Case:
    """One workload at one size: engines to time, how to report them, and the target."""

    workload: str  # "W1 scalar MLP"
    size: str  # "100 pts"
    engines: dict[str, Factory]  # engine name -> factory returning the timed step
    target: tuple[str, float] | None = None  # (peer, max ratio ours/peer)
    unit: str = "ms"  # label of the displayed time
    scale: float = 1e3  # seconds per step -> displayed number
    blas: bool = False  # pause after each sample
    rtol: float = 1e-9  # output check: max|out - ref| <= rtol * max|ref| + atol
    atol: float = 1e-300  # only forgives underflow (denormal vs zero)
    reference: str | None = None  # engine the others are checked against (default: first ok)
    gc_off: frozenset[str] = frozenset()  # engines timed with gc.disable()
    notes: dict[str, Callable[[], str]] = field(default_factory=dict)  # untimed, once
    max_rounds: int | None = None  # cap for very slow sizes
    min_rounds: int | None = None  # floor for a ratio that sits within the noise of its target


@dataclass
class Result:
    """What one engine did in one case."""

    engine: str
    seconds: float | None = None  # median seconds per step
    spread: float | None = None
    note: str = ""
    error: str | None = None
    mismatch: str | None = None
    outputs: tuple | None = field(default=None, repr=False)
    step: Step | None = field(default=None, repr=False)
    samples: list[float] = field(default_factory=list, repr=False)


class Skipped(Exception):
    """Raised by a factory to leave an engine out of a case on purpose; the message is the note."""


def describe(exc: BaseException, limit: int = 90) -> str:
    """A one-line description of an exception for a table cell."""
    if isinstance(exc, (Missing, Skipped)):
        return str(exc)
    if isinstance(exc, RecursionError):
        return "RecursionError"
    text = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _to_array(x: Any) -> np.ndarray | None:
    """Copy an output (float, ndarray, torch tensor, Value) to a float64 array."""
    if x is None:
        return None
    if hasattr(x, "detach"):  # torch
        x = x.detach().cpu().numpy()
    return np.array(x, dtype=np.float64)


def _timed(step: Step, inner: int, gc_off: bool) -> tuple[float, Any]:
    """Seconds per call over ``inner`` calls of ``step`` (after an untimed gc.collect()), and
    the last call's return value."""
    gc.collect()
    if gc_off:
        gc.disable()
    try:
        t0 = time.perf_counter()
        for _ in range(inner):
            out = step()
        return (time.perf_counter() - t0) / inner, out
    finally:
        if gc_off:
            gc.enable()


def _warm_up(res: Result, factory: Factory, gc_off: bool, min_sample: float) -> int:
    """Build the engine and run it once, keeping its outputs; return the calls per sample.

    The calls per sample come from a warm call where the first is cheap: a first call that
    pays one-time costs (imports, caches, allocator) would give short samples, in which the
    cold start of each sample after the harness's pauses weighs more.
    """
    res.step = factory()
    first, out = _timed(res.step, 1, gc_off)
    res.outputs = tuple(_to_array(x) for x in (out if isinstance(out, tuple) else (out,)))
    inner = max(1, math.ceil(min_sample / max(first, 1e-9)))
    if first < 0.5:  # cheap: a second warm-up at the timing granularity, which sets inner
        warm, _ = _timed(res.step, inner, gc_off)
        inner = max(1, math.ceil(min_sample / max(warm, 1e-9)))
    return inner


def _check(case: Case, results: dict[str, Result]) -> None:
    """Compare every engine's warm-up outputs with the reference engine's (normwise rtol)."""
    ok = [r for r in results.values() if r.error is None]
    ref = results.get(case.reference) if case.reference else None
    ref = ref if ref is not None and ref.error is None else (ok[0] if ok else None)
    if ref is None:
        return
    for res in ok:
        if res is ref:
            continue
        for i, (a, b) in enumerate(zip(res.outputs, ref.outputs)):
            if a is None or b is None:
                continue
            if a.shape != b.shape:
                res.mismatch = f"output {i}: shape {a.shape} vs {ref.engine} {b.shape}"
                break
            err = float(np.max(np.abs(a - b), initial=0.0))
            size = float(np.max(np.abs(b), initial=0.0))
            if not err <= case.rtol * size + case.atol:  # also catches NaN
                res.mismatch = (
                    f"output {i}: max|diff| {err:.3g} vs {ref.engine} (max|ref| {size:.3g}, "
                    f"rtol {case.rtol:g})"
                )
                break
        if res.mismatch:
            print(
                f"!!! MISMATCH {case.workload} [{case.size}] {res.engine}: {res.mismatch}",
                file=sys.stderr,
            )


def run_case(case: Case, rounds: int, min_sample: float = 0.05) -> list[Result]:
    """Warm up, check and time every engine of ``case``; return one Result per engine."""
    results = {name: Result(name) for name in case.engines}
    inner: dict[str, int] = {}
    for name, factory in case.engines.items():
        res = results[name]
        try:
            inner[name] = _warm_up(res, factory, name in case.gc_off, min_sample)
        except Exception as exc:  # RecursionError included
            res.error, res.step = describe(exc), None
            gc.collect()
        if case.blas:
            time.sleep(BLAS_PAUSE)
    _check(case, results)
    for name, note in case.notes.items():
        if results[name].error is None:
            try:
                results[name].note = note()
            except Exception as exc:
                results[name].note = f"note failed: {describe(exc)}"
    names = [n for n in case.engines if results[n].error is None]
    n_rounds = max(rounds, case.min_rounds or 0)
    for r in range(min(n_rounds, case.max_rounds or n_rounds)):
        k = r % max(len(names), 1)
        for name in names[k:] + names[:k]:
            res = results[name]
            if res.error is not None:
                continue
            try:
                res.samples.append(_timed(res.step, inner[name], name in case.gc_off)[0])
            except Exception as exc:
                res.error = describe(exc)
            if case.blas:
                time.sleep(BLAS_PAUSE)
    for res in results.values():
        res.step = None  # free the engine's state before the next case
        if res.error is None and res.samples:
            res.seconds = statistics.median(res.samples)
            res.spread = (max(res.samples) - min(res.samples)) / res.seconds
    gc.collect()
    return list(results.values())


HEADER = [
    "workload",
    "size",
    "engine",
    "median",
    "spread",
    "ours/engine",
    "target",
    "result",
    "note",
]


def paired_ratio(ours: Result, other: Result) -> float | None:
    """Median over rounds of ours' sample / the other engine's sample of the same round."""
    if ours.seconds is None or other.seconds is None:
        return None
    return statistics.median(a / b for a, b in zip(ours.samples, other.samples, strict=True))


def table_rows(case: Case, results: list[Result]) -> tuple[list[list[str]], list[str]]:
    """Table rows for one case, and the list of problems (ours errors, mismatches)."""
    by_name = {r.engine: r for r in results}
    ours = by_name.get(OURS)
    rows, problems = [], []
    for i, res in enumerate(results):
        median = spread = ratio = target = verdict = ""
        r = paired_ratio(ours, res) if ours is not None and res is not ours else None
        if res.seconds is not None:
            t = res.seconds * case.scale
            median = f"{t:,.0f} {case.unit}" if t >= 1000 else f"{t:.4g} {case.unit}"
            spread = f"{100 * res.spread:.0f}%"
            if r is not None:
                ratio = f"{r:.3f}x"
        if case.target and res.engine == case.target[0]:
            target = f"<= {case.target[1]:.2f}x"
            if ours is None or ours.error is not None:
                verdict = "MISS (ours failed)"
            elif r is None:
                verdict = "n/a"
            else:
                verdict = "PASS" if r <= case.target[1] else "MISS"
        note = res.error or res.note
        if res is ours and (case.min_rounds or case.max_rounds) and res.samples:
            note = f"{len(res.samples)} rounds" + (f"; {note}" if note else "")
        if res.mismatch:
            verdict = (verdict + " " if verdict else "") + "MISMATCH"
            note = f"MISMATCH {res.mismatch}" + (f"; {note}" if note else "")
            problems.append(f"{case.workload} [{case.size}] {res.engine}: {res.mismatch}")
        if res.engine == OURS and res.error:
            problems.append(f"{case.workload} [{case.size}] ours: {res.error}")
        label = [case.workload, case.size] if i == 0 else ["", ""]
        rows.append(label + [res.engine, median, spread, ratio, target, verdict, note])
    return rows, problems


def format_text(rows: list[list[str]]) -> str:
    """A plain aligned table (numbers right-aligned)."""
    cols = list(zip(HEADER, *rows))
    widths = [max(len(c) for c in col) for col in cols]
    right = {3, 4, 5}

    def line(cells):
        return "  ".join(
            c.rjust(w) if j in right else c.ljust(w) for j, (c, w) in enumerate(zip(cells, widths))
        ).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(HEADER), sep] + [line(r) for r in rows])


def format_markdown(rows: list[list[str]]) -> str:
    """The same table as GitHub markdown."""
    align = ["---:" if j in (3, 4, 5) else "---" for j in range(len(HEADER))]
    out = ["| " + " | ".join(HEADER) + " |", "| " + " | ".join(align) + " |"]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(out)
