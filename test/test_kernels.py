"""Parity of the C++ kernels with their numpy references, on random and hostile input."""

import numpy as np
import pytest

from hinge_coach_ros import kernels, kernels_ref


def _line_cloud(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    direction = rng.normal(size=dim)
    direction /= np.linalg.norm(direction)
    s = rng.uniform(-1.0, 1.0, n)
    pts = rng.normal(size=dim) + s[:, None] * direction + rng.normal(0, 0.01, (n, dim))
    outliers = rng.random(n) < 0.15
    pts[outliers] += rng.normal(0, 0.3, (outliers.sum(), dim))
    return pts


@pytest.mark.parametrize("seed", range(40))
def test_robust_line_fit_matches_reference_on_random_input(seed):
    rng = np.random.default_rng(seed)
    dim = 2 + seed % 2
    n = int(rng.integers(3, 400))
    pts = _line_cloud(rng, n, dim)
    holes = rng.random(n) < 0.1
    pts[holes, int(rng.integers(dim))] = np.nan
    weights = rng.uniform(0.0, 1.0, n) if seed % 3 == 0 else None
    got = kernels.robust_line_fit(pts, weights)
    ref = kernels_ref.robust_line_fit(pts, weights)
    assert got[3] == ref[3]
    for g, r in zip(got[:3], ref[:3]):
        np.testing.assert_allclose(g, r, rtol=1e-7, atol=1e-9, equal_nan=True)
    if got[3]:
        assert np.isnan(got[2][~np.isfinite(pts).all(axis=1)]).all()


def test_robust_line_fit_recovers_a_line_despite_outliers():
    rng = np.random.default_rng(3)
    s = np.linspace(0, 1, 100)
    pts = np.stack([s, 2 * s + 1, -s], axis=1) + rng.normal(0, 0.002, (100, 3))
    pts[::10] += np.array([0.0, 0.5, 0.0])  # 10% gross outliers
    centroid, direction, dist, ok = kernels.robust_line_fit(pts)
    truth = np.array([1.0, 2.0, -1.0]) / np.sqrt(6.0)
    assert ok
    assert abs(abs(direction @ truth) - 1.0) < 1e-3
    assert np.median(dist) < 0.005
    # Each outlier is 0.5 * sqrt(1 - 4/6) = 0.289 from the true line, and stays so.
    np.testing.assert_allclose(dist[::10], 0.289, atol=0.01)


@pytest.mark.parametrize(
    "points",
    [
        np.zeros((0, 3)),
        np.array([[1.0, 2.0, 3.0]]),
        np.full((5, 3), np.nan),
        np.ones((6, 3)),  # all points equal: no direction
        np.array([[0.0, 0.0], [np.nan, 1.0]]),
    ],
)
def test_robust_line_fit_degenerate_input_gives_no_line_in_both(points):
    for impl in (kernels.robust_line_fit, kernels_ref.robust_line_fit):
        centroid, direction, dist, ok = impl(points)
        assert not ok
        assert np.isnan(direction).all() and np.isnan(dist).all()
        assert dist.shape == (len(points),)


@pytest.mark.parametrize("impl", [kernels.robust_line_fit, kernels_ref.robust_line_fit])
def test_robust_line_fit_rejects_bad_shapes(impl):
    with pytest.raises(ValueError, match="points must be"):
        impl(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="weights"):
        impl(np.zeros((4, 3)), np.ones(3))
    with pytest.raises(ValueError, match="iterations"):
        impl(np.zeros((4, 3)), None, 0)


def test_zero_weights_drop_points_in_both():
    pts = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [5.0, -3.0]])
    w = np.array([1.0, 1.0, 1.0, 0.0])
    for impl in (kernels.robust_line_fit, kernels_ref.robust_line_fit):
        _, direction, dist, ok = impl(pts, w)
        assert ok
        np.testing.assert_allclose(np.abs(direction), [np.sqrt(0.5)] * 2, atol=1e-9)
        assert np.isnan(dist[3])
