"""Hinge geometry on one skeleton frame: the gravity frame and joint angles.

Inputs are BlazePose-ordered landmarks (33, 4) in any metric frame (x, y, z,
confidence) and the gravity-up unit vector in that frame. Angles are degrees;
0 means standing tall. A value that the landmarks cannot support is NaN,
never a guess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .kernels import robust_line_fit
from .landmarks import INDEX

# Below this BlazePose visibility a landmark is treated as missing.
MIN_CONFIDENCE = 0.3


@dataclass(frozen=True)
class FrameAngles:
    trunk_inclination_deg: float  # hip-to-shoulder line from vertical, forward positive
    hip_flexion_deg: float  # thigh to trunk, 0 standing
    knee_flexion_deg: float  # shank to thigh, 0 straight
    shin_angle_deg: float  # shank from vertical, knees forward positive
    dowel_gaps_m: tuple[float, float, float]  # head, mid back, tailbone distance to the dowel line
    facing: np.ndarray  # unit vector, horizontal, the way the person faces


def _point(lm: np.ndarray, name: str) -> np.ndarray | None:
    row = lm[INDEX[name]]
    if row[3] < MIN_CONFIDENCE or not np.isfinite(row[:3]).all():
        return None
    return row[:3]


def _mid(lm: np.ndarray, part: str) -> np.ndarray | None:
    """Midpoint of the left and right landmark, or the one that is seen."""
    left, right = _point(lm, f"left_{part}"), _point(lm, f"right_{part}")
    if left is not None and right is not None:
        return 0.5 * (left + right)
    return left if left is not None else right


def _angle_deg(u: np.ndarray, v: np.ndarray) -> float:
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu < 1e-9 or nv < 1e-9:
        return math.nan
    return math.degrees(math.acos(float(np.clip(u @ v / (nu * nv), -1.0, 1.0))))


def _signed_from_vertical(v: np.ndarray, up: np.ndarray, facing: np.ndarray) -> float:
    """Angle of v from vertical in the sagittal plane, positive toward ``facing``."""
    return math.degrees(math.atan2(float(v @ facing), float(v @ up)))


def facing_direction(lm: np.ndarray, up: np.ndarray) -> np.ndarray | None:
    """Horizontal direction the person faces: from the heels to the toes."""
    heel, toe = _mid(lm, "heel"), _mid(lm, "foot_index")
    if heel is None or toe is None:
        nose, ear = _point(lm, "nose"), _mid(lm, "ear")
        if nose is None or ear is None:
            return None
        heel, toe = ear, nose
    v = toe - heel
    v = v - (v @ up) * up
    n = np.linalg.norm(v)
    return v / n if n > 1e-6 else None


def frame_angles(lm: np.ndarray, up: np.ndarray) -> FrameAngles | None:
    """Angles of one frame, or None when the trunk and legs are not seen."""
    shoulder, hip = _mid(lm, "shoulder"), _mid(lm, "hip")
    knee, ankle = _mid(lm, "knee"), _mid(lm, "ankle")
    facing = facing_direction(lm, up)
    if shoulder is None or hip is None or knee is None or facing is None:
        return None
    trunk = shoulder - hip
    thigh = hip - knee
    trunk_deg = _signed_from_vertical(trunk, up, facing)
    hip_flexion = _angle_deg(thigh, trunk)
    knee_flexion = shin_deg = math.nan
    if ankle is not None:
        shank = knee - ankle
        knee_flexion = _angle_deg(shank, thigh)
        shin_deg = _signed_from_vertical(shank, up, facing)
    dowel_gaps = (math.nan, math.nan, math.nan)
    ear = _mid(lm, "ear")
    if ear is not None:
        # The virtual dowel from the skeleton alone: one line through head
        # (ear), mid back (shoulders) and tailbone (hips), and each point's gap.
        _, _, gaps, ok = robust_line_fit(np.stack([ear, shoulder, hip]))
        if ok:
            dowel_gaps = (float(gaps[0]), float(gaps[1]), float(gaps[2]))
    return FrameAngles(trunk_deg, hip_flexion, knee_flexion, shin_deg, dowel_gaps, facing)
