"""The camera node on RealSense recordings of the synthetic athlete: the full frame pipeline."""

import json

import numpy as np
import pytest

from hinge_coach_ros.athlete import AthleteSpec
from hinge_coach_ros.camera_pipeline import JOINT_DEPTH_M, CameraPipeline, joint_centres, onto_limb_axes
from hinge_coach_ros.geometry import seen_parts
from hinge_coach_ros.graph import GraphArgs
from hinge_coach_ros.landmarks import INDEX, PAIRED_PARTS
from hinge_coach_ros.pose import PoseEstimator, PoseResult
from hinge_coach_ros.rs_recording import write_rgbd_session
from hinge_coach_ros.runner import Rig
from hinge_coach_ros.sources import RealSenseSource


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """Two dowel-drill reps, side-on at 3 m, rendered and recorded with pyrealsense2."""
    out = tmp_path_factory.mktemp("rgbd")
    path, truth = write_rgbd_session(AthleteSpec(preset="dowel", reps=2), out, workers=1)
    return path, json.loads(truth.read_text())


def station_config(tmp_path, recording_path):
    config = tmp_path / "station.yaml"
    config.write_text(
        "/**/camera_node:\n  ros__parameters:\n"
        f"    recording_file: '{recording_path}'\n"
        "    align_depth: false\n"  # the synthetic depth is already in the color geometry
        "    start_delay_s: 0.5\n"
    )
    return str(config)


def test_lifted_skeleton_is_near_the_truth(recording):
    path, truth = recording
    source = RealSenseSource(recording=str(path), align=False)
    pipeline = CameraPipeline(PoseEstimator())
    errors, backs, seen = [], 0, set()
    count = len(truth["frames"]["time_s"])
    try:
        while (frame := source.read()) is not None:
            # Matched to the truth by stamp: pyrealsense2's playback now and then loses a
            # frame at an end of the recording, which must not shift the rest.
            i = int(round(frame.stamp_s * float(truth["fps"])))
            assert 0 <= i < count and i not in seen, f"frame stamp {frame.stamp_s} is not a recorded frame"
            seen.add(i)
            skeleton = pipeline.process(frame)
            if i % 10 or skeleton is None:
                continue
            backs += skeleton.back is not None and int(skeleton.back.valid.sum() > 12)
            true_lm = np.asarray(truth["frames"]["landmarks_optical_m"][i])
            for name in ("left_shoulder", "left_hip", "left_knee", "left_ankle"):
                errors.append(np.linalg.norm(skeleton.landmarks[INDEX[name], :3] - true_lm[INDEX[name]]))
        assert len(seen) >= count - 1, f"{count - len(seen)} of {count} frames lost in playback"
    finally:
        source.close()
        pipeline.estimator.close()
    print(f"median joint error {np.median(errors):.3f} m over {len(errors)}, back profiles {backs}")
    assert len(errors) >= 40
    assert np.median(errors) < 0.08  # metres: joint centres from a surface, through BlazePose's definitions
    assert backs >= 0.9 * len(errors) / 4  # the dorsal edge is found on nearly every frame


def test_recording_through_the_whole_rig(recording, tmp_path):
    path, truth = recording
    rig = Rig(GraphArgs(source="recording", config_file=station_config(tmp_path, path)))
    try:
        camera, alignment = rig.nodes["camera_node"], rig.nodes["alignment_node"]
        assert rig.spin_session(timeout_s=120.0)
        frames = len(truth["frames"]["time_s"])
        assert camera.device_state == "recording finished"
        assert camera.frames_published + camera.capture.dropped >= frames - 2
        # No rate assertion: on a loaded machine frames are dropped, which is the design.
        assert alignment.engine.rep_count == truth["rep_count"]
    finally:
        rig.close()


