"""Statistics the benchmarks report: percentiles, medians over runs, fits and busy-time unions.

Pure functions, so the arithmetic behind every published number is unit-tested.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) with linear interpolation between ranks (numpy's default)."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Iterable[float]) -> float:
    data = list(values)
    if not data:
        raise ValueError("median of no values")
    return statistics.median(data)


@dataclass(frozen=True)
class Latency:
    """p50 / p99 of one run, in seconds."""

    p50: float
    p99: float
    n: int

    @classmethod
    def of(cls, samples: Sequence[float]) -> Latency:
        return cls(percentile(samples, 50), percentile(samples, 99), len(samples))


def median_latency(runs: Sequence[Latency]) -> Latency:
    """Medians of the per-run p50 and p99: one noisy run cannot move the published figure."""
    return Latency(median(r.p50 for r in runs), median(r.p99 for r in runs), sum(r.n for r in runs))


@dataclass(frozen=True)
class Fit:
    """Least-squares line ``y = slope * x + intercept`` and its coefficient of determination."""

    slope: float
    intercept: float
    r2: float

    def at(self, x: float) -> float:
        return self.slope * x + self.intercept


def linear_fit(xs: Sequence[float], ys: Sequence[float]) -> Fit:
    if len(xs) != len(ys) or len(xs) < 2:
        raise ValueError("a fit needs at least two (x, y) pairs of equal length")
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        raise ValueError("a fit needs at least two distinct x values")
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    intercept = my - slope * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - (slope * x + intercept)) ** 2 for x, y in zip(xs, ys, strict=True))
    r2 = 1.0 if ss_tot == 0 else 1 - ss_res / ss_tot
    return Fit(slope, intercept, r2)


def growth_exponent(sizes: Sequence[float], times: Sequence[float]) -> float:
    """Slope of log(time) against log(size): 1 is linear, below 1 sub-linear, 2 quadratic."""
    if any(s <= 0 for s in sizes) or any(t <= 0 for t in times):
        raise ValueError("sizes and times must be positive")
    return linear_fit([math.log(s) for s in sizes], [math.log(t) for t in times]).slope


def union_length(intervals: Iterable[tuple[float, float]], lo: float, hi: float) -> float:
    """Total time within ``[lo, hi]`` covered by at least one interval (overlaps count once).

    Used to subtract the stand-ins' own server time from an end-to-end window: two requests served
    at the same moment must not be subtracted twice.
    """
    clipped = sorted((max(a, lo), min(b, hi)) for a, b in intervals if b > lo and a < hi)
    total = 0.0
    cur_start = cur_end = None
    for a, b in clipped:
        if b <= a:
            continue
        if cur_end is None or a > cur_end:
            if cur_end is not None:
                total += cur_end - cur_start  # type: ignore[operator]
            cur_start, cur_end = a, b
        else:
            cur_end = max(cur_end, b)
    if cur_end is not None:
        total += cur_end - cur_start  # type: ignore[operator]
    return total


def trend_per_1000(counts: Sequence[float], values: Sequence[float]) -> float:
    """Slope of ``values`` against ``counts`` scaled to 1,000 counts (e.g. MB of RSS per 1,000 commands)."""
    return linear_fit(counts, values).slope * 1000
