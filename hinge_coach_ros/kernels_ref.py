"""numpy references of the C++ kernels in ``src/kernels.cpp``.

Each function follows its C++ twin step by step (same iteration count,
weights, eigenvector formula and sign convention) so randomized parity tests
can compare them, and the benchmark can time them on the same input.
"""

from __future__ import annotations

import math

import numpy as np

_TWO_THIRDS_PI = 2.0 * math.pi / 3.0


def _symmetric_eigenvector(a: np.ndarray, largest: bool = True) -> np.ndarray | None:
    """Unit eigenvector of the largest (or smallest) eigenvalue of symmetric 3x3 ``a``."""
    p1 = a[0, 1] ** 2 + a[0, 2] ** 2 + a[1, 2] ** 2
    q = np.trace(a) / 3.0
    p2 = ((np.diag(a) - q) ** 2).sum() + 2.0 * p1
    p = math.sqrt(p2 / 6.0)
    if not p > 1e-300:
        return None
    b = (a - q * np.eye(3)) / p
    r = min(1.0, max(-1.0, float(np.linalg.det(b)) / 2.0))
    phi = math.acos(r) / 3.0
    lam = q + 2.0 * p * math.cos(phi if largest else phi + _TWO_THIRDS_PI)
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
        direction = _symmetric_eigenvector(cov, largest=True)
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


# ---------------------------------------------------------------------------
# Depth images and camera models.

_UNDISTORT_ITERATIONS = 10
_SPLITMIX_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_DEPTH_TYPES = (np.dtype(np.uint16), np.dtype(np.float32), np.dtype(np.float64))


def _depth_image(depth: np.ndarray, depth_scale: float | None) -> tuple[np.ndarray, float]:
    """The depth array and its metres-per-unit scale (uint16: 0.001, float: 1.0 by default)."""
    arr = np.asarray(depth)
    if arr.ndim != 2 or arr.dtype not in _DEPTH_TYPES:
        raise ValueError("depth must be a 2-D (H, W) uint16 or float32 image")
    if depth_scale is None:
        scale = 0.001 if arr.dtype == np.uint16 else 1.0
    else:
        scale = float(depth_scale)
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError("depth_scale must be a positive number of metres per unit")
    return arr, scale


def _camera(intrinsics, distortion) -> tuple[tuple[float, ...], tuple[float, ...] | None]:
    """((fx, fy, cx, cy), (k1, k2, p1, p2, k3) or None when there is no distortion)."""
    try:
        k = [float(v) for v in intrinsics]
    except (TypeError, ValueError):
        raise ValueError("intrinsics must be (fx, fy, cx, cy) in pixels") from None
    if len(k) != 4:
        raise ValueError("intrinsics must be (fx, fy, cx, cy) in pixels")
    fx, fy, cx, cy = k
    if not (math.isfinite(fx) and fx > 0 and math.isfinite(fy) and fy > 0):
        raise ValueError("intrinsics must be finite with fx, fy > 0")
    if not (math.isfinite(cx) and math.isfinite(cy)):
        raise ValueError("intrinsics must be finite with fx, fy > 0")
    if distortion is None:
        return (fx, fy, cx, cy), None
    try:
        c = [float(v) for v in distortion]
    except (TypeError, ValueError):
        raise ValueError("distortion must be (k1, k2, p1, p2, k3) or None") from None
    if len(c) != 5:
        raise ValueError("distortion must be (k1, k2, p1, p2, k3) or None")
    if not all(math.isfinite(v) for v in c):
        raise ValueError("distortion coefficients must be finite")
    return (fx, fy, cx, cy), (tuple(c) if any(v != 0 for v in c) else None)


def _check_depth_range(min_depth_m: float, max_depth_m: float) -> None:
    if not (
        math.isfinite(min_depth_m)
        and math.isfinite(max_depth_m)
        and min_depth_m >= 0
        and max_depth_m > min_depth_m
    ):
        raise ValueError("need 0 <= min_depth_m < max_depth_m (finite, metres)")


def _usable(z: np.ndarray, min_depth_m: float, max_depth_m: float) -> np.ndarray:
    return np.isfinite(z) & (z > 0) & (z >= min_depth_m) & (z <= max_depth_m)


