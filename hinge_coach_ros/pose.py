"""BlazePose (MediaPipe) on one RGB frame, inside the station's zone.

ROS-free. The model is the one bundled in the installed ``mediapipe`` package
(0.10.14 ships pose_detection and pose_landmark_full); nothing is downloaded.
BlazePose tracks one person, so the station's zone is cut out before
inference: a second person outside the zone is never coached.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np

from .landmarks import NUM_LANDMARKS


class PoseModelError(RuntimeError):
    """The pose model cannot be loaded; the message says what to install."""


@dataclass
class PoseResult:
    pixels: np.ndarray  # (33, 2) landmark pixel positions (u, v) in the full image
    visibility: np.ndarray  # (33,) BlazePose visibility 0-1
    world_m: np.ndarray  # (33, 3) BlazePose metric landmarks, hip-centred, camera-aligned axes
    mask: np.ndarray | None  # (H, W) float32 person probability, full image, or None


class PoseEstimator:
    """BlazePose in tracking mode: the person detector runs only when tracking is lost."""

    def __init__(
        self,
        model_complexity: int = 1,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        segmentation: bool = True,
        zone_px: tuple[int, int, int, int] | None = None,
        static_images: bool = False,
    ) -> None:
        os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's start-up chatter
        # mediapipe 0.10.14 calls a protobuf API that protobuf 4.25 marks deprecated, once per frame.
        warnings.filterwarnings("ignore", message="SymbolDatabase.GetPrototype", category=UserWarning)
        try:
            import mediapipe as mp

            self._pose = mp.solutions.pose.Pose(
                static_image_mode=static_images,
                model_complexity=model_complexity,
                # MediaPipe's own landmark smoothing lags and overshoots a fast hinge (on
                # the rendered athlete: 1 frame more lag, hip flexion 0.7 deg worse);
                # the camera pipeline filters once, its own way (filters.py).
                smooth_landmarks=False,
                enable_segmentation=segmentation,
                min_detection_confidence=min_detection_confidence,
                min_tracking_confidence=min_tracking_confidence,
            )
        except (ImportError, AttributeError) as exc:
            raise PoseModelError(
                f"BlazePose is unavailable ({exc}): install mediapipe==0.10.14, which bundles the model "
                "(newer mediapipe releases have no mp.solutions and ship no model)"
            ) from None
        except (RuntimeError, FileNotFoundError, ValueError) as exc:
            raise PoseModelError(f"BlazePose model failed to load: {exc}") from None
        self.zone_px = zone_px

    def process(self, rgb: np.ndarray) -> PoseResult | None:
        """Landmarks of the person in the zone, or None when nobody is found."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an (H, W, 3) uint8 RGB image, got {rgb.shape} {rgb.dtype}")
        h, w = rgb.shape[:2]
        x0, y0, x1, y1 = self._zone(w, h)
        crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
        result = self._pose.process(crop)
        if result.pose_landmarks is None:
            return None
        cw, ch = x1 - x0, y1 - y0
        lm = result.pose_landmarks.landmark
        pixels = np.array([[p.x * cw + x0, p.y * ch + y0] for p in lm])
        visibility = np.array([p.visibility for p in lm])
        world = np.array([[p.x, p.y, p.z] for p in result.pose_world_landmarks.landmark])
        mask = None
        if result.segmentation_mask is not None:
            mask = np.zeros((h, w), np.float32)
            mask[y0:y1, x0:x1] = result.segmentation_mask
        assert pixels.shape == (NUM_LANDMARKS, 2)
        return PoseResult(pixels, visibility, world, mask)

    def _zone(self, w: int, h: int) -> tuple[int, int, int, int]:
        if self.zone_px is None:
            return 0, 0, w, h
        x0, y0, x1, y1 = self.zone_px
        x0, x1 = max(0, min(x0, w - 1)), max(1, min(x1, w))
        y0, y1 = max(0, min(y0, h - 1)), max(1, min(y1, h))
        if x1 - x0 < 32 or y1 - y0 < 32:
            raise ValueError(f"station zone {self.zone_px} leaves too little of the {w}x{h} image")
        return x0, y0, x1, y1

    def close(self) -> None:
        self._pose.close()
