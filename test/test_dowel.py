"""The virtual dowel: one support line for the athlete's truth and the depth measurement."""

import numpy as np
import pytest

import hinge_coach_ros.athlete as athlete
from hinge_coach_ros.athlete import PRESETS, AthleteSpec, Pose, body_at, virtual_dowel
from hinge_coach_ros.dowel import (
    BackProfile,
    DowelMeter,
    drop_protrusions,
    measure,
    spine_bend_deg,
    station_fractions,
    support_line,
)
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
    got = (m.mid_back_gap_m, m.tailbone_gap_m, m.lumbar_gap_m)
    want = (truth.mid_back_m, truth.tailbone_m, truth.lumbar_m)
    np.testing.assert_allclose(got, want, atol=5e-4)
    # The head is judged from just below the ear up (HEAD_FROM: the drill's far hand covers
    # the nape); on a rounded back the skull's lowest part, left out, comes 1-2 mm closer.
    assert m.head_gap_m == pytest.approx(truth.head_m, abs=2e-3)
    assert m.head_gap_m >= truth.head_m - 5e-4


def _station_profile(pose: Pose, spec: AthleteSpec) -> tuple[BackProfile, np.ndarray, np.ndarray]:
    """The athlete's back as depth stations (optical frame), with the true up and facing."""
    rotation, translation = spec.camera.world_to_optical()
    body = body_at(pose, 1.75)
    j = body.joints

    def optical(p):
        return p @ rotation.T + translation

    def mid(part):
        return 0.5 * (j[f"left_{part}"] + j[f"right_{part}"])

    intr = Intrinsics()
    axis_px = intr.project(optical(np.stack([mid("hip"), mid("shoulder"), body.head_centre])))
    points = optical(body.back_profile)
    back = BackProfile(points, np.ones(len(points), bool), station_fractions(intr.project(points), axis_px))
    return back, rotation @ [0.0, 1.0, 0.0], rotation @ [1.0, 0.0, 0.0]


def _yawed(v: np.ndarray, up: np.ndarray, angle_deg: float) -> np.ndarray:
    a = np.radians(angle_deg)
    return v * np.cos(a) + np.cross(up, v) * np.sin(a)


def test_meter_learns_the_sagittal_plane_from_a_hinge_and_leaves_out_an_arm():
    spec = AthleteSpec()
    hinged, up, facing = _station_profile(PRESETS["dowel"].bottom, spec)
    standing, _, _ = _station_profile(Pose(), spec)
    # The facing from depth-lifted feet can be 40 deg off; an arm behind the back
    # (20 cm nearer the camera, 10 cm behind the back) covers four mid-back stations.
    wrong_facing = _yawed(facing, up, 40.0)
    across = np.cross(up, facing)
    arm = np.array([10, 11, 12, 13])
    for back in (hinged, standing):
        back.points[arm] += 0.20 * across - 0.10 * np.cross(across, up)
    meter = DowelMeter(frames=1)
    got = meter.update(hinged, up, wrong_facing)
    assert np.degrees(np.arccos(min(1.0, meter.forward @ facing))) < 1.0
    truth = virtual_dowel(body_at(PRESETS["dowel"].bottom, 1.75))
    assert got.lumbar_gap_m == pytest.approx(truth.lumbar_m, abs=0.002)
    assert got.head_gap_m == pytest.approx(truth.head_m, abs=0.002)
    # Standing, the back cannot give the plane: the one learned in the hinge is kept.
    got = meter.update(standing, up, wrong_facing)
    truth = virtual_dowel(body_at(Pose(), 1.75))
    assert got.lumbar_gap_m == pytest.approx(truth.lumbar_m, abs=0.002)
    assert got.head_gap_m == pytest.approx(truth.head_m, abs=0.002)
    # Without that plane the wrong facing reads the standing back wrongly.
    fresh = DowelMeter(frames=1)
    assert abs(fresh.update(standing, up, wrong_facing).lumbar_gap_m - truth.lumbar_m) > 0.005