def _pixel_ray(intr, dist, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normalized undistorted ray (x/z, y/z) through pixels (u, v): 10 fixed-point steps."""
    fx, fy, cx, cy = intr
    x = (u - cx) / fx
    y = (v - cy) / fy
    if dist is None:
        return x, y
    k1, k2, p1, p2, k3 = dist
    xd, yd = x, y
    for _ in range(_UNDISTORT_ITERATIONS):
        r2 = x * x + y * y
        icdist = 1.0 / (1.0 + ((k3 * r2 + k2) * r2 + k1) * r2)
        dx = 2.0 * p1 * x * y + p2 * (r2 + 2.0 * x * x)
        dy = p1 * (r2 + 2.0 * y * y) + 2.0 * p2 * x * y
        x = (xd - dx) * icdist
        y = (yd - dy) * icdist
    return x, y


def _mask(mask, shape: tuple[int, int]) -> np.ndarray | None:
    if mask is None:
        return None
    m = np.asarray(mask)
    if m.shape != shape or m.dtype != np.uint8:
        raise ValueError("mask must be a uint8 image of the depth image's size")
    return m


def _window_median(
    arr: np.ndarray,
    scale: float,
    msk: np.ndarray | None,
    cu: np.ndarray,
    cv: np.ndarray,
    r: int,
    min_depth_m: float,
    max_depth_m: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(median, count) of the usable depths (on the person, where a mask is given) in the
    (2r+1)^2 window centred on each pixel (cu, cv), clipped to the image; NaN and 0 when
    there are none (the C++ window_median)."""
    h, w = arr.shape
    offsets = np.arange(-r, r + 1, dtype=float)
    side = len(offsets)
    wu = np.broadcast_to(cu[:, None, None] + offsets[None, None, :], (len(cu), side, side))
    wv = np.broadcast_to(cv[:, None, None] + offsets[None, :, None], (len(cu), side, side))
    wu = wu.reshape(len(cu), side * side)
    wv = wv.reshape(len(cu), side * side)
    inside = (wu >= 0) & (wu <= w - 1) & (wv >= 0) & (wv <= h - 1)
    rows = np.where(inside, wv, 0).astype(np.intp)
    cols = np.where(inside, wu, 0).astype(np.intp)
    z = arr[rows, cols].astype(np.float64) * scale
    usable = inside & _usable(z, min_depth_m, max_depth_m)
    if msk is not None:
        usable &= msk[rows, cols] != 0
    count = usable.sum(axis=1)
    ordered = np.sort(np.where(usable, z, np.nan), axis=1)  # usable depths first, NaN last
    upper = np.take_along_axis(ordered, (count // 2)[:, None], axis=1)[:, 0]
    lower = np.take_along_axis(ordered, np.maximum(count - 1, 0)[:, None] // 2, axis=1)[:, 0]
    return np.where(count > 0, (lower + upper) / 2, np.nan), count


def lift_landmarks(
    depth: np.ndarray,
    pixels_uv: np.ndarray,
    intrinsics,
    depth_scale: float | None = None,
    window_radius_px: int = 2,
    min_depth_m: float = 0.1,
    max_depth_m: float = 10.0,
    distortion=None,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Window-median depth per landmark, deprojected; the C++ docstring has the contract.

    Parity: the points are compared to the C++ output with rtol 1e-12 (same median
    definition: the mean of the two middle values for an even count), counts exactly.
    """
    arr, scale = _depth_image(depth, depth_scale)
    intr, dist = _camera(intrinsics, distortion)
    uv = np.asarray(pixels_uv, dtype=float)
    if uv.ndim != 2 or uv.shape[1] != 2:
        raise ValueError("pixels_uv must be an (N, 2) array of (u, v) pixel positions")
    if not 0 <= window_radius_px <= 50:
        raise ValueError("window_radius_px must be in [0, 50]")
    _check_depth_range(min_depth_m, max_depth_m)
    msk = _mask(mask, arr.shape)
    if arr.size == 0:  # no pixel to index: no landmark has depth (the C++ finds none either)
        return np.full((len(uv), 3), np.nan), np.zeros(len(uv), dtype=np.int32)
    u, v = uv[:, 0], uv[:, 1]
    finite = np.isfinite(u) & np.isfinite(v)
    cu = np.floor(np.where(finite, u, -1e9) + 0.5)
    cv = np.floor(np.where(finite, v, -1e9) + 0.5)
    median, count = _window_median(arr, scale, msk, cu, cv, window_radius_px, min_depth_m, max_depth_m)
    x, y = _pixel_ray(intr, dist, u, v)
    points = np.stack([x * median, y * median, median], axis=1)
    points[count == 0] = np.nan
    return points, count.astype(np.int32)


def deproject_depth(
    depth: np.ndarray,
    intrinsics,
    depth_scale: float | None = None,
    stride: int = 1,
    min_depth_m: float = 0.1,
    max_depth_m: float = 10.0,
    distortion=None,
    mask: np.ndarray | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Organized float32 point cloud of every stride-th pixel; see the C++ docstring.

    Parity: compared to the C++ output exactly (depth tested in float64, then ray and
    depth rounded to float32 and multiplied in float32), NaN in the same places.
    """
    arr, scale = _depth_image(depth, depth_scale)
    intr, dist = _camera(intrinsics, distortion)
    if stride < 1:
        raise ValueError("stride must be at least 1")
    _check_depth_range(min_depth_m, max_depth_m)
    m = _mask(mask, arr.shape)
    z = arr[::stride, ::stride].astype(np.float64) * scale
    usable = _usable(z, min_depth_m, max_depth_m)
    if m is not None:
        usable &= m[::stride, ::stride] != 0
    z32 = np.where(usable, z, np.nan).astype(np.float32)
    cols = np.arange(0, arr.shape[1], stride, dtype=float)
    rows = np.arange(0, arr.shape[0], stride, dtype=float)
    if dist is None:
        rx = ((cols - intr[2]) / intr[0]).astype(np.float32)[None, :]
        ry = ((rows - intr[3]) / intr[1]).astype(np.float32)[:, None]
    else:
        rx, ry = _pixel_ray(intr, dist, cols[None, :], rows[:, None])
        rx, ry = rx.astype(np.float32), ry.astype(np.float32)
    shape = (len(rows), len(cols), 3)
    if out is None:
        out = np.empty(shape, dtype=np.float32)
    elif not (
        isinstance(out, np.ndarray)
        and out.dtype == np.float32
        and out.shape == shape
        and out.flags.c_contiguous
        and out.flags.writeable
    ):
        raise ValueError("out must be a writable C-contiguous float32 array of the cloud's shape")
    np.multiply(rx, z32, out=out[..., 0])  # float32 products, NaN carried through
    np.multiply(ry, z32, out=out[..., 1])
    out[..., 2] = z32
    return out


# ---------------------------------------------------------------------------
# Robust plane fit.


def splitmix64_indices(seed: int, count: int, modulo: int) -> np.ndarray:
    """Outputs 1..count of splitmix64 from ``seed``, each modulo ``modulo`` (uint64 math)."""
    k = np.arange(1, count + 1, dtype=np.uint64)
    z = np.uint64(seed) + k * _SPLITMIX_GAMMA
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (z % np.uint64(modulo)).astype(np.intp)


_RANSAC_CHUNK = 32  # candidates scored per broadcast, bounding the temporary arrays


def fit_plane_ransac(
    points: np.ndarray,
    iterations: int = 100,
    inlier_threshold_m: float = 0.02,
    seed: int = 0,
    up_hint=None,
    max_tilt_deg: float | None = None,
    min_inliers: int = 3,
) -> tuple[np.ndarray, float, int, bool, np.ndarray]:
    """RANSAC plane with the same splitmix64 draws as the C++; see its docstring.

    Candidates are scored in vectorised chunks with the same per-point arithmetic.
    Parity: inlier count, ok and the inlier mask compared exactly, normal and offset
    with rtol 1e-9 (the refinement's sums are ordered differently).
    """
    if iterations < 1:
        raise ValueError("iterations must be at least 1")
    if not (math.isfinite(inlier_threshold_m) and inlier_threshold_m > 0):
        raise ValueError("inlier_threshold_m must be a positive number of metres")
    if min_inliers < 3:
        raise ValueError("min_inliers must be at least 3")
    if not 0 <= seed < 2**64:
        raise ValueError("seed must be in [0, 2**64)")
    up = None
    if up_hint is not None:
        try:
            u = [float(c) for c in up_hint]
        except (TypeError, ValueError):
            raise ValueError("up_hint must be a 3-vector or None") from None
        if len(u) != 3:
            raise ValueError("up_hint must be a 3-vector or None")
        un = math.sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2])
        if not (math.isfinite(un) and un > 0):
            raise ValueError("up_hint must be a finite non-zero 3-vector")
        up = (u[0] / un, u[1] / un, u[2] / un)
    min_cos_tilt = -1.0
    if max_tilt_deg is not None:
        if up is None:
            raise ValueError("max_tilt_deg needs up_hint")
        if not 0 <= max_tilt_deg <= 90:
            raise ValueError("max_tilt_deg must be in [0, 90]")
        min_cos_tilt = math.cos(max_tilt_deg * math.pi / 180.0)
    pts = np.asarray(points)
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise ValueError("points must be an (N, 3) array")
    pts = pts.astype(np.float32 if pts.dtype == np.float32 else np.float64, copy=False)
    n_rows = len(pts)
    rows = np.flatnonzero(np.isfinite(pts).all(axis=1))
    q = pts[rows].astype(np.float64)
    x, y, z = (np.ascontiguousarray(q[:, i]) for i in range(3))
    fail = (np.full(3, np.nan), math.nan, 0, False, np.zeros(n_rows, dtype=bool))
    m = len(rows)
    if m < 3:
        return fail
    draws = splitmix64_indices(seed, 3 * iterations, m).reshape(iterations, 3)
    i0, i1, i2 = draws[:, 0], draws[:, 1], draws[:, 2]
    e1 = (x[i1] - x[i0], y[i1] - y[i0], z[i1] - z[i0])
    e2 = (x[i2] - x[i0], y[i2] - y[i0], z[i2] - z[i0])
    n0 = e1[1] * e2[2] - e1[2] * e2[1]
    n1 = e1[2] * e2[0] - e1[0] * e2[2]
    n2 = e1[0] * e2[1] - e1[1] * e2[0]
    nn = np.sqrt(n0 * n0 + n1 * n1 + n2 * n2)
    good = nn > 1e-12
    safe = np.where(good, nn, 1.0)
    n0, n1, n2 = n0 / safe, n1 / safe, n2 / safe
    if up is not None:
        good &= ~(np.abs(n0 * up[0] + n1 * up[1] + n2 * up[2]) < min_cos_tilt)
    d = -(n0 * x[i0] + n1 * y[i0] + n2 * z[i0])
    counts = np.full(iterations, -1, dtype=np.int64)
    idx = np.flatnonzero(good)
    for start in range(0, len(idx), _RANSAC_CHUNK):
        c = idx[start : start + _RANSAC_CHUNK]
        residual = n0[c, None] * x[None, :] + n1[c, None] * y[None, :] + n2[c, None] * z[None, :] + d[c, None]
        counts[c] = (np.abs(residual) <= inlier_threshold_m).sum(axis=1)
    best = int(np.argmax(counts))
    if counts[best] < min_inliers:
        return fail
    bn = (n0[best], n1[best], n2[best])
    inl = np.abs(bn[0] * x + bn[1] * y + bn[2] * z + d[best]) <= inlier_threshold_m
    centroid = q[inl].mean(axis=0)
    dev = q[inl] - centroid
    normal = _symmetric_eigenvector(dev.T @ dev, largest=False)
    if normal is None:
        return fail
    offset = -(normal[0] * centroid[0] + normal[1] * centroid[1] + normal[2] * centroid[2])
    if up is not None:
        flip = normal[0] * up[0] + normal[1] * up[1] + normal[2] * up[2] < 0
    else:
        flip = offset < 0
    if flip:
        normal, offset = -normal, -offset
    final = np.abs(normal[0] * x + normal[1] * y + normal[2] * z + offset) <= inlier_threshold_m
    count = int(final.sum())
    if count < min_inliers:
        return fail
    inliers = np.zeros(n_rows, dtype=bool)
    inliers[rows[final]] = True
    return normal, float(offset), count, True, inliers


# ---------------------------------------------------------------------------
# Back-surface profile.


def back_profile(
    depth: np.ndarray,
    intrinsics,
    axis_uv: np.ndarray,
    facing_x: float,
    depth_scale: float | None = None,
    stations: int = 16,
    mask: np.ndarray | None = None,
    max_scan_px: int = 200,
    max_hole_px: int = 6,
    depth_jump_m: float = 0.2,
    min_depth_m: float = 0.1,
    max_depth_m: float = 10.0,
    distortion=None,
    holes_in_mask: bool = False,
    occlusion_step_m: float = math.inf,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Dorsal edge at each station; the C++ docstring has the contract.

    All stations and scan steps at once: the C++ scan's state (last accepted depth,
    hole run) comes from running maxima of the usable-pixel index. Parity: edge and
    station pixels, validity compared exactly, depths and points with rtol 1e-12.
    """
    arr, scale = _depth_image(depth, depth_scale)
    intr, dist = _camera(intrinsics, distortion)
    axis = np.asarray(axis_uv, dtype=float)
    if axis.ndim != 2 or axis.shape[1] != 2 or axis.shape[0] < 2:
        raise ValueError("axis_uv must be an (M >= 2, 2) array: hip midpoint, shoulder midpoint[, head]")
    if facing_x not in (1.0, -1.0):
        raise ValueError("facing_x must be +1 (facing image +u) or -1")
    if not 2 <= stations <= 1000:
        raise ValueError("stations must be in [2, 1000]")
    if not 1 <= max_scan_px <= 10000:
        raise ValueError("max_scan_px must be in [1, 10000]")
    if max_hole_px < 0:
        raise ValueError("max_hole_px must be at least 0")
    if not (math.isfinite(depth_jump_m) and depth_jump_m > 0):
        raise ValueError("depth_jump_m must be a positive number of metres")
    if not occlusion_step_m > 0:
        raise ValueError("occlusion_step_m must be a positive number of metres (inf: off)")
    _check_depth_range(min_depth_m, max_depth_m)
    msk = _mask(mask, arr.shape)
    k_count = stations
    edge_uv = np.full((k_count, 2), np.nan)
    depth_m = np.full(k_count, np.nan)
    points = np.full((k_count, 3), np.nan)
    valid = np.zeros(k_count, dtype=bool)
    station_uv = np.full((k_count, 2), np.nan)
    nothing = (edge_uv, depth_m, points, valid, station_uv)
    if not np.isfinite(axis).all():
        return nothing
    delta = np.diff(axis, axis=0)
    seg = np.sqrt(delta[:, 0] * delta[:, 0] + delta[:, 1] * delta[:, 1])
    if not seg[0] > 1e-9:
        return nothing
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    total = cum[-1]
    ax, ay = delta[0] / seg[0]
    bu, bv = facing_x * ay, -facing_x * ax

    s = total * np.arange(k_count, dtype=float) / (k_count - 1)
    j = np.minimum(np.searchsorted(cum, s, side="right") - 1, len(axis) - 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(seg[j] > 0, (s - cum[j]) / seg[j], 0.0)
    su = axis[j, 0] + t * (axis[j + 1, 0] - axis[j, 0])
    sv = axis[j, 1] + t * (axis[j + 1, 1] - axis[j, 1])
    station_uv[:, 0], station_uv[:, 1] = su, sv
    if arr.size == 0:  # no pixel to scan: the stations stand, no edge is found (as in the C++)
        return nothing

    h, w = arr.shape
    steps = np.arange(max_scan_px, dtype=float)
    pu = np.floor(su[:, None] + steps[None, :] * bu + 0.5)
    pv = np.floor(sv[:, None] + steps[None, :] * bv + 0.5)
    inside = (pu >= 0) & (pu <= w - 1) & (pv >= 0) & (pv <= h - 1)
    cols = np.where(inside, pu, 0).astype(np.intp)
    rows = np.where(inside, pv, 0).astype(np.intp)
    z = arr[rows, cols].astype(np.float64) * scale
    background_mask = inside & (msk[rows, cols] == 0) if msk is not None else np.zeros_like(inside)
    on_scan = inside & ~background_mask
    usable = on_scan & _usable(z, min_depth_m, max_depth_m)
    index = np.arange(max_scan_px)
    last_usable = np.maximum.accumulate(np.where(usable, index, -1), axis=1)
    previous = np.concatenate([np.full((k_count, 1), -1), last_usable[:, :-1]], axis=1)
    z_previous = np.take_along_axis(z, np.maximum(previous, 0), axis=1)
    jump = usable & (previous >= 0) & (np.abs(z - z_previous) > depth_jump_m)
    mask_holes = holes_in_mask and msk is not None
    hole_run_too_long = on_scan & ~usable & (index - previous > max_hole_px) & (not mask_holes)
    background = background_mask | jump | hole_run_too_long
    end = ~inside | background
    ended = end.any(axis=1)
    stop = np.where(ended, np.argmax(end, axis=1), max_scan_px)
    k = np.arange(k_count)
    edge = np.where(stop > 0, last_usable[k, np.maximum(stop - 1, 0)], -1)
    found = ended & background[k, np.minimum(stop, max_scan_px - 1)] & (edge >= 0)
    e = np.maximum(edge, 0)
    ez = z[k, e]
    # The farthest usable depth up to the edge (the edge is the last usable pixel before the end).
    far = np.maximum.accumulate(np.where(usable, z, -np.inf), axis=1)[k, e]
    found &= ~(ez < far - occlusion_step_m)
    if mask_holes:
        # The edge pixel is the last one before the end (holes in the mask are the person),
        # at the last usable depth.
        e = np.where(edge >= 0, np.maximum(stop - 1, 0), 0)
    eu, ev = pu[k, e], pv[k, e]
    x, y = _pixel_ray(intr, dist, eu, ev)
    edge_uv[found] = np.stack([eu, ev], axis=1)[found]
    depth_m[found] = ez[found]
    points[found] = np.stack([x * ez, y * ez, ez], axis=1)[found]
    valid[:] = found
    return edge_uv, depth_m, points, valid, station_uv


def limb_sections(
    depth: np.ndarray,
    mask: np.ndarray,
    centres_uv: np.ndarray,
    across,
    max_steps: int,
    tolerance_m: float,
    depth_scale: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where a limb's silhouette ends across it; the C++ docstring has the contract.

    Every section and step at once: the scan's stop is the first stopping pixel (argmax), the
    end the last limb pixel before it. Parity: exact (the same float64 steps and medians).
    """
    arr, scale = _depth_image(depth, depth_scale)
    if mask is None:
        raise ValueError("mask (the person) is required")
    person = _mask(mask, arr.shape)
    centres = np.asarray(centres_uv, dtype=float)
    if centres.ndim != 2 or centres.shape[1] != 2:
        raise ValueError("centres_uv must be an (S, 2) array of pixel positions")
    if not 1 <= max_steps <= 10000:
        raise ValueError("max_steps must be in [1, 10000]")
    if not (math.isfinite(tolerance_m) and tolerance_m > 0):
        raise ValueError("tolerance_m must be a positive number of metres")
    across = np.asarray(across, dtype=float)
    if across.shape != (2,) or not np.isfinite(across).all():
        raise ValueError("across must be a finite 2-vector")
    h, w = arr.shape
    n = len(centres)
    ends = np.tile([-0.5, 0.5], (n, 1))
    if n == 0 or arr.size == 0:  # no section, or no pixel to index: no reference, nothing clean
        return np.full(n, np.nan), ends, np.zeros(n, dtype=bool)
    with np.errstate(invalid="ignore"):
        cu, cv = np.floor(centres[:, 0] + 0.5), np.floor(centres[:, 1] + 0.5)
        inside = np.isfinite(cu) & np.isfinite(cv) & (cu >= 2) & (cu <= w - 3) & (cv >= 2) & (cv <= h - 3)
    cu, cv = np.where(inside, cu, -1e9), np.where(inside, cv, -1e9)  # outside: an empty window
    # Any depth the camera gave counts (no range): the limb is told by its nearness to the
    # section's own reference.
    reference, count = _window_median(arr, scale, person, cu, cv, 2, 0.0, np.inf)
    sections = np.arange(n)
    has_reference = count > 0
    cu, cv = np.where(inside, cu, 0).astype(np.int64), np.where(inside, cv, 0).astype(np.int64)
    ok = has_reference & (person[cv, cu] > 0)
    t = np.arange(1, max_steps + 1, dtype=float)
    for side, sign in enumerate((-1.0, 1.0)):
        with np.errstate(invalid="ignore"):
            pu = np.floor(centres[:, 0:1] + (sign * t)[None, :] * across[0] + 0.5)
            pv = np.floor(centres[:, 1:2] + (sign * t)[None, :] * across[1] + 0.5)
            in_image = (pu >= 0) & (pu <= w - 1) & (pv >= 0) & (pv <= h - 1)
        col = np.where(in_image, pu, 0).astype(np.int64)
        row = np.where(in_image, pv, 0).astype(np.int64)
        on_person = in_image & (person[row, col] > 0)
        zs = arr[row, col].astype(np.float64) * scale
        has_depth = _usable(zs, 0.0, np.inf)
        with np.errstate(invalid="ignore"):
            limb = has_depth & (np.abs(zs - reference[:, None]) <= tolerance_m)
        stop = ~on_person | (has_depth & ~limb)
        first = np.argmax(stop, axis=1)
        stopped = stop[sections, first]
        index = np.arange(max_steps)
        before = index[None, :] < np.where(stopped, first, max_steps)[:, None]
        last_limb = np.where(limb & before, index[None, :], -1).max(axis=1)
        with np.errstate(invalid="ignore"):
            occluded = stopped & on_person[sections, first] & has_depth[sections, first]
            occluded &= zs[sections, first] < reference - tolerance_m
        ends[:, side] = sign * (last_limb + 1.5)
        ok &= stopped & ~occluded
    return reference, ends, ok
