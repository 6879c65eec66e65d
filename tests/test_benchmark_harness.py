"""The benchmark harness's ratio and verdict: ours/engine is the median of same-round ratios."""

import platform

import pytest

from benchmarks import harness
from benchmarks.harness import Case, Result, _warm_up, paired_ratio, run_case, table_rows


def result(engine, samples, error=None):
    res = Result(engine, samples=list(samples), error=error)
    if error is None:
        res.seconds = sorted(samples)[len(samples) // 2]
        res.spread = 0.0
    return res


def test_paired_ratio_cancels_a_drift_between_rounds():
    # The VM slows down 3x in the last round for both engines: each round's ratio is 0.9.
    ours = result("ours", [0.9, 1.8, 2.7])
    peer = result("torch", [1.0, 2.0, 3.0])
    assert paired_ratio(ours, peer) == pytest.approx(0.9)


def test_paired_ratio_is_the_median_of_the_rounds_ratios():
    ours = result("ours", [1.0, 4.0, 2.0])
    peer = result("torch", [2.0, 2.0, 4.0])  # ratios 0.5, 2.0, 0.5; the medians' ratio is 1
    assert paired_ratio(ours, peer) == pytest.approx(0.5)


def test_paired_ratio_needs_both_engines_timed():
    ours = result("ours", [1.0])
    assert paired_ratio(ours, result("torch", [], error="ImportError")) is None


@pytest.mark.parametrize(
    "ours_samples, ratio, verdict",
    [
        ([1.0, 4.0, 2.0], "0.500x", "PASS"),  # the medians' ratio would be 1.0: MISS
        ([4.0, 1.0, 8.0], "2.000x", "MISS"),
    ],
)
def test_table_ratio_and_verdict_use_the_paired_ratio(ours_samples, ratio, verdict):
    case = Case("W0 toy", "n=1", {}, target=("torch", 0.8))
    results = [result("ours", ours_samples), result("torch", [2.0, 2.0, 4.0])]
    rows, problems = table_rows(case, results)
    engine, shown, target, shown_verdict = rows[1][2], rows[1][5], rows[1][6], rows[1][7]
    assert (engine, shown, target, shown_verdict) == ("torch", ratio, "<= 0.80x", verdict)
    assert problems == []


def test_calls_per_sample_come_from_a_warm_call_not_the_first(monkeypatch):
    """A fake clock (no timing in tests): the first call costs 2^-5 s, every later one 2^-12 s."""
    clock = [0.0]
    monkeypatch.setattr(harness.time, "perf_counter", lambda: clock[0])
    calls = []

    def factory():
        def step():
            calls.append(1)
            clock[0] += 2.0**-5 if len(calls) == 1 else 2.0**-12  # a one-time cost, then warm
            return 1.0

        return step

    inner = _warm_up(Result("slow start"), factory, gc_off=False, min_sample=2.0**-7)
    assert inner == 32  # 2^-7 s / 2^-12 s; the first call alone would give 1


@pytest.mark.parametrize(
    ("rounds", "min_rounds", "max_rounds", "timed"),
    [(2, None, None, 2), (2, 5, None, 5), (7, 5, None, 7), (2, 5, 3, 3), (9, None, 3, 3)],
)
def test_a_case_gets_at_least_min_rounds_and_at_most_max_rounds(
    rounds, min_rounds, max_rounds, timed, monkeypatch
):
    """A fake clock (no timing in tests): every call costs 2^-12 s, so the ratio is exactly 1."""
    clock = [0.0]
    monkeypatch.setattr(harness.time, "perf_counter", lambda: clock[0])

    def factory():
        def step():
            clock[0] += 2.0**-12
            return 1.0

        return step

    case = Case(
        "W0 test",
        "tiny",
        {"ours": factory, "peer": factory},
        target=("peer", 1.0),
        min_rounds=min_rounds,
        max_rounds=max_rounds,
    )
    results = run_case(case, rounds, min_sample=2.0**-10)
    assert [len(r.samples) for r in results] == [timed, timed]
    rows, problems = table_rows(case, results)
    assert not problems and (rows[1][5], rows[1][7]) == ("1.000x", "PASS")
    # said where the case sets its own count
    assert rows[0][8] == (f"{timed} rounds" if min_rounds or max_rounds else "")


def test_fix_malloc_says_fixed_on_glibc_and_dynamic_elsewhere():
    from benchmarks.__main__ import fix_malloc

    glibc = platform.libc_ver()[0] == "glibc"
    expected = "fixed for the run" if glibc else "left dynamic"
    assert fix_malloc().endswith(expected)
