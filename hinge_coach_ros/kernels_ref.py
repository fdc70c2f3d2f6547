"""numpy references of the C++ kernels in ``src/kernels.cpp``.

Each function follows its C++ twin step by step (same iteration count,
weights, eigenvector formula and sign convention) so randomized parity tests
can compare them, and the benchmark can time them on the same input.
"""

from __future__ import annotations

import math

import numpy as np


def _principal_direction(a: np.ndarray) -> np.ndarray | None:
    """Unit eigenvector of the largest eigenvalue of symmetric 3x3 ``a``."""
    p1 = a[0, 1] ** 2 + a[0, 2] ** 2 + a[1, 2] ** 2
    q = np.trace(a) / 3.0
    p2 = ((np.diag(a) - q) ** 2).sum() + 2.0 * p1
    p = math.sqrt(p2 / 6.0)
    if not p > 1e-300:
        return None
    b = (a - q * np.eye(3)) / p
    r = min(1.0, max(-1.0, float(np.linalg.det(b)) / 2.0))
    lam = q + 2.0 * p * math.cos(math.acos(r) / 3.0)
    rows = a - lam * np.eye(3)
    candidates = np.array(
        [np.cross(rows[0], rows[1]), np.cross(rows[0], rows[2]), np.cross(rows[1], rows[2])]
    )
    norms = np.linalg.norm(candidates, axis=1)
    best = int(np.argmax(norms))
    if not norms[best] > 1e-300:
        return None
    out = candidates[best] / norms[best]
    k = int(np.argmax(np.abs(out)))
    return -out if out[k] < 0 else out


def robust_line_fit(
    points: np.ndarray,
    weights: np.ndarray | None = None,
    iterations: int = 8,
    huber_k: float = 1.5,
    min_scale: float = 1e-4,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Robust (Huber IRLS) total-least-squares line; see the C++ docstring."""
    pts = np.asarray(points, dtype=float)
    if pts.ndim != 2 or pts.shape[1] not in (2, 3):
        raise ValueError("points must be an (N, 2) or (N, 3) array")
    if iterations < 1:
        raise ValueError("iterations must be at least 1")
    if not (huber_k > 0 and min_scale > 0):
        raise ValueError("huber_k and min_scale must be positive")
    n, dim = pts.shape
    prior = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    if prior.shape != (n,):
        raise ValueError("weights must be a 1-D array with one value per point")
    p = np.zeros((n, 3))
    p[:, :dim] = pts
    valid = np.isfinite(p).all(axis=1) & np.isfinite(prior) & (prior > 0)
    centroid_out = np.full(dim, np.nan)
    direction_out = np.full(dim, np.nan)
    distance_out = np.full(n, np.nan)
    if valid.sum() < 2:
        return centroid_out, direction_out, distance_out, False
    q_all = p[valid]
    w = prior[valid].copy()
    for _ in range(iterations):
        wsum = w.sum()
        if not wsum > 0:
            return centroid_out, direction_out, distance_out, False
        centroid = (w[:, None] * q_all).sum(axis=0) / wsum
        q = q_all - centroid
        cov = (w[:, None, None] * q[:, :, None] * q[:, None, :]).sum(axis=0)
        direction = _principal_direction(cov)
        if direction is None:
            return centroid_out, direction_out, distance_out, False
        along = q @ direction
        dist = np.sqrt(np.maximum((q * q).sum(axis=1) - along * along, 0.0))
        limit = huber_k * max(1.4826 * float(np.median(dist)), min_scale)
        w = prior[valid] * np.where(dist <= limit, 1.0, limit / np.maximum(dist, 1e-300))
    centroid_out[:] = centroid[:dim]
    direction_out[:] = direction[:dim]
    distance_out[valid] = dist
    return centroid_out, direction_out, distance_out, True
