"""BlazePose on the synthetic athlete's colour frames: is the person found, and where.

Runs MediaPipe's BlazePose (mediapipe 0.10.14, ``mp.solutions.pose``, the full
model, offline) in tracking mode over consecutive rendered frames, and
compares its landmarks with the truth projected into the image. The figures
in the README come from ``hinge-coach check-pose``; ``test_render.py`` checks
a sample of frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .athlete import AthleteSpec, body_for, generate, landmarks_world
from .landmarks import INDEX
from .render import Renderer, rgbd_frame

# Landmarks compared with the truth: the ones a hinge check uses, seen from the side.
BODY_LANDMARKS: tuple[str, ...] = (
    "nose",
    "left_ear",
    "left_shoulder",
    "left_elbow",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "left_foot_index",
)


@dataclass
class PoseCheck:
    frames: int
    found: int
    median_error_px: float
    p90_error_px: float
    per_landmark_px: dict[str, float]

    @property
    def found_fraction(self) -> float:
        return self.found / self.frames if self.frames else 0.0


def check_blazepose(spec: AthleteSpec, stride: int = 1) -> PoseCheck:
    """BlazePose, as the camera node runs it (tracking mode), on the rendered athlete."""
    from .pose import PoseEstimator

    session = generate(spec)
    renderer = Renderer()
    rot, trans = spec.camera.world_to_optical()
    errors: dict[str, list[float]] = {name: [] for name in BODY_LANDMARKS}
    frames = found = 0
    model = PoseEstimator(segmentation=False)
    try:
        for i in range(0, len(session.poses), stride):
            body = body_for(spec, session.poses[i])
            frame = rgbd_frame(spec, body, i, renderer)
            result = model.process(frame.color)
            frames += 1
            if result is None:
                continue
            found += 1
            truth = renderer.intr.project(landmarks_world(body) @ rot.T + trans)
            for name in BODY_LANDMARKS:
                errors[name].append(float(np.linalg.norm(result.pixels[INDEX[name]] - truth[INDEX[name]])))
    finally:
        model.close()
    every = np.concatenate([np.array(v) for v in errors.values()]) if found else np.array([np.nan])
    return PoseCheck(
        frames=frames,
        found=found,
        median_error_px=float(np.median(every)),
        p90_error_px=float(np.percentile(every, 90)),
        per_landmark_px={k: float(np.median(v)) if v else float("nan") for k, v in errors.items()},
    )
