"""The virtual dowel, measured on the back-surface profile from depth.

ROS-free. The profile comes from the ``back_profile`` kernel: 3D points of the
dorsal edge at stations spaced along hip -> shoulder -> ear. As in the dowel
drill, the dowel is the straight line through three contact points: the back
of the head, the mid back (mid-thoracic level) and the tailbone (sacrum, at
hip level). Each gap is the distance from that line in the sagittal plane,
positive in front of it (a hollow between back and dowel); the lumbar gap is
the deepest point of the low back in front of the line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .kernels import robust_line_fit

# Where the regions lie along hip -> shoulder, as fractions of that span
# (Winter's segment lengths: lumbar 0.110 H, thoracic 0.178 H of body height H).
LUMBAR_SPAN = (0.08, 0.38)
MID_BACK_AT = 0.69  # the middle of the thoracic region
HEAD_FROM = 0.5  # the back of the head: the upper half of shoulder -> ear


@dataclass(frozen=True)
class BackProfile:
    """The dorsal edge of one frame, as the back_profile kernel finds it."""

    points: np.ndarray  # (K, 3) metres, same frame as the skeleton
    valid: np.ndarray  # (K,) bool
    fractions: np.ndarray  # (K,) 0 hips, 1 shoulders, 1-2 shoulders to ear (station_fractions)


@dataclass(frozen=True)
class DowelMetrics:
    head_gap_m: float
    mid_back_gap_m: float
    tailbone_gap_m: float
    lumbar_gap_m: float


def station_fractions(station_uv: np.ndarray, axis_uv: np.ndarray) -> np.ndarray:
    """Each station's position: 0 at the hips, 1 at the shoulders, beyond 1 toward the head
    (1 + fraction of shoulder -> ear)."""
    hip, shoulder = axis_uv[0], axis_uv[1]
    trunk = np.linalg.norm(shoulder - hip)
    along_trunk = (station_uv - hip) @ (shoulder - hip) / max(trunk**2, 1e-9)
    if len(axis_uv) < 3:
        return along_trunk
    neck = axis_uv[2] - shoulder
    along_neck = (station_uv - shoulder) @ neck / max(float(neck @ neck), 1e-9)
    return np.where(along_trunk <= 1.0, along_trunk, 1.0 + np.clip(along_neck, 0.0, 1.0))


def measure(
    points: np.ndarray, valid: np.ndarray, fractions: np.ndarray, up: np.ndarray, facing: np.ndarray
) -> DowelMetrics | None:
    """Dowel gaps from profile points (K, 3); None when a contact point is not seen."""
    ok = valid & np.isfinite(points).all(axis=1) & np.isfinite(fractions)
    if ok.sum() < 4:
        return None
    # Sagittal coordinates: forward along facing, up along gravity.
    sag = np.stack([points @ facing, points @ up], axis=1)
    trunk_idx = np.where(ok & (fractions <= 1.0))[0]
    head_idx = np.where(ok & (fractions >= 1.0 + HEAD_FROM))[0]
    lumbar_idx = np.where(ok & (fractions >= LUMBAR_SPAN[0]) & (fractions <= LUMBAR_SPAN[1]))[0]
    if len(trunk_idx) < 3 or len(head_idx) == 0 or len(lumbar_idx) == 0:
        return None
    sacrum_i = trunk_idx[np.argmin(fractions[trunk_idx])]
    if fractions[sacrum_i] > LUMBAR_SPAN[0]:
        return None  # the hip-level station was not seen
    mid_i = trunk_idx[np.argmin(np.abs(fractions[trunk_idx] - MID_BACK_AT))]
    if abs(fractions[mid_i] - MID_BACK_AT) > 0.15:
        return None
    chord = sag[mid_i] - sag[sacrum_i]
    back = np.array([-chord[1], chord[0]]) / max(float(np.linalg.norm(chord)), 1e-9)
    head_i = head_idx[np.argmax((sag[head_idx] - sag[sacrum_i]) @ back)]  # the most posterior point
    contacts = np.stack([sag[head_i], sag[mid_i], sag[sacrum_i]])
    centre, direction, _, fitted = robust_line_fit(contacts, None, 1)  # one pass: plain least squares
    if not fitted:
        return None
    if direction @ (sag[head_i] - sag[sacrum_i]) < 0:
        direction = -direction
    normal = np.array([-direction[1], direction[0]])  # toward the back for a tail-to-head line
    if normal @ back < 0:
        normal = -normal

    def gap(q: np.ndarray) -> float:
        return float((centre - q) @ normal)

    return DowelMetrics(
        head_gap_m=gap(sag[head_i]),
        mid_back_gap_m=gap(sag[mid_i]),
        tailbone_gap_m=gap(sag[sacrum_i]),
        lumbar_gap_m=max(gap(sag[i]) for i in lumbar_idx),
    )


NOT_SEEN = DowelMetrics(math.nan, math.nan, math.nan, math.nan)
