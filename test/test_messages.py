"""Skeleton and report messages: the documented layouts survive a round trip."""

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticStatus
from sensor_msgs.msg import PointCloud2, PointField
from std_msgs.msg import Header

from hinge_coach_ros.alignment import CUE_FOR_FAULT, HingeEngine, Placement
from hinge_coach_ros.athlete import AthleteSpec, generate
from hinge_coach_ros.dowel import BackProfile
from hinge_coach_ros.messages import (
    MessageError,
    back_profile_to_cloud,
    cloud_to_back_profile,
    cloud_to_skeleton,
    msg_to_rep_view,
    msg_to_report_view,
    placement_to_status,
    rep_to_msg,
    report_to_msg,
    skeleton_to_cloud,
)


@pytest.mark.parametrize("from_depth", [True, False])
def test_back_profile_cloud_round_trip_keeps_stations_and_their_source(from_depth):
    rng = np.random.default_rng(1)
    points, fractions = rng.normal(size=(36, 3)), np.linspace(0.0, 2.0, 36)
    valid = np.ones(36, bool)
    valid[[3, 20]] = False
    msg = back_profile_to_cloud(BackProfile(points, valid, fractions, from_depth), Header())
    assert [f.name for f in msg.fields] == ["x", "y", "z", "fraction", "from_depth"]
    back = cloud_to_back_profile(msg)
    assert back.from_depth is from_depth
    np.testing.assert_array_equal(back.valid, valid)
    np.testing.assert_allclose(back.points[valid], points[valid].astype(np.float32))
    np.testing.assert_allclose(back.fractions, fractions.astype(np.float32))
    msg.fields = msg.fields[:4]  # the layout before from_depth: refused, with the fields named
    with pytest.raises(MessageError, match="from_depth"):
        cloud_to_back_profile(msg)


def test_skeleton_cloud_round_trip_keeps_values_and_holes():
    lm = np.random.default_rng(0).normal(size=(33, 4))
    lm[5, :3] = np.nan
    msg = skeleton_to_cloud(lm, Header(frame_id="camera_color_optical_frame"))
    assert [f.name for f in msg.fields] == ["x", "y", "z", "confidence"]
    assert msg.width == 33 and msg.point_step == 16 and not msg.is_dense
    back = cloud_to_skeleton(msg)
    np.testing.assert_allclose(back, lm.astype(np.float32), equal_nan=True)


def test_wrong_cloud_layout_is_rejected():
    msg = PointCloud2(width=10, height=1)
    with pytest.raises(MessageError, match="33 points"):
        cloud_to_skeleton(msg)


def test_cloud_with_the_right_names_but_another_byte_layout_is_rejected():
    lm = np.tile([0.1, 0.2, 2.0, 0.9], (33, 1))
    decoded = cloud_to_skeleton(skeleton_to_cloud(lm, Header()))
    np.testing.assert_allclose(decoded, lm.astype(np.float32))
    # x stored at byte 8 and z at byte 0: read by name order it would swap x and z.
    swapped = skeleton_to_cloud(lm, Header())
    swapped.fields[0].offset, swapped.fields[2].offset = 8, 0
    swapped.data = np.stack([lm[:, 2], lm[:, 1], lm[:, 0], lm[:, 3]], 1).astype("<f4").tobytes()
    with pytest.raises(MessageError, match="'x' must be FLOAT32 .* at offset 0, got datatype 7 at offset 8"):
        cloud_to_skeleton(swapped)
    big = skeleton_to_cloud(lm, Header())
    big.is_bigendian, big.data = True, lm.astype(">f4").tobytes()
    with pytest.raises(MessageError, match="little-endian"):
        cloud_to_skeleton(big)
    ints = skeleton_to_cloud(lm, Header())
    ints.fields[3].datatype = PointField.INT32
    with pytest.raises(MessageError, match="'confidence' must be FLOAT32"):
        cloud_to_skeleton(ints)
    # The back profile's cloud is read the same way.
    back = back_profile_to_cloud(BackProfile(np.ones((4, 3)), np.ones(4, bool), np.zeros(4), True), Header())
    back.fields[1].offset, back.fields[0].offset = 0, 4
    with pytest.raises(MessageError, match="back profile cloud field 'x'"):
        cloud_to_back_profile(back)


def test_report_and_rep_round_trip_through_diagnostics():
    s = generate(AthleteSpec(reps=2, faults={2: {"squat": 50.0}}))
    engine = HingeEngine()
    reports = [engine.update(float(t), lm) for t, lm in zip(s.times_s, s.landmarks)]
    during_squat = next(r for r in reports if r.active_faults)
    view = msg_to_report_view(report_to_msg(during_squat, Header(), CUE_FOR_FAULT))
    assert view.person and view.phase in ("descent", "bottom", "ascent")
    assert view.active_cues == {"squat": "hips_back"}
    assert abs(view.hip_flexion_deg - during_squat.angles.hip_flexion_deg) < 1e-3
    squat_rep = [r.completed_rep for r in reports if r.completed_rep][1]
    rep_view = msg_to_rep_view(rep_to_msg(squat_rep, Header()))
    assert rep_view.index == 2 and rep_view.faults == squat_rep.faults and "squat" in rep_view.faults
    assert rep_view.score == squat_rep.score
    # Skeleton only: the back-surface checks need depth, and the rep says they were not judged.
    assert rep_view.not_measurable == tuple(squat_rep.not_measurable)
    assert {"rounded_back", "no_brace"} <= set(rep_view.not_measurable)
    clean_rep = [r.completed_rep for r in reports if r.completed_rep][0]
    assert "squat" not in msg_to_rep_view(rep_to_msg(clean_rep, Header())).not_measurable


def test_placement_is_a_warning_when_the_legs_are_hidden():
    ok = placement_to_status(Placement("ok", "side-on (4 deg): every check can be judged", 4.2, 1.0))
    assert ok.level == DiagnosticStatus.OK and ok.name == "alignment_node: camera view"
    assert {kv.key: kv.value for kv in ok.values} == {
        "view_from_side_deg": "4.200",
        "legs_seen_fraction": "1.000",
    }
    warn = placement_to_status(Placement("warn", "legs hidden on 67% of frames", 3.0, 0.33))
    assert warn.level == DiagnosticStatus.WARN and warn.message == "legs hidden on 67% of frames"
