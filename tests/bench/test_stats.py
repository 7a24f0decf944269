"""The arithmetic behind every published benchmark figure."""

from __future__ import annotations

import math

import pytest

from bench.stats import (
    Latency,
    growth_exponent,
    linear_fit,
    median,
    median_latency,
    percentile,
    trend_per_1000,
    union_length,
)


def test_percentile_interpolates_between_ranks_like_numpy() -> None:
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 50) == 3.0
    assert percentile(values, 100) == 5.0
    assert percentile(values, 25) == 2.0
    assert percentile([1.0, 2.0], 99) == pytest.approx(1.99)


def test_p99_of_a_hundred_samples_is_pulled_up_by_the_slowest() -> None:
    samples = [0.010] * 98 + [0.050, 0.500]
    lat = Latency.of(samples)
    assert lat.p50 == pytest.approx(0.010)
    assert 0.05 < lat.p99 < 0.5
    assert lat.n == 100


def test_percentile_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_median_over_runs_ignores_one_noisy_run() -> None:
    runs = [Latency(0.010, 0.020, 100), Latency(0.011, 0.021, 100), Latency(0.200, 0.900, 100)]
    combined = median_latency(runs)
    assert combined.p50 == 0.011
    assert combined.p99 == 0.021
    assert combined.n == 300
    assert median([3, 1, 2]) == 2


def test_linear_fit_recovers_a_line() -> None:
    fit = linear_fit([10, 50, 100, 300], [1 + 0.02 * x for x in (10, 50, 100, 300)])
    assert fit.slope == pytest.approx(0.02)
    assert fit.intercept == pytest.approx(1.0)
    assert fit.r2 == pytest.approx(1.0)
    assert fit.at(200) == pytest.approx(5.0)


def test_linear_fit_needs_two_distinct_points() -> None:
    with pytest.raises(ValueError):
        linear_fit([1], [1])
    with pytest.raises(ValueError):
        linear_fit([2, 2], [1, 3])


def test_growth_exponent_tells_linear_from_quadratic() -> None:
    sizes = [10, 50, 100, 300]
    assert growth_exponent(sizes, [0.01 * s for s in sizes]) == pytest.approx(1.0)
    assert growth_exponent(sizes, [0.01 * s * s for s in sizes]) == pytest.approx(2.0)
    # a builder that stops growing once the modal is full (100 blocks) is sub-linear
    assert growth_exponent(sizes, [0.01 * min(s, 100) for s in sizes]) < 1


def test_union_length_counts_overlaps_once_and_clips_to_the_window() -> None:
    assert union_length([(0, 2), (1, 3)], 0, 10) == 3
    assert union_length([(0, 2), (5, 6)], 1, 5.5) == pytest.approx(1.5)
    assert union_length([(0, 1), (0.2, 0.5), (2, 3)], 0, 10) == 2
    assert union_length([(20, 30)], 0, 10) == 0
    assert union_length([], 0, 10) == 0


def test_trend_is_per_thousand() -> None:
    counts = [500, 600, 700, 800, 900, 1000]
    flat = [57.0] * len(counts)
    leaking = [50 + c / 100 for c in counts]  # 1 MB per 100 commands
    assert trend_per_1000(counts, flat) == pytest.approx(0.0)
    assert math.isclose(trend_per_1000(counts, leaking), 10.0)