def test_corrupt_recording_keeps_diagnostics_up_with_the_error(tmp_path):
    junk = tmp_path / "broken.db3"
    junk.write_bytes(b"SQLite format 3\x00" + b"\x00" * 4000)
    rig = Rig(GraphArgs(source="recording", recording_file=str(junk)))
    try:
        camera = rig.nodes["camera_node"]
        assert camera.finished and camera.device_state.startswith("error")
        assert "broken.db3" in camera.device_state
        statuses = []
        from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus

        listener = rig.nodes["alignment_node"].create_subscription(
            DiagnosticArray, "/diagnostics", lambda m: statuses.extend(m.status), 10
        )
        rig.spin_until(lambda: any(s.name == "camera_node: source" for s in statuses), 5.0)
        camera_status = [s for s in statuses if s.name == "camera_node: source"]
        assert camera_status and camera_status[-1].level == DiagnosticStatus.ERROR  # with the reason
        assert "broken.db3" in camera_status[-1].message
        rig.nodes["alignment_node"].destroy_subscription(listener)
    finally:
        rig.close()


def test_no_camera_attached_names_what_was_looked_for():
    from hinge_coach_ros.sources import SourceError

    with pytest.raises(SourceError, match="no RealSense camera found \\(looked for any D4xx on USB\\)"):
        RealSenseSource(serial="123456789")