def test_a_hand_on_the_back_and_a_station_off_by_noise_do_not_carry_the_dowel():
    """The drill's near hand grips the dowel at the low back: stations on it stick out behind
    the back. And a station just above the sacrum a few mm out of place must not tilt the line."""
    spec = AthleteSpec()
    pose = PRESETS["dowel"].bottom
    back, up, facing = _station_profile(pose, spec)
    truth = virtual_dowel(body_at(pose, 1.75))
    rotation, _ = spec.camera.world_to_optical()
    behind = rotation @ truth.back_dir  # away from the back, square to the dowel
    order = np.argsort(back.fractions)
    trunk = order[back.fractions[order] <= 1.0]
    hand = trunk[(back.fractions[trunk] > 0.40) & (back.fractions[trunk] < 0.50)]
    assert len(hand) >= 1
    points = back.points.copy()
    points[hand] += 0.06 * behind  # a hand 6 cm behind the back's surface
    near_sacrum = trunk[1]
    assert back.fractions[near_sacrum] - back.fractions[trunk[0]] < 0.2
    points[near_sacrum] += 0.004 * behind  # 4 mm of depth noise
    noisy = BackProfile(points, back.valid, back.fractions)
    sagittal = np.stack([points @ facing, points @ up], axis=1)
    kept = drop_protrusions(sagittal, back.valid, back.fractions)
    assert not kept[hand].any() and kept[trunk[0]] and kept.sum() == len(kept) - len(hand)
    got = DowelMeter(frames=1).update(noisy, up, facing)
    assert got.lumbar_gap_m == pytest.approx(truth.lumbar_m, abs=0.002)
    assert got.mid_back_gap_m == pytest.approx(truth.mid_back_m, abs=0.002)
    assert got.head_gap_m == pytest.approx(truth.head_m, abs=0.002)
    # Without the rules the hand carries the dowel and every gap opens by centimetres.
    tilted = measure(points, back.valid, back.fractions, up, facing)
    assert tilted.head_gap_m > truth.head_m + 0.02


def test_meter_reports_the_median_of_recent_frames():
    spec = AthleteSpec()
    back, up, facing = _station_profile(PRESETS["dowel"].bottom, spec)
    truth = virtual_dowel(body_at(PRESETS["dowel"].bottom, 1.75))
    meter = DowelMeter(frames=5)
    assert np.isnan(meter.update(None, up, facing).lumbar_gap_m)  # nothing seen yet
    for _ in range(3):
        meter.update(back, up, facing)
    glitch = BackProfile(back.points.copy(), back.valid, back.fractions)
    glitch.points[3] -= 0.05 * np.cross(np.cross(up, facing), up)  # one frame's lumbar station 5 cm off
    got = meter.update(glitch, up, facing)
    assert got.lumbar_gap_m == pytest.approx(truth.lumbar_m, abs=1e-6)
    meter.reset()
    assert meter.forward is None and np.isnan(meter.update(None, up, facing).head_gap_m)


