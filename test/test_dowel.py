"""The virtual dowel: one support line for the athlete's truth and the depth measurement."""

import numpy as np
import pytest

import hinge_coach_ros.athlete as athlete
from hinge_coach_ros.athlete import PRESETS, AthleteSpec, Pose, body_at, virtual_dowel
from hinge_coach_ros.dowel import measure, station_fractions, support_line
from hinge_coach_ros.sources import Intrinsics


def _rotate(points: np.ndarray, angle_deg: float) -> np.ndarray:
    a = np.radians(angle_deg)
    return points @ np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])


@pytest.mark.parametrize("seed", range(5))
def test_support_line_rests_on_the_back_with_no_point_behind_it(seed):
    rng = np.random.default_rng(seed)
    # A wavy back going up from the sacrum at (0, 0), the athlete facing +x.
    up = np.linspace(0.0, 0.7, 25)
    back = np.stack([-0.03 * np.sin(up * rng.uniform(4.0, 12.0)) + rng.normal(0.0, 0.01, up.size), up], 1)
    back[0] = 0.0
    line = support_line(back, 0)
    gaps = line.gaps(back)
    assert gaps.min() > -1e-12 and gaps[0] == 0.0 and gaps[line.contact] == pytest.approx(0.0, abs=1e-12)
    assert line.direction[1] > 0 and line.back_normal[0] < 0  # up the back; the normal points behind
    # Only the shape matters: the same back tipped forward (a hinge) gives the same gaps.
    tipped = support_line(_rotate(back, 60.0), 0)
    np.testing.assert_allclose(tipped.gaps(_rotate(back, 60.0)), gaps, atol=1e-12)
    assert tipped.contact == line.contact


def test_support_line_needs_a_point_above_the_sacrum():
    assert support_line(np.array([[0.0, 0.0], [0.0, 0.0]]), 0) is None  # nothing but the sacrum
    assert support_line(np.array([[0.0, 0.0], [np.nan, 0.3]]), 0) is None
    line = support_line(np.array([[0.0, 0.0], [-0.05, 0.3], [0.0, 0.6], [-0.2, 0.1]]), 0, np.array([1, 2]))
    assert line.contact == 1  # the point left out of the candidates does not hold the dowel up


@pytest.mark.parametrize(
    "pose",
    [
        Pose(),
        PRESETS["dowel"].bottom,
        athlete._bottom_pose(AthleteSpec(), {"rounded_back": 25.0}),
        athlete._bottom_pose(AthleteSpec(preset="deadlift"), {"rounded_back": 10.0}),
    ],
    ids=["standing", "clean bottom", "rounded 25", "deadlift rounded 10"],
)
def test_depth_measurement_of_the_athletes_back_gives_its_truth(pose):
    """The depth path (stations with fractions, optical frame) on a perfect profile agrees with the truth."""
    spec = AthleteSpec()
    rotation, translation = spec.camera.world_to_optical()
    body = body_at(pose, 1.75)
    truth = virtual_dowel(body)
    j = body.joints

    def optical(p):
        return p @ rotation.T + translation

    def mid(part):
        return 0.5 * (j[f"left_{part}"] + j[f"right_{part}"])

    profile = optical(body.back_profile)
    # Fractions as the camera pipeline makes them, from image pixels of hip, shoulder and ear.
    intr = Intrinsics()
    axis_px = intr.project(optical(np.stack([mid("hip"), mid("shoulder"), body.head_centre])))
    station_px = intr.project(profile)
    fractions = station_fractions(station_px, axis_px)
    m = measure(
        profile,
        np.ones(len(profile), bool),
        fractions,
        rotation @ [0.0, 1.0, 0.0],
        rotation @ [1.0, 0.0, 0.0],
    )
    assert m is not None
    got = (m.head_gap_m, m.mid_back_gap_m, m.tailbone_gap_m, m.lumbar_gap_m)
    want = (truth.head_m, truth.mid_back_m, truth.tailbone_m, truth.lumbar_m)
    np.testing.assert_allclose(got, want, atol=5e-4)