def test_video_made_of_the_recording_counts_the_same_reps(recording, tmp_path):
    """RGB only (a phone video): BlazePose's own metric landmarks, no depth."""
    import cv2

    from hinge_coach_ros.analysis import analyze

    path, truth = recording
    source = RealSenseSource(recording=str(path), align=False)
    video = tmp_path / "lift.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (640, 480))
    try:
        while (frame := source.read()) is not None:
            writer.write(cv2.cvtColor(frame.color_rgb, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
        source.close()
    result = analyze(video)
    assert result["rep_count"] == truth["rep_count"]
    assert all(r["peak"]["hip_flexion_deg"] > 50 for r in result["reps"])


def test_topics_source_takes_a_realsense_ros_driver_stream(recording):
    """A stand-in for realsense-ros publishes color, aligned depth and camera_info from the recording."""
    from rclpy.node import Node
    from sensor_msgs.msg import Image
    from std_msgs.msg import Header

    from hinge_coach_ros.nodes.camera_node import (
        COLOR_INFO_TOPIC,
        COLOR_TOPIC,
        DEPTH_TOPIC,
        camera_info,
    )
    from hinge_coach_ros.nodes.common import SENSOR_QOS

    path, _ = recording
    source = RealSenseSource(recording=str(path), align=False)
    frames = [source.read() for _ in range(60)]
    source.close()
    rig = Rig(GraphArgs(source="topics"))
    driver = Node("realsense_stand_in", context=rig.context)
    pubs = {
        t: driver.create_publisher(k, t, SENSOR_QOS)
        for t, k in (
            (COLOR_TOPIC, Image),
            (DEPTH_TOPIC, Image),
            (COLOR_INFO_TOPIC, type(camera_info(frames[0].intrinsics, Header()))),
        )
    }
    sent = iter(frames)

    def publish():
        frame = next(sent, None)
        if frame is None:
            return
        header = Header(stamp=driver.get_clock().now().to_msg(), frame_id="camera_color_optical_frame")
        h, w = frame.color_rgb.shape[:2]
        depth_mm = (frame.depth_m * 1000).astype(np.uint16)
        pubs[COLOR_INFO_TOPIC].publish(camera_info(frame.intrinsics, header))
        pubs[COLOR_TOPIC].publish(
            Image(
                header=header, height=h, width=w, encoding="rgb8", step=3 * w, data=frame.color_rgb.tobytes()
            )
        )
        pubs[DEPTH_TOPIC].publish(
            Image(header=header, height=h, width=w, encoding="16UC1", step=2 * w, data=depth_mm.tobytes())
        )

    driver.create_timer(1.0 / 30.0, publish)
    rig.add_node(driver)
    camera = rig.nodes["camera_node"]
    try:
        assert rig.spin_until(lambda: camera.frames_published >= 20, 30.0)
        assert camera.pipeline is not None and camera._pose_ms  # BlazePose ran on the driver's frames
    finally:
        driver.destroy_node()
        rig.close()


def _pose(visibility: float = 0.9) -> PoseResult:
    from hinge_coach_ros.landmarks import LANDMARK_NAMES

    world = np.zeros((33, 3))
    world[[INDEX[n] for n in LANDMARK_NAMES if n.startswith("right_")], 2] = 0.18  # the far side
    return PoseResult(np.zeros((33, 2)), np.full(33, visibility), world, None)


def test_depth_in_raw_sensor_counts_is_refused_and_a_nan_visibility_is_unseen():
    from hinge_coach_ros.camera_pipeline import _pixel_mid, extract_back, floor_up, lift_pose
    from hinge_coach_ros.sources import Intrinsics

    intrinsics = Intrinsics(64, 48, 50.0, 50.0, 32.0, 24.0)
    counts = np.full((48, 64), 2500, np.uint16)  # 2.5 m in RealSense's 1 mm units, unscaled
    for call in (
        lambda: lift_pose(_pose(), counts, intrinsics),
        lambda: extract_back(_pose(), counts, intrinsics),
        lambda: floor_up(counts, intrinsics, None),
    ):
        with pytest.raises(ValueError, match="depth must be float metres, not uint16"):
            call()
    pose = _pose()
    pose.pixels[INDEX["left_hip"]], pose.pixels[INDEX["right_hip"]] = (10.0, 20.0), (30.0, 40.0)
    pose.visibility[INDEX["right_hip"]] = np.nan  # not a number: not seen, not averaged in
    np.testing.assert_allclose(_pixel_mid(pose, "hip"), (10.0, 20.0))


def test_joint_centres_lie_behind_the_seen_surface():
    surface = np.tile([0.3, -0.2, 2.9], (33, 1)) * np.linspace(0.95, 1.05, 33)[:, None]
    surface[INDEX["right_hip"]] = surface[INDEX["left_hip"]] * (3.3 / surface[INDEX["left_hip"], 2])
    out, measured = joint_centres(surface, np.full(33, 9), _pose())
    assert measured == 33
    for name in ("left_hip", "left_knee", "left_ear", "right_hip"):
        k = INDEX[name]
        depth = JOINT_DEPTH_M.get(name.split("_", 1)[1], 0.0)
        # Further along the same ray by the joint's anatomical depth (the ear is skin: none).
        assert np.linalg.norm(out[k, :3]) - np.linalg.norm(surface[k]) == pytest.approx(depth)
        np.testing.assert_allclose(np.cross(out[k, :3], surface[k]), 0.0, atol=1e-12)
    assert out[INDEX["right_hip"], 3] == pytest.approx(0.9)  # seen behind the near hip: measured


def test_a_hidden_far_side_joint_is_placed_behind_its_near_twin():
    # Side-on: the far knee's pixel lands on the near thigh, so its depth is the near side's.
    surface = np.tile([0.0, 0.3, 3.0], (33, 1))
    surface[INDEX["right_knee"]] = [0.02, 0.31, 3.01]
    out, _ = joint_centres(surface, np.full(33, 9), _pose())
    near, far = out[INDEX["left_knee"]], out[INDEX["right_knee"]]
    # BlazePose's model puts it 0.18 m behind: placed there, on its own pixel's ray, less trusted.
    assert far[2] == pytest.approx(near[2] + 0.18)
    np.testing.assert_allclose(far[:2] / far[2], surface[INDEX["right_knee"], :2] / 3.01)
    assert far[3] == pytest.approx(0.45)
    # A joint without depth: the model's position, moved onto the measured ones.
    count = np.full(33, 9)
    count[INDEX["left_wrist"]] = 0
    out, measured = joint_centres(surface, count, _pose())
    assert measured == 32 and np.isfinite(out[INDEX["left_wrist"], :3]).all()
    assert out[INDEX["left_wrist"], 3] == pytest.approx(0.45)


def test_a_toe_that_took_the_far_foots_depth_is_placed_by_its_heel():
    # Side-on the far foot stands right behind the near one: the near toe's window (the
    # mask holds both feet) takes the far foot's depth, 0.3 m behind its heel.
    pose = _pose()
    surface = np.tile([0.1, 0.8, 2.9], (33, 1))
    surface[pose.world_m[:, 2] > 0, 2] += 0.18  # the far side where the model puts it
    heel, toe = INDEX["left_heel"], INDEX["left_foot_index"]
    surface[toe] = [-0.15, 0.82, 3.2]
    out, measured = joint_centres(surface, np.full(33, 9), pose)
    # On its own pixel's ray, at its heel's depth plus the model's difference (none here).
    assert out[toe, 2] == pytest.approx(out[heel, 2])
    np.testing.assert_allclose(out[toe, :2] / out[toe, 2], surface[toe, :2] / surface[toe, 2])
    assert out[toe, 3] == pytest.approx(0.45)  # placed, not seen
    assert out[heel, 3] == pytest.approx(0.9)
    # A toe within a foot's length of its heel's depth keeps its own (a foot turned out, a
    # camera at 45 deg): 0.15 m is measured.
    surface[toe, 2] = 2.9 + 0.15
    out, _ = joint_centres(surface, np.full(33, 9), pose)
    assert out[toe, 2] == pytest.approx(3.05 + JOINT_DEPTH_M["foot_index"], abs=0.01)
    assert out[toe, 3] == pytest.approx(0.9)


def test_a_joint_behind_an_object_takes_the_models_depth_not_the_objects():
    # Side-on to a deadlift: the near plate, 0.6 m nearer the camera than the body, covers
    # the near hip and knee (and the far ones behind them), so their depth is the plate's.
    pose = _pose()
    surface = np.tile([0.1, 0.3, 3.0], (33, 1))
    far_side = pose.world_m[:, 2] > 0
    surface[far_side, 2] += 0.18  # the far side seen where the model puts it
    plate = [INDEX[n] for n in ("left_hip", "left_knee", "right_hip", "right_knee")]
    surface[plate] = [[0.12, 0.35, 2.4]] * 4
    out, measured = joint_centres(surface, np.full(33, 9), pose)
    assert measured == 33 - 4  # the hidden joints do not count as measured
    for k in plate:
        # On its own pixel's ray, at the depth the model gives it next to the seen joints (most
        # of which, the face's, lie at 3.0 m with no joint depth behind the skin).
        assert out[k, 2] == pytest.approx(3.0 + pose.world_m[k, 2], abs=0.01)
        np.testing.assert_allclose(out[k, :2] / out[k, 2], surface[k, :2] / surface[k, 2])
        assert out[k, 3] == pytest.approx(0.45)
    # The seen joints keep their measured depth.
    seen = INDEX["left_shoulder"]
    assert out[seen, 3] == pytest.approx(0.9)
    # The engine tells them by their confidence: the hips and knees were placed, not seen,
    # so the checks that read them are not measured on this frame.
    assert seen_parts(out) == set(PAIRED_PARTS) - {"hip", "knee"}
    assert out[seen, 2] == pytest.approx(3.0 + JOINT_DEPTH_M["shoulder"], abs=0.01)


K_PX = (615.0, 615.0, 320.0, 240.0)
HIP, KNEE, ANKLE = np.array([300.0, 150.0]), np.array([330.0, 262.0]), np.array([318.0, 372.0])


def _leg_pixels(knee_ahead_px=8.0, ankle_ahead_px=0.0):
    """BlazePose's pixels of the near leg, its knee and ankle ahead of their centres."""
    pixels = np.zeros((33, 2))
    pixels[INDEX["left_hip"]] = HIP
    pixels[INDEX["left_knee"]] = KNEE + [knee_ahead_px, 0.0]
    pixels[INDEX["left_ankle"]] = ANKLE + [ankle_ahead_px, 0.0]
    return pixels


def _off_line(start, end, p):
    """Pixels from ``p`` to the line through start and end."""
    d = (end - start) / np.linalg.norm(end - start)
    return abs(d[0] * (p[1] - start[1]) - d[1] * (p[0] - start[0]))


def _capsule(shape, a, b, radius_px):
    """Per pixel: the distance (px) from the segment a-b, and whether it is within radius."""
    v, u = np.mgrid[0 : shape[0], 0 : shape[1]].astype(float)
    p = np.stack([u, v], -1) - a
    ab = np.asarray(b, float) - a
    t = np.clip((p @ ab) / (ab @ ab), 0.0, 1.0)
    d = np.linalg.norm(p - t[..., None] * ab, axis=-1)
    return d, d <= radius_px


def _leg_scene(hip, knee, ankle, near_z=2.5, far_shift_px=7.0):
    """A side-on leg as the depth camera sees it: round thigh and shin (nearer toward their
    middle), the far leg 0.2 m behind and a few pixels off, the wall at 5 m."""
    shape = (480, 640)
    depth = np.full(shape, 5.0, np.float32)
    person = np.zeros(shape, np.uint8)
    shift = np.array([far_shift_px, 0.0])
    for offset, z0 in ((shift, near_z + 0.2), (np.zeros(2), near_z)):  # far first, near on top
        for a, b, r in ((hip, knee, 18.0), (knee, ankle, 13.0)):
            d, inside = _capsule(shape, np.asarray(a, float) + offset, np.asarray(b, float) + offset, r)
            radius_m = r * z0 / K_PX[0]
            rim = z0 + radius_m * (1.0 - np.sqrt(np.clip(1.0 - (d / r) ** 2, 0.0, 1.0)))
            nearer = inside & (rim < depth)
            depth[nearer] = rim[nearer]
            person[inside] = 1
    return depth, person


def _leg_landmarks(pixels, near_z=2.5):
    landmarks = np.full((33, 4), np.nan)
    landmarks[:, 3] = 0.9
    for name in ("left_hip", "left_knee", "left_ankle"):
        k = INDEX[name]
        z = near_z + JOINT_DEPTH_M[name.split("_")[1]]
        landmarks[k, :3] = ((pixels[k, 0] - K_PX[2]) / K_PX[0] * z, (pixels[k, 1] - K_PX[3]) / K_PX[1] * z, z)
    return landmarks


def _pixel(point):
    return np.array([K_PX[0] * point[0] / point[2] + K_PX[2], K_PX[1] * point[1] / point[2] + K_PX[3]])


@pytest.mark.parametrize("holes", [0.0, 0.05])
def test_the_near_knee_and_ankle_are_moved_onto_the_limbs_axes(holes):
    depth, person = _leg_scene(HIP, KNEE, ANKLE)
    # A real camera's depth has holes on the person too: they are passed over.
    depth[np.random.default_rng(3).random(depth.shape) < holes] = 0.0
    # BlazePose's knee 8 px in front of the knee's centre (about 3 cm here), its ankle 5 px.
    pixels = _leg_pixels(8.0, 5.0)
    model = _pose().world_m  # the left side nearer the camera
    landmarks = _leg_landmarks(pixels)
    before = landmarks.copy()
    onto_limb_axes(landmarks, pixels, model, depth, person, K_PX)
    knee_px, ankle_px = _pixel(landmarks[INDEX["left_knee"]]), _pixel(landmarks[INDEX["left_ankle"]])
    # Across each limb onto its axis, within a pixel; along it, where BlazePose put it.
    assert _off_line(HIP, KNEE, knee_px) < 1.0 and _off_line(KNEE, ANKLE, ankle_px) < 1.0
    assert np.linalg.norm(knee_px - KNEE) < 4.0 and np.linalg.norm(ankle_px - ANKLE) < 3.0
    # At their own depth; the hip and everything else untouched.
    for name in ("left_knee", "left_ankle"):
        assert landmarks[INDEX[name], 2] == before[INDEX[name], 2]
    untouched = [k for k in range(33) if k not in (INDEX["left_knee"], INDEX["left_ankle"])]
    np.testing.assert_array_equal(landmarks[untouched], before[untouched])


def test_side_on_the_near_hip_is_moved_onto_the_thighs_axis_too():
    depth, person = _leg_scene(HIP, KNEE, ANKLE)
    pixels = _leg_pixels(8.0, 5.0)
    pixels[INDEX["left_hip"]] = HIP + [7.0, 0.0]  # BlazePose's hip in front of the joint
    model = _pose().world_m
    far_leg = [INDEX["right_hip"], INDEX["right_knee"]]
    # Side-on: the far leg's hip and knee hidden behind the near leg, placed (0.45).
    landmarks = _leg_landmarks(pixels)
    landmarks[far_leg, 3] = 0.45
    before = landmarks.copy()
    onto_limb_axes(landmarks, pixels, model, depth, person, K_PX)
    hip_px = _pixel(landmarks[INDEX["left_hip"]])
    assert _off_line(HIP, KNEE, _pixel(before[INDEX["left_hip"]])) > 5.0
    assert _off_line(HIP, KNEE, hip_px) < 1.0
    assert landmarks[INDEX["left_hip"], 2] == before[INDEX["left_hip"], 2]
    # The far leg seen (an oblique view): the hip stays where BlazePose put it, the knee moves.
    landmarks = _leg_landmarks(pixels)
    landmarks[INDEX["right_knee"], 3] = 0.45  # one of the two seen is enough to keep it
    before = landmarks.copy()
    onto_limb_axes(landmarks, pixels, model, depth, person, K_PX)
    np.testing.assert_array_equal(landmarks[INDEX["left_hip"]], before[INDEX["left_hip"]])
    assert _off_line(HIP, KNEE, _pixel(landmarks[INDEX["left_knee"]])) < 1.0


def test_a_knee_is_left_where_blazepose_put_it_unless_both_limbs_are_clean():
    pixels, model = _leg_pixels(), _pose().world_m
    # A plate (0.6 m nearer) in front of the shin: the shin's silhouette is the plate's, and
    # a knee moved on the thigh's axis alone would jump between frames where it is and is not.
    depth, person = _leg_scene(HIP, KNEE, ANKLE)
    v, u = np.mgrid[0 : depth.shape[0], 0 : depth.shape[1]]
    plate = (u - 300) ** 2 + (v - 320) ** 2 <= 45**2
    depth[plate], person[plate] = 1.9, 1
    landmarks = _leg_landmarks(pixels)
    before = landmarks.copy()
    onto_limb_axes(landmarks, pixels, model, depth, person, K_PX)
    np.testing.assert_array_equal(landmarks, before)
    # A knee placed by the model (not seen) is not moved either, on a clean leg.
    depth, person = _leg_scene(HIP, KNEE, ANKLE)
    landmarks[INDEX["left_knee"], 3] = 0.45
    before = landmarks.copy()
    onto_limb_axes(landmarks, pixels, model, depth, person, K_PX)
    np.testing.assert_array_equal(landmarks, before)
    # Without a person mask (no segmentation) nothing is moved.
    landmarks[INDEX["left_knee"], 3] = 0.9
    before = landmarks.copy()
    onto_limb_axes(landmarks, pixels, model, depth, None, K_PX)
    np.testing.assert_array_equal(landmarks, before)


def test_the_near_shoulder_is_moved_onto_the_upper_arms_axis_and_the_ear_with_it():
    # BlazePose puts the shoulder about 3 cm forward of the joint when the arms reach forward
    # (holding a box): the trunk's top goes onto the upper arm's axis. The head is judged on
    # the ear-shoulder line against standing, so that line keeps BlazePose's direction.
    shoulder, elbow, near_z = np.array([300.0, 120.0]), np.array([306.0, 230.0]), 2.5
    shape = (480, 640)
    depth, person = np.full(shape, 5.0, np.float32), np.zeros(shape, np.uint8)
    d, arm = _capsule(shape, shoulder, elbow, 12.0)
    radius_m = 12.0 * near_z / K_PX[0]
    depth[arm] = near_z + radius_m * (1.0 - np.sqrt(np.clip(1.0 - (d[arm] / 12.0) ** 2, 0.0, 1.0)))
    person[arm] = 1
    pixels = np.full((33, 2), np.nan)
    pixels[INDEX["left_shoulder"]] = shoulder + [8.0, 0.0]  # in front of the joint
    pixels[INDEX["left_elbow"]] = elbow
    pixels[INDEX["left_ear"]] = [318.0, 60.0]
    landmarks = np.full((33, 4), np.nan)
    landmarks[:, 3] = 0.9
    for name in ("left_shoulder", "left_elbow", "left_ear"):
        k = INDEX[name]
        z = near_z + JOINT_DEPTH_M.get(name.split("_")[1], 0.0)
        landmarks[k, :3] = ((pixels[k, 0] - K_PX[2]) / K_PX[0] * z, (pixels[k, 1] - K_PX[3]) / K_PX[1] * z, z)
    before = landmarks.copy()
    onto_limb_axes(landmarks, pixels, _pose().world_m, depth, person, K_PX)
    sh, ear = INDEX["left_shoulder"], INDEX["left_ear"]
    assert _off_line(shoulder, elbow, _pixel(before[sh])) > 7.0
    assert _off_line(shoulder, elbow, _pixel(landmarks[sh])) < 1.0
    assert landmarks[sh, 2] == before[sh, 2]  # at its own depth
    np.testing.assert_allclose(landmarks[ear, :3] - landmarks[sh, :3], before[ear, :3] - before[sh, :3])
    untouched = [k for k in range(33) if k not in (sh, ear)]
    np.testing.assert_array_equal(landmarks[untouched], before[untouched])
    # The elbow placed by the model (not seen): the shoulder stays where BlazePose put it.
    landmarks = before.copy()
    landmarks[INDEX["left_elbow"], 3] = 0.45
    onto_limb_axes(landmarks, pixels, _pose().world_m, depth, person, K_PX)
    np.testing.assert_array_equal(landmarks[[sh, ear]], before[[sh, ear]])


def test_a_limb_section_that_ends_at_an_arm_in_front_is_not_used():
    # The near arm hangs in front of the thigh (0.3 m nearer) and covers its front edge over
    # a third of its length: there the silhouette ends at the arm, not at the thigh's rim; the
    # other sections still place the knee.
    depth, person = _leg_scene(HIP, KNEE, ANKLE)
    _, arm = _capsule(depth.shape, np.array([332.0, 215.0]), np.array([333.0, 228.0]), 5.0)
    depth[arm], person[arm] = 2.2, 1
    pixels = _leg_pixels()
    landmarks = _leg_landmarks(pixels)
    onto_limb_axes(landmarks, pixels, _pose().world_m, depth, person, K_PX)
    assert _off_line(HIP, KNEE, _pixel(landmarks[INDEX["left_knee"]])) < 1.0


# ---------------------------------------------------------------------------
# 'topics': pairing a driver's colour and depth, and surviving its bad images


def _driver_images(k: int, w: int = 64, h: int = 48, depth_size: tuple[int, int] | None = None):
    """Colour and 16UC1 depth (1.5 m) of frame k, stamped 100 s + k/30 s, as realsense-ros sends them."""
    from builtin_interfaces.msg import Time as TimeMsg
    from sensor_msgs.msg import Image
    from std_msgs.msg import Header

    header = Header(stamp=TimeMsg(sec=100, nanosec=k * 33_000_000), frame_id="camera_color_optical_frame")
    dw, dh = depth_size or (w, h)
    color = Image(header=header, height=h, width=w, encoding="rgb8", step=3 * w, data=bytes(3 * w * h))
    depth_mm = np.full(dw * dh, 1500, np.uint16)
    depth = Image(header=header, height=dh, width=dw, encoding="16UC1", step=2 * dw, data=depth_mm.tobytes())
    return color, depth


@pytest.fixture
def topics_camera():
    """A camera node in 'topics' mode; the test puts the driver's messages in its queues itself."""
    import rclpy
    from rclpy.context import Context
    from rclpy.parameter import Parameter

    from hinge_coach_ros.nodes.camera_node import CameraNode, camera_info
    from hinge_coach_ros.sources import Intrinsics

    context = Context()
    rclpy.init(context=context)
    node = CameraNode(context=context, parameter_overrides=[Parameter("source", value="topics")])
    node._on_driver_info(camera_info(Intrinsics(64, 48, 50.0, 50.0, 32.0, 24.0), _driver_images(0)[0].header))
    try:
        yield node
    finally:
        node.safe_shutdown()
        node.destroy_node()
        rclpy.shutdown(context=context)


def test_topics_keeps_a_colour_that_arrived_before_its_depth(topics_camera):
    from hinge_coach_ros.nodes.camera_node import COLOR_TOPIC, DEPTH_TOPIC

    colors, depths = topics_camera._topic_frames[COLOR_TOPIC], topics_camera._topic_frames[DEPTH_TOPIC]
    images = {k: _driver_images(k) for k in (1, 2, 3)}
    matched = []

    def take():
        frame = topics_camera._match_driver_frames()
        if frame is not None:
            matched.append(round(frame.arrival_s, 3))
            assert frame.depth_m.shape == (48, 64) and frame.depth_m[0, 0] == pytest.approx(1.5)

    # Each colour arrives just before its depth, and a poll can fall in between.
    colors.append(images[1][0])
    take()
    depths.append(images[1][1])
    colors.append(images[2][0])
    take()  # pair 1; colour 2 stays for its depth
    assert [m.header.stamp.nanosec for m in colors] == [66_000_000] and not depths
    depths.append(images[2][1])
    take()
    colors.append(images[3][0])
    depths.append(images[3][1])
    take()
    assert matched == [100.033, 100.066, 100.099]
    assert not colors and not depths


def test_frame_from_driver_refuses_malformed_and_unaligned_images():
    from hinge_coach_ros.nodes.camera_node import camera_info, frame_from_driver
    from hinge_coach_ros.sources import Intrinsics

    color, depth = _driver_images(1)
    info = camera_info(Intrinsics(64, 48, 50.0, 50.0, 32.0, 24.0), color.header)
    frame = frame_from_driver(color, depth, info)
    assert frame.color_rgb.shape == (48, 64, 3) and frame.depth_m.shape == (48, 64)
    assert frame.depth_m[47, 63] == pytest.approx(1.5)
    short = _driver_images(1)[1]
    short.data = bytes(10)
    with pytest.raises(ValueError, match=r"malformed depth image \(16UC1\): 64x48 px, step 128, 10 bytes"):
        frame_from_driver(color, short, info)
    narrow = _driver_images(1)[0]
    narrow.step = 3 * 64 - 1  # shorter than a row of pixels
    with pytest.raises(ValueError, match="malformed colour image"):
        frame_from_driver(narrow, depth, info)
    _, small = _driver_images(1, depth_size=(32, 24))
    with pytest.raises(ValueError, match="depth image 32x24 px is not the colour image's 64x48"):
        frame_from_driver(color, small, info)
    swapped = _driver_images(1)[1]
    swapped.is_bigendian = True
    with pytest.raises(ValueError, match="big-endian depth image: need little-endian"):
        frame_from_driver(color, swapped, info)


def test_a_bad_driver_frame_is_skipped_and_the_next_one_published(topics_camera):
    from hinge_coach_ros.nodes.camera_node import COLOR_TOPIC, DEPTH_TOPIC

    colors, depths = topics_camera._topic_frames[COLOR_TOPIC], topics_camera._topic_frames[DEPTH_TOPIC]
    unaligned = _driver_images(1, depth_size=(32, 24))
    truncated = _driver_images(2)
    truncated[1].data = bytes(10)
    for color, depth in (unaligned, truncated):
        colors.append(color)
        depths.append(depth)
        topics_camera._poll()  # logged and skipped, not raised
        assert topics_camera.frames_published == 0 and not colors and not depths
    good_color, good_depth = _driver_images(3)
    colors.append(good_color)
    depths.append(good_depth)
    topics_camera._poll()
    assert topics_camera.frames_published == 1