def test_lumbar_hollow_deepens_with_an_anterior_pelvic_tilt_not_with_a_head_tipped_back():
    """The hollow is the lumbar gap under a dowel laid on the trunk alone: a head tipped back
    lifts the whole dowel off the mid back and opens the lumbar gap, not this hollow."""

    def hollow(pose: Pose) -> tuple[float, float, float]:
        truth = virtual_dowel(body_at(pose, 1.75))
        back, up, facing = _station_profile(pose, AthleteSpec())
        got = DowelMeter(frames=1).update(back, up, facing)
        assert got.lumbar_hollow_m == pytest.approx(truth.lumbar_hollow_m, abs=1.5e-3)
        return 1000 * truth.lumbar_hollow_m, 1000 * truth.lumbar_m, 1000 * got.lumbar_hollow_m

    neutral, neutral_gap, _ = hollow(PRESETS["dowel"].bottom)
    assert neutral == pytest.approx(neutral_gap)  # the head lies on the dowel: the same line
    assert 30.0 < neutral < 45.0  # about a flat hand's thickness
    tilted, _, _ = hollow(athlete._bottom_pose(AthleteSpec(), {"no_brace": 15.0}))
    assert 14.0 < tilted - neutral < 20.0  # about 1.1 mm per degree of anterior tilt
    head_up, head_up_gap, _ = hollow(athlete._bottom_pose(AthleteSpec(), {"head_up": 25.0}))
    assert head_up == pytest.approx(neutral, abs=0.5) and head_up_gap - neutral > 8.0
    rounded, _, _ = hollow(athlete._bottom_pose(AthleteSpec(), {"rounded_back": 25.0}))
    assert rounded < neutral - 5.0  # a flexed lumbar spine loses its lordosis
    # The RGB mask's outline gives the gaps but not the hollow (not validated without depth).
    back, up, facing = _station_profile(Pose(pelvis_tilt_deg=15.0), AthleteSpec())
    contour = BackProfile(back.points, back.valid, back.fractions, from_depth=False)
    got = DowelMeter(frames=1).update(contour, up, facing)
    assert np.isnan(got.lumbar_hollow_m) and got.lumbar_gap_m > 0.05


def _bend(pose: Pose) -> float:
    back, up, facing = _station_profile(pose, AthleteSpec())
    return spine_bend_deg(back.points, back.valid, back.fractions, np.cross(up, facing))


def test_spine_bend_stays_through_a_clean_hinge_and_grows_with_a_rounded_back():
    standing = _bend(Pose())
    # A neutral spine moves as one: hinged, its bend is the standing one.
    assert _bend(PRESETS["dowel"].bottom) == pytest.approx(standing, abs=1.0)
    assert _bend(PRESETS["deadlift"].bottom) == pytest.approx(standing, abs=1.0)
    # 25 deg of spinal flexion (0.3 lumbar, 0.7 thoracic) bends the upper back's line
    # forward against the lower back's; the lines span part of each region, so by less.
    rounded = _bend(athlete._bottom_pose(AthleteSpec(), {"rounded_back": 25.0})) - standing
    assert 12.0 < rounded < 25.0
    smaller = _bend(athlete._bottom_pose(AthleteSpec(), {"rounded_back": 10.0})) - standing
    assert 1.0 < smaller < rounded
    # Seen from the other side (the body's left-right axis reversed with its facing) the
    # flexion keeps its sign.
    back, up, facing = _station_profile(
        athlete._bottom_pose(AthleteSpec(), {"rounded_back": 25.0}), AthleteSpec()
    )
    mirrored = back.points * np.array([1.0, 1.0, -1.0])  # optical z flipped: a mirror image
    flip = np.array([1.0, 1.0, -1.0])
    again = spine_bend_deg(mirrored, back.valid, back.fractions, np.cross(up * flip, facing * flip))
    assert again == pytest.approx(rounded + standing, abs=1e-6)


def test_spine_bend_needs_both_lines_and_is_steadied_over_frames():
    back, up, facing = _station_profile(PRESETS["dowel"].bottom, AthleteSpec())
    upper_hidden = back.valid & ~((back.fractions >= 0.55) & (back.fractions <= 1.0))
    assert np.isnan(spine_bend_deg(back.points, upper_hidden, back.fractions, np.cross(up, facing)))
    meter = DowelMeter()
    for _ in range(4):
        assert np.isnan(meter.update(back, up, facing).spine_bend_deg)  # under SPINE_MIN_FRAMES
    assert meter.update(back, up, facing).spine_bend_deg == pytest.approx(_bend(PRESETS["dowel"].bottom))
    # The RGB mask's contour gives gaps, not the bend (not validated without depth).
    contour = BackProfile(back.points, back.valid, back.fractions, from_depth=False)
    rgb = DowelMeter()
    for _ in range(6):
        got = rgb.update(contour, up, facing)
    assert np.isnan(got.spine_bend_deg) and np.isfinite(got.head_gap_m)
