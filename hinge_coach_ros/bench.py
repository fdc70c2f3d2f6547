"""Benchmark of the C++ kernels against their numpy references, in one run.

Prints per-call times and the ratio measured on the same input in the same
process, so the number means something on a noisy machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from . import kernels, kernels_ref


def _best_of(fn: Callable[[], object], repeats: int) -> float:
    """Median seconds per call (median resists the machine's other load)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def back_profile_like_points(n: int, seed: int = 0) -> np.ndarray:
    """A noisy line of n 3D points with 10% outliers and a few NaN holes, like a back profile."""
    rng = np.random.default_rng(seed)
    s = np.linspace(0.0, 0.6, n)
    pts = np.stack([0.4 * s, -0.9 * s, 3.0 + 0.1 * s], axis=1) + rng.normal(0, 0.004, (n, 3))
    out = rng.random(n) < 0.1
    pts[out] += rng.normal(0, 0.08, (out.sum(), 3))
    pts[rng.random(n) < 0.02] = np.nan
    return pts


def run_benchmarks(repeats: int = 200) -> list[tuple[str, float, float]]:
    rows = []
    for n in (3, 60, 480):
        pts = back_profile_like_points(n)
        cpp = _best_of(lambda p=pts: kernels.robust_line_fit(p), repeats)
        ref = _best_of(lambda p=pts: kernels_ref.robust_line_fit(p), repeats)
        rows.append((f"robust_line_fit n={n}", cpp, ref))
    print(f"{'kernel':<26} {'C++ us':>9} {'numpy us':>9} {'ratio':>7}")
    for name, cpp, ref in rows:
        print(f"{name:<26} {cpp * 1e6:>9.1f} {ref * 1e6:>9.1f} {ref / cpp:>6.1f}x")
    return rows
