"""The one landmark table: BlazePose's 33 body landmarks, in BlazePose order.

Every skeleton in the package (topics, CSV sessions, the synthetic athlete,
the alignment engine) uses this order and these names.
"""

from __future__ import annotations

import numpy as np

LANDMARK_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)

NUM_LANDMARKS = len(LANDMARK_NAMES)


def empty_skeleton() -> np.ndarray:
    """The (33, 4) skeleton of a frame with nobody in it: NaN positions, confidence 0."""
    out = np.full((NUM_LANDMARKS, 4), np.nan)
    out[:, 3] = 0.0
    return out


INDEX: dict[str, int] = {name: i for i, name in enumerate(LANDMARK_NAMES)}
# The parts that come in a left and a right landmark ("hip" for left_hip and right_hip).
PAIRED_PARTS: tuple[str, ...] = tuple(n[len("left_") :] for n in LANDMARK_NAMES if n.startswith("left_"))

# Stick-figure edges used by the RViz markers and the coaching screen.
BONES: tuple[tuple[str, str], ...] = (
    ("left_ear", "left_shoulder"),
    ("right_ear", "right_shoulder"),
    ("left_shoulder", "right_shoulder"),
    ("left_shoulder", "left_elbow"),
    ("left_elbow", "left_wrist"),
    ("right_shoulder", "right_elbow"),
    ("right_elbow", "right_wrist"),
    ("left_shoulder", "left_hip"),
    ("right_shoulder", "right_hip"),
    ("left_hip", "right_hip"),
    ("left_hip", "left_knee"),
    ("left_knee", "left_ankle"),
    ("left_ankle", "left_heel"),
    ("left_heel", "left_foot_index"),
    ("left_ankle", "left_foot_index"),
    ("right_hip", "right_knee"),
    ("right_knee", "right_ankle"),
    ("right_ankle", "right_heel"),
    ("right_heel", "right_foot_index"),
    ("right_ankle", "right_foot_index"),
)
