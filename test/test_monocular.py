"""The RGB-only lift onto the sagittal plane, on exact projections of the synthetic athlete."""

import math

import numpy as np
import pytest

from hinge_coach_ros.athlete import AthleteSpec, CameraPlacement, generate
from hinge_coach_ros.geometry import frame_angles
from hinge_coach_ros.landmarks import INDEX
from hinge_coach_ros.monocular import SagittalLift, pair_yaws_deg
from hinge_coach_ros.sources import Intrinsics

CAMERA_UP = np.array([0.0, -1.0, 0.0])
INTR = Intrinsics()


def _model_view(optical: np.ndarray, mirror: bool) -> tuple[np.ndarray, np.ndarray]:
    """(pixels, hip-centred metric landmarks) as a perfect BlazePose would give them."""
    pixels = INTR.project(optical)
    world = optical - 0.5 * (optical[INDEX["left_hip"]] + optical[INDEX["right_hip"]])
    if mirror:
        pixels[:, 0] = INTR.width - pixels[:, 0]
        world[:, 0] = -world[:, 0]
    return pixels, world


@pytest.mark.parametrize("view", ["side", "oblique45"])
@pytest.mark.parametrize("mirror", [False, True])
def test_exact_landmarks_give_the_sagittal_angles_from_any_side(view, mirror):
    # Camera at hip height, level: image up is gravity.
    spec = AthleteSpec(reps=1, camera=CameraPlacement(view=view, height_m=0.9), landmark_noise_m=0.0)
    session = generate(spec)
    lift = SagittalLift()
    errors = []
    for i in range(0, len(session.times_s), 3):
        pixels, world = _model_view(session.landmarks[i, :, :3], mirror)
        landmarks, on_plane = lift.lift(pixels, np.full(33, 0.9), world, 3.0)
        assert on_plane
        a = frame_angles(landmarks, CAMERA_UP)
        truth = (session.trunk_inclination_deg[i], session.hip_flexion_deg[i], session.knee_flexion_deg[i])
        errors.append(np.subtract((a.trunk_inclination_deg, a.hip_flexion_deg, a.knee_flexion_deg), truth))
    assert abs(lift.view_yaw_deg) == pytest.approx(0.0 if view == "side" else 45.0, abs=0.5)
    # Left only by weak perspective: at 45 deg the leaning trunk comes 0.6 m nearer the camera
    # at 3 m, so it looks a fifth larger than the legs; up to about 2 deg at the deepest point.
    print(view, "mirrored" if mirror else "", "max error deg", np.abs(errors).max(axis=0).round(2))
    assert np.abs(errors).max() < 2.5
    # The skeleton keeps the model's metric size: hip to shoulder as in the truth.
    trunk = np.linalg.norm(landmarks[INDEX["left_shoulder"], :3] - landmarks[INDEX["left_hip"], :3])
    true_trunk = np.linalg.norm(world[INDEX["left_shoulder"]] - world[INDEX["left_hip"]])
    assert trunk == pytest.approx(true_trunk, rel=0.1)


def test_a_frontal_view_is_not_put_on_the_sagittal_plane():
    session = generate(AthleteSpec(reps=1, landmark_noise_m=0.0))
    optical = session.landmarks[0, :, :3]
    hips = 0.5 * (optical[INDEX["left_hip"]] + optical[INDEX["right_hip"]])
    turn = math.radians(80.0)  # the person turned to face the camera
    rot = np.array([[math.cos(turn), 0, math.sin(turn)], [0, 1, 0], [-math.sin(turn), 0, math.cos(turn)]])
    frontal = (optical - hips) @ rot.T + hips
    pixels, world = _model_view(frontal, False)
    assert abs(np.median(pair_yaws_deg(world, np.ones(33)))) == pytest.approx(80.0, abs=0.5)
    lift = SagittalLift()
    landmarks, on_plane = lift.lift(pixels, np.ones(33), world, 3.0)
    assert not on_plane
    np.testing.assert_allclose(landmarks[:, :3], world + [0.0, 0.0, 3.0])
    lift.reset()
    assert math.isnan(lift.view_yaw_deg)


def _turned(turn_deg: float) -> tuple[np.ndarray, np.ndarray]:
    session = generate(AthleteSpec(reps=1, landmark_noise_m=0.0))
    optical = session.landmarks[0, :, :3]
    hips = 0.5 * (optical[INDEX["left_hip"]] + optical[INDEX["right_hip"]])
    t = math.radians(turn_deg)
    rot = np.array([[math.cos(t), 0, math.sin(t)], [0, 1, 0], [-math.sin(t), 0, math.cos(t)]])
    return _model_view((optical - hips) @ rot.T + hips, False)


def test_a_frontal_view_swaying_across_90_deg_is_still_frontal():
    # Facing the camera, swaying 1 deg either way: the pairs' yaws read +89 and -89, two axes
    # 2 deg apart. Their plain median read 0 deg, side-on, and put the frame on the plane.
    lift = SagittalLift()
    for turn in (89.0, 91.0):
        pixels, world = _turned(turn)
        landmarks, on_plane = lift.lift(pixels, np.ones(33), world, 3.0)
    assert abs(lift.view_yaw_deg) == pytest.approx(90.0, abs=0.5)
    assert not on_plane
    side = SagittalLift()
    for turn in (40.0, 50.0):  # away from 90 deg the yaw is the plain median's
        pixels, world = _turned(turn)
        side.lift(pixels, np.ones(33), world, 3.0)
    assert abs(side.view_yaw_deg) == pytest.approx(45.0, abs=0.5)


def test_a_nan_pixel_leaves_the_skeleton_its_metric_size():
    pixels, world = _turned(0.0)
    clean, _ = SagittalLift().lift(pixels, np.ones(33), world, 3.0)
    pixels[INDEX["right_knee"]] = np.nan  # its thigh and shin cannot set the scale
    landmarks, on_plane = SagittalLift().lift(pixels, np.ones(33), world, 3.0)
    assert on_plane
    trunk = np.linalg.norm(landmarks[INDEX["left_shoulder"], :3] - landmarks[INDEX["left_hip"], :3])
    clean_trunk = np.linalg.norm(clean[INDEX["left_shoulder"], :3] - clean[INDEX["left_hip"], :3])
    assert trunk == pytest.approx(clean_trunk, rel=0.05)  # was 1 m per pixel: 108 m
    pixels[:] = np.nan  # no bone at all: the model's own landmarks, not on the plane
    landmarks, on_plane = SagittalLift().lift(pixels, np.ones(33), world, 3.0)
    assert not on_plane
    np.testing.assert_allclose(landmarks[:, :3], world + [0.0, 0.0, 3.0])


def test_left_and_right_swapped_give_the_same_yaw():
    world = np.zeros((33, 3))
    for part in ("hip", "knee", "ankle", "heel", "foot_index"):
        world[INDEX[f"left_{part}"]] = [-0.1, 0.0, 0.1]
        world[INDEX[f"right_{part}"]] = [0.1, 0.0, -0.1]  # seen from the right: axis toward the camera
    assert pair_yaws_deg(world, np.ones(33)) == pytest.approx([-45.0] * 5)
    visibility = np.ones(33)
    visibility[INDEX["left_knee"]] = 0.1  # an unseen pair is left out
    assert len(pair_yaws_deg(world, visibility)) == 4
    visibility[INDEX["left_hip"]] = np.nan  # and one whose visibility is not a number
    assert len(pair_yaws_deg(world, visibility)) == 3
