"""An RGB-only skeleton (a phone video): the 2D landmarks placed on the person's sagittal plane.

ROS-free. Without depth there are two 3D guesses: BlazePose's own metric
landmarks, whose image-plane geometry is poor (on rendered side-on hinges
the knee comes out 20 deg too bent and the feet plane 18 deg off gravity),
and the 2D landmarks, which are accurate in the image plane but foreshortened
when the camera is not side-on. This module takes the best of each: the
model's 3D landmarks only say which way the person's left-right axis points
(one yaw angle for the clip: the person does not turn during a hinge, so a
running median over many frames and several joint pairs steadies it), and
every landmark's image position is put on the vertical plane through the hip
midpoint that has that axis as its normal. Midline points (the midpoints of
left and right landmarks, which is what the hinge angles use) lie on that
plane, so their sagittal angles come back undistorted up to about 45 deg of
obliqueness. Projection is weak perspective: the person's depth range is
small against the camera distance, so no camera intrinsics are needed.

The image's up is taken as gravity (a phone on a tripod or held upright; the
rotation metadata of the video has already turned the frames upright).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from .landmarks import INDEX

# Left/right pairs whose axis gives the view's yaw: the lower body, which
# stays put through a hinge (the shoulders and head turn and hide each other).
YAW_PAIRS = ("hip", "knee", "ankle", "heel", "foot_index")
YAW_HISTORY = 5 * 300  # the last 300 frames (10 s at 30 fps) of per-pair yaws
MIN_PAIR_VISIBILITY = 0.3
# Beyond this the camera sees the person from the front or back: the sagittal
# plane is too foreshortened (1/cos 60 deg doubles every error) to measure in.
MAX_VIEW_YAW_DEG = 60.0
# The model's metric bones that set the skeleton's scale: thighs, shins, trunk sides.
SCALE_BONES = tuple(
    (f"{side}_{a}", f"{side}_{b}")
    for side in ("left", "right")
    for a, b in (("hip", "knee"), ("knee", "ankle"), ("shoulder", "hip"))
)


def pair_yaws_deg(world_m: np.ndarray, visibility: np.ndarray) -> list[float]:
    """Yaw of each seen left-right axis, -90 to 90 deg: 0 along the optical axis (side-on view).

    An axis is a line, not a direction: a camera on the right side (or left and
    right swapped by the model) gives the same yaw as one on the left."""
    yaws = []
    for part in YAW_PAIRS:
        left, right = INDEX[f"left_{part}"], INDEX[f"right_{part}"]
        if not min(visibility[left], visibility[right]) >= MIN_PAIR_VISIBILITY:  # NaN: unseen
            continue
        axis = world_m[right] - world_m[left]
        if np.isfinite(axis).all() and math.hypot(axis[0], axis[2]) > 1e-3:
            yaw = math.degrees(math.atan2(axis[0], axis[2]))
            yaws.append(yaw - 180.0 * round(yaw / 180.0))
    return yaws


class SagittalLift:
    """Lifts BlazePose results of one video onto the sagittal plane; keeps the view's yaw."""

    def __init__(self, max_view_yaw_deg: float = MAX_VIEW_YAW_DEG) -> None:
        self.max_view_yaw_deg = max_view_yaw_deg
        self._yaws: deque[float] = deque(maxlen=YAW_HISTORY)
        # The last lift's placement (hip pixel, yaw, metres per pixel, distance), for ``place``.
        self._placement: tuple[np.ndarray, float, float, float] | None = None

    @property
    def view_yaw_deg(self) -> float:
        """The camera's angle from side-on (0) toward the front or back; NaN before the first person.

        The yaws are of axes: +89 and -89 deg are 2 deg apart, not 178. Their plain median
        read a person facing the camera (pairs swaying across 90 deg) as side-on (0 deg), and
        that frame was flattened onto the wrong plane. The median is taken about the axes'
        mean direction (the circular mean of twice the yaw, halved)."""
        if not self._yaws:
            return math.nan
        yaws = np.radians(np.asarray(self._yaws))
        centre = 0.5 * math.atan2(float(np.mean(np.sin(2.0 * yaws))), float(np.mean(np.cos(2.0 * yaws))))
        off = yaws - centre
        off -= np.pi * np.round(off / np.pi)  # each axis within 90 deg of the centre
        yaw = math.degrees(centre + float(np.median(off)))
        return yaw - 180.0 * round(yaw / 180.0)

    def reset(self) -> None:
        """The person left: the next one may stand at another angle."""
        self._yaws.clear()
        self._placement = None

    def lift(
        self, pixels: np.ndarray, visibility: np.ndarray, world_m: np.ndarray, distance_m: float
    ) -> tuple[np.ndarray, bool]:
        """(33, 4) landmarks in the camera optical frame (hip midpoint ``distance_m`` ahead) and
        whether they lie on the sagittal plane. Too frontal a view (or no yaw yet) gives the
        model's own metric landmarks instead, with False."""
        self._yaws.extend(pair_yaws_deg(world_m, visibility))
        yaw = self.view_yaw_deg
        out = np.empty((len(pixels), 4))
        out[:, 3] = visibility
        on_plane = math.isfinite(yaw) and abs(yaw) <= self.max_view_yaw_deg
        if not on_plane:
            self._placement = None
            out[:, :3] = world_m + [0.0, 0.0, distance_m]
            return out, False
        hip = 0.5 * (pixels[INDEX["left_hip"]] + pixels[INDEX["right_hip"]])
        lifted = self._on_plane(pixels, hip, yaw)
        scale = self._metres_per_pixel(lifted, world_m)
        if not math.isfinite(scale):  # no bone to scale by: the model's own landmarks
            self._placement = None
            out[:, :3] = world_m + [0.0, 0.0, distance_m]
            return out, False
        self._placement = (hip, yaw, scale, distance_m)
        out[:, :3] = lifted * scale + [0.0, 0.0, distance_m]
        return out, True

    def place(self, pixels: np.ndarray) -> np.ndarray | None:
        """Other image points of the same frame (the back's contour) placed as the last lift's
        landmarks were; None when that lift was not on the sagittal plane."""
        if self._placement is None:
            return None
        hip, yaw, scale, distance_m = self._placement
        return self._on_plane(np.asarray(pixels, dtype=float), hip, yaw) * scale + [0.0, 0.0, distance_m]

    @staticmethod
    def _on_plane(pixels: np.ndarray, hip: np.ndarray, yaw_deg: float) -> np.ndarray:
        """Image points (pixels from the hip midpoint) on the plane through the hip midpoint with
        the left-right axis (sin yaw, 0, cos yaw) as its normal: x sin(yaw) + z cos(yaw) = 0."""
        x, y = pixels[:, 0] - hip[0], pixels[:, 1] - hip[1]
        return np.stack([x, y, -math.tan(math.radians(yaw_deg)) * x], axis=1)

    @staticmethod
    def _metres_per_pixel(lifted: np.ndarray, world_m: np.ndarray) -> float:
        """The model's metric size: its bone lengths against the lifted ones, over the bones
        with both lengths known; NaN without any. (A NaN pixel made the sum NaN, and the scale
        fell back to 1 m per pixel: a skeleton 200 times too big.)"""
        metric = pixel = 0.0
        for a, b in SCALE_BONES:
            i, j = INDEX[a], INDEX[b]
            bone_m = float(np.linalg.norm(world_m[i] - world_m[j]))
            bone_px = float(np.linalg.norm(lifted[i] - lifted[j]))
            if math.isfinite(bone_m) and math.isfinite(bone_px):
                metric += bone_m
                pixel += bone_px
        return metric / pixel if pixel > 1e-6 else math.nan
