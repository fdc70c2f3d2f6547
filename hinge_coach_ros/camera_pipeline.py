"""From a camera frame to the 3D skeleton: pose, depth lifting, filtering.

ROS-free; the camera node and the benchmark run this same code. Landmarks
are lifted with the aligned depth (median of a small window, holes skipped,
in the C++ kernel); a joint without usable depth falls back to BlazePose's
own 3D estimate, placed by the joints that have depth, with its confidence
lowered. RGB-only input (video) puts the 2D landmarks on the person's
sagittal plane, oriented by BlazePose's metric landmarks (``monocular``), and
takes the back profile from the person mask's dorsal contour, placed on the
same plane at the same scale.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from .dowel import BackProfile, station_fractions
from .filters import OneEuroFilter
from .geometry import SIDE_ON_MAX_DEG
from .kernels import back_profile, deproject_depth, fit_plane_ransac, lift_landmarks, limb_sections
from .landmarks import INDEX, LANDMARK_NAMES, PAIRED_PARTS
from .monocular import SagittalLift
from .params import defaults
from .pose import PoseEstimator, PoseResult
from .sources import Frame, Intrinsics

# Skin-to-joint-centre depth: the camera sees a limb's near surface, the
# skeleton is its axis, about half the segment's thickness behind it. Rounded
# adult values, r = C / 2 pi from typical circumferences (thigh at the gluteal
# fold 57 cm, knee 38 cm, ankle 23 cm, upper arm at the deltoid 32 cm, elbow
# 27 cm, wrist 17 cm) and half a foot's breadth (9 cm) for heel and toe.
# The face, ears and fingers are surface landmarks: BlazePose marks the skin.
JOINT_DEPTH_M: dict[str, float] = {
    "shoulder": 0.05,
    "elbow": 0.043,
    "wrist": 0.027,
    "hip": 0.09,
    "knee": 0.06,
    "ankle": 0.037,
    "heel": 0.045,
    "foot_index": 0.045,
}
_JOINT_DEPTH = np.array([JOINT_DEPTH_M.get(name.split("_", 1)[-1], 0.0) for name in LANDMARK_NAMES])
# Left/right landmark pairs, for telling a hidden far-side joint from a seen one.
_PAIRS = np.array([(INDEX[f"left_{part}"], INDEX[f"right_{part}"]) for part in PAIRED_PARTS], dtype=int)
OCCLUDED_FRACTION = 0.5  # a far-side joint measured less than this share of its depth behind the near one
# A toe measured this much deeper or shallower than its own heel, beyond what BlazePose's model
# puts between them, took another surface's depth: side-on the far foot stands right behind
# the near one, and the near toe's window (the person mask holds both feet) took the far
# foot's depth, 26-32 cm too deep standing side-on to the rendered deadlift. The facing
# comes from heel to toe: that foot turned it 54-61 deg, and the engine read the person as
# turning 43 times in that session. A foot is about 25 cm long, so its toe lies within that
# of its heel's depth whatever the view; the model's depth between them is good to about 10 cm.
TOE_FROM_HEEL_M = 0.2
_FEET = np.array([(INDEX[f"{side}_heel"], INDEX[f"{side}_foot_index"]) for side in ("left", "right")])
# Something nearer the camera than the body hides a joint (a barbell plate side-on to a
# deadlift, 50-75 cm in front of the hips and knees; a table, a box): the joint's depth
# sample is the object's. Measured this far in front of where BlazePose's metric model
# puts it, given the other joints' depth, it is placed at the model's depth instead. The
# model's depth between joints is good to about 10 cm; a body is about 30 cm deep, so no
# joint of the body itself lies this far in front of its place.
OCCLUDER_M = 0.25
# Confidence factor of a joint placed by the model's depth. A measured joint keeps its
# visibility (at least min_visibility, 0.5), a placed one gets at most 0.5: the engine
# takes 0.5 or less as placed, not seen (geometry.PLACED_MAX_CONFIDENCE), and does not
# judge a check on it.
FALLBACK_CONFIDENCE = 0.5
# The near knee and ankle on the limbs' axes. BlazePose's knee sits 1-2 cm in front of the
# knee's centre and its ankle a little off the shin (rendered athlete, side-on: the shin read
# 2 deg forward on average, the knee flexion 3.5 deg off). A limb's silhouette in the depth
# image is centred on its axis: across the near thigh and shin at LIMB_SECTIONS of their
# length (clear of the hip's crease, the knee and the ankle), the middle of the pixels on the
# person within LIMB_DEPTH_TOL_M of the section's centre depth (a round limb's rim lies
# its radius, 5-8 cm, behind its front; the far leg, side-on, 15-20 cm) traces the axis. The
# knee moves across onto the middle of both axes, the ankle onto the shin's, at their own
# depth; only when both limbs are clean (else a knee moved on some frames only makes the
# hip angle jump between frames). A section that ends at something nearer (an arm, a box),
# whose width is off the others' by more than LIMB_WIDTH_TOL or whose middle lies more than
# half a width off BlazePose's segment, or an axis turned more than LIMB_MAX_TURN_DEG from
# BlazePose's segment (a box or plate in front of the thigh makes the silhouette its own), is
# not used. The near hip moves across onto the thigh's axis too, but only with the far leg's
# hip and knee placed (hidden behind the near leg: side-on): BlazePose's hip sits 1-2 cm in
# front of the joint when bent, and side-on the engine reads the thigh from the near leg's
# own hip (geometry ``_leg``). At 45 deg both legs are seen and the hips' midpoint, which
# the trunk and thigh read there, took the moved hip worse (the rendered dowel drill's hip
# angle 5.2 -> 5.9 deg). A person's shank is not round (the calf): its middle lies behind
# the tibia at the calf, which this does not model.
LIMB_SECTIONS = np.linspace(0.3, 0.7, 9)
LIMB_DEPTH_TOL_M = 0.10
LIMB_WIDTH_TOL = 0.25
LIMB_MAX_TURN_DEG = 8.0
NOMINAL_DISTANCE_M = 3.0  # where an RGB-only skeleton is put in front of the camera
BACK_STATIONS = 24  # dorsal-edge samples from hips to ear: about 2 cm apart on an adult
# The back of the head: stations on a line through the ear along the trunk, from below the ear
# to beyond it, in shoulder-to-ear lengths (the skull's back reaches about half of that
# below and above the ear); about 1 cm apart on an adult.
HEAD_SCAN_SPAN = (-0.4, 0.8)
HEAD_STATIONS = 12
# An arm or hand nearer the camera than the back hides the back's rim: an edge this far in
# front of the farthest depth its scan passed is dropped (the near arm in the dowel drill is
# 20-30 cm in front of the rim; depth noise is about 2.5 cm at 3 m, so a scan's farthest
# depth reads about 6 cm beyond the rim's).
OCCLUSION_STEP_M = 0.10
FLOOR_STRIDE = 8  # floor fit on every 8th pixel: 80x60 points
FLOOR_MAX_TILT_DEG = 35.0  # a station camera is mounted roughly level; walls are rejected
CAMERA_UP = np.array([0.0, -1.0, 0.0])  # optical frame: y points down


@dataclass
class Timings:
    pose_ms: float = 0.0
    lift_ms: float = 0.0
    filter_ms: float = 0.0


@dataclass
class SkeletonFrame:
    stamp_s: float
    landmarks: np.ndarray  # (33, 4) x, y, z (m, camera optical frame), confidence
    pose: PoseResult
    depth_joints: int  # joints lifted with measured depth
    back: BackProfile | None = None  # the dorsal edge: from depth, or the mask's contour on RGB only
    # Gravity-up: from the floor plane in the depth image; without depth, the image's up
    # (a phone held upright, its rotation metadata applied).
    up: np.ndarray | None = None
    timings: Timings = field(default_factory=Timings)
    # RGB-only: the camera's angle from side-on (NaN with depth), and whether the landmarks lie
    # on the sagittal plane (False: too frontal a view, the model's own 3D landmarks).
    view_yaw_deg: float = float("nan")
    sagittal: bool = True


def _check_depth_metres(depth_m: np.ndarray) -> None:
    """ValueError for depth that is not in metres: a sensor's raw counts (RealSense: uint16 in
    depth units of 1 mm) read as metres put everything kilometres away, and nothing is found."""
    if not np.issubdtype(np.asarray(depth_m).dtype, np.floating):
        raise ValueError(
            f"depth must be float metres, not {np.asarray(depth_m).dtype}: scale a sensor's raw counts "
            "by its depth unit first"
        )


def lift_pose(
    pose: PoseResult,
    depth_m: np.ndarray,
    intrinsics: Intrinsics,
    window_radius_px: int = 4,
    min_visibility: float = 0.5,
) -> tuple[np.ndarray, int]:
    """(33, 4) skeleton in the camera optical frame and the number of joints with measured depth.

    Depth is the median over the window's pixels on the person (the segmentation
    mask), so a window at a limb's edge or a dark shoe's holes does not take the
    floor's or the wall's depth; then ``joint_centres``.
    """
    _check_depth_metres(depth_m)
    k = (intrinsics.fx, intrinsics.fy, intrinsics.cx, intrinsics.cy)
    person = (pose.mask > 0.5).astype(np.uint8) if pose.mask is not None else None
    surface, count = lift_landmarks(
        depth_m, pose.pixels, k, depth_scale=1.0, window_radius_px=window_radius_px, mask=person
    )
    landmarks, measured = joint_centres(surface, count, pose, min_visibility)
    onto_limb_axes(landmarks, pose.pixels, pose.world_m, depth_m, person, k)
    return landmarks, measured


def limb_section_layout(
    start_px: np.ndarray, end_px: np.ndarray, image_shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int] | None:
    """The sections across the limb between two joints' pixels: their centres (S, 2) at
    LIMB_SECTIONS of its length, the unit direction along it and across it, and how far a scan
    may walk (the limb's length, px); None for a segment too short to section (8 px) or longer
    than the image's diagonal (NaN or wild pixels)."""
    start = np.asarray(start_px, dtype=float)
    along = np.asarray(end_px, dtype=float) - start
    length = float(np.linalg.norm(along))
    if not (8.0 <= length <= math.hypot(*image_shape)):
        return None
    along /= length
    centres = start + LIMB_SECTIONS[:, None] * (length * along)
    return centres, along, np.array([-along[1], along[0]]), int(length)


def limb_axis(
    depth_m: np.ndarray,
    person: np.ndarray,
    start_px: np.ndarray,
    end_px: np.ndarray,
    surface_z_m: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """The image line (point, unit direction from start to end) along the middle of the limb
    between two joints' pixels, from its silhouette across LIMB_SECTIONS, and the limb's width
    (px); None when too few sections are clean (see ``LIMB_SECTIONS``). ``surface_z_m``: the
    depth of the limb's near surface at the two joints; a section whose centre lies further
    than LIMB_DEPTH_TOL_M off it sees something else (a plate in front of the shin)."""
    layout = limb_section_layout(start_px, end_px, depth_m.shape)
    if layout is None:
        return None
    centres, along, across, steps = layout
    reference, ends, clean = limb_sections(
        depth_m, person, centres, across, steps, LIMB_DEPTH_TOL_M, depth_scale=1.0
    )
    expected = surface_z_m[0] + LIMB_SECTIONS * (surface_z_m[1] - surface_z_m[0])
    with np.errstate(invalid="ignore"):
        usable = clean & (np.abs(reference - expected) <= LIMB_DEPTH_TOL_M)
    if usable.sum() < 5:
        return None
    width = ends[:, 1] - ends[:, 0]
    middle = centres + (0.5 * (ends[:, 0] + ends[:, 1]))[:, None] * across
    median_width = float(np.median(width[usable]))
    usable &= np.abs(width - median_width) <= LIMB_WIDTH_TOL * median_width
    usable &= np.abs(ends[:, 0] + ends[:, 1]) <= median_width  # middle within half a width
    if usable.sum() < 5:
        return None
    points = middle[usable]
    point = points.mean(axis=0)
    direction = np.linalg.svd(points - point)[2][0]
    if direction @ along < 0:
        direction = -direction
    if math.degrees(math.acos(min(1.0, float(direction @ along)))) > LIMB_MAX_TURN_DEG:
        return None
    return point, direction, median_width


def onto_limb_axes(
    landmarks: np.ndarray,
    pixels: np.ndarray,
    model_m: np.ndarray,
    depth_m: np.ndarray,
    person: np.ndarray | None,
    k: tuple[float, float, float, float],
) -> None:
    """Move the near side's seen knee and ankle (in place) onto the thigh's and shin's
    silhouette axes (``limb_axis``), across the limb at their own depth; the knee onto the
    middle of its projections onto both; the hip onto the thigh's when the far leg's hip and
    knee are placed (side-on); the shoulder onto the upper arm's (``_onto_upper_arm``). The
    near side is the one BlazePose's model puts nearer the camera, as in ``joint_centres``;
    placed joints are left alone."""
    if person is None:
        return
    side, far = (
        ("left", "right")
        if model_m[INDEX["left_hip"], 2] <= model_m[INDEX["right_hip"], 2]
        else ("right", "left")
    )
    moved = _onto_leg_axes(landmarks, pixels, depth_m, person, side, far)
    moved.update(_onto_upper_arm(landmarks, pixels, depth_m, person, side))
    shoulder, ear = INDEX[f"{side}_shoulder"], INDEX[f"{side}_ear"]
    shoulder_before = landmarks[shoulder, :3].copy()
    fx, fy, cx, cy = k
    for joint, (u, v) in moved.items():
        z = landmarks[joint, 2]
        landmarks[joint, :3] = ((u - cx) / fx * z, (v - cy) / fy * z, z)
    if shoulder in moved:
        # The head's line (ear to shoulder) stays BlazePose's: the head is judged on it
        # against standing, and the ear moves with the shoulder. Left behind, the head-neck
        # angle turned with the arm, and head_up was raised on 10 (live) and 14 (offline) of
        # the rendered sweep's 58 clean reps. (An ear without a position stays NaN.)
        landmarks[ear, :3] += landmarks[shoulder, :3] - shoulder_before


def _onto(p: np.ndarray, line: tuple[np.ndarray, np.ndarray, float]) -> np.ndarray | None:
    """``p`` across onto the line; None when that is more than half the limb's width."""
    point, direction, width = line
    q = point + ((p - point) @ direction) * direction
    return q if np.linalg.norm(q - p) <= 0.5 * width else None


def _onto_leg_axes(
    landmarks: np.ndarray, pixels: np.ndarray, depth_m: np.ndarray, person: np.ndarray, side: str, far: str
) -> dict[int, np.ndarray]:
    """The near leg's joints' pixels moved onto the thigh's and shin's axes (see
    ``onto_limb_axes``); none unless both axes are found."""
    hip, knee, ankle = (INDEX[f"{side}_{joint}"] for joint in ("hip", "knee", "ankle"))
    if not (landmarks[[hip, knee, ankle], 3] > FALLBACK_CONFIDENCE).all():
        return {}
    surface_z = landmarks[[hip, knee, ankle], 2] - _JOINT_DEPTH[[hip, knee, ankle]]
    thigh = limb_axis(depth_m, person, pixels[hip], pixels[knee], (surface_z[0], surface_z[1]))
    shin = limb_axis(depth_m, person, pixels[knee], pixels[ankle], (surface_z[1], surface_z[2]))
    if thigh is None or shin is None:
        # Both or neither: side-on to a deadlift the plate hides the knee on some frames and
        # not others, and a knee moved on some frames only made the hip angle jump between
        # them (the descent timed 0.1-0.3 s on 4 clean reps, fast_descent raised).
        return {}
    moved = {}
    knee_px = [q for line in (thigh, shin) if (q := _onto(pixels[knee], line)) is not None]
    if knee_px:
        moved[knee] = np.mean(knee_px, axis=0)
    if (q := _onto(pixels[ankle], shin)) is not None:
        moved[ankle] = q
    far_leg_hidden = (landmarks[[INDEX[f"{far}_hip"], INDEX[f"{far}_knee"]], 3] <= FALLBACK_CONFIDENCE).all()
    if far_leg_hidden and (q := _onto(pixels[hip], thigh)) is not None:
        moved[hip] = q
    return moved


def _onto_upper_arm(
    landmarks: np.ndarray, pixels: np.ndarray, depth_m: np.ndarray, person: np.ndarray, side: str
) -> dict[int, np.ndarray]:
    """The near shoulder's pixel moved onto the upper arm's axis. BlazePose puts the shoulder
    3 cm forward of the joint when the arms reach forward: holding a box side-on the trunk
    read 4 deg forward standing, and the hip 4.5 deg (the rendered box lift side-on's hip
    3.28 deg off offline over the session)."""
    shoulder, elbow = INDEX[f"{side}_shoulder"], INDEX[f"{side}_elbow"]
    if not (landmarks[[shoulder, elbow], 3] > FALLBACK_CONFIDENCE).all():
        return {}
    surface_z = landmarks[[shoulder, elbow], 2] - _JOINT_DEPTH[[shoulder, elbow]]
    arm = limb_axis(depth_m, person, pixels[shoulder], pixels[elbow], (surface_z[0], surface_z[1]))
    q = _onto(pixels[shoulder], arm) if arm is not None else None
    return {shoulder: q} if q is not None else {}


def joint_centres(
    surface: np.ndarray, count: np.ndarray, pose: PoseResult, min_visibility: float = 0.5
) -> tuple[np.ndarray, int]:
    """Joint centres from the lifted surface points (``lift_landmarks``' output).

    Each measured landmark moves ``JOINT_DEPTH_M`` further along its ray. A
    far-side joint that the near side hides (side-on, the far hip behind the
    near thigh) gets the near side's depth, not its own: when its measured
    depth is not behind its near twin by at least OCCLUDED_FRACTION of what
    BlazePose's metric model puts between them, it is placed on its own pixel
    ray at the near twin's depth plus the model's depth difference, with
    lowered confidence. A toe whose depth is off its heel's by more than
    TOE_FROM_HEEL_M beyond the model's difference is placed the same way, at the
    heel's depth plus that difference. A joint whose depth lies more than OCCLUDER_M in front of
    its place in the model (an object between it and the camera) is put on its
    pixel's ray at the model's depth, with lowered confidence, and does not count
    as measured. A joint without depth takes the model's 3D position, translated
    onto the measured joints.
    """
    points = np.asarray(surface, dtype=float)
    measured = (count > 0) & (pose.visibility >= min_visibility)
    out = np.full((len(points), 4), np.nan)
    out[:, 3] = 0.0
    if not measured.any():
        return out, 0
    distance = np.linalg.norm(points, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        centres = points * ((distance + _JOINT_DEPTH) / distance)[:, None]
    out[measured, :3] = centres[measured]
    out[measured, 3] = pose.visibility[measured]
    model_z = pose.world_m[:, 2]  # BlazePose: hip-centred, z away from the camera

    def place_from(joint: int, reference: int) -> None:
        """``joint`` on its own pixel's ray, at ``reference``'s depth plus the model's
        difference between them, less trusted."""
        z = out[reference, 2] + (model_z[joint] - model_z[reference])
        out[joint, :3] = points[joint] * (z / points[joint, 2])
        out[joint, 3] = FALLBACK_CONFIDENCE * pose.visibility[joint]

    for left, right in _PAIRS:
        if not (measured[left] and measured[right]):
            continue
        near, far = (left, right) if model_z[left] <= model_z[right] else (right, left)
        if out[far, 2] - out[near, 2] >= OCCLUDED_FRACTION * (model_z[far] - model_z[near]):
            continue  # seen where the model expects it (or the twins are side by side)
        place_from(far, near)
    for heel, toe in _FEET:
        if not (measured[heel] and measured[toe]):
            continue
        if abs(out[toe, 2] - out[heel, 2] - (model_z[toe] - model_z[heel])) > TOE_FROM_HEEL_M:
            place_from(toe, heel)
    # An object in front of a joint: its depth lies far nearer than the model's place for it,
    # the model placed by the median of the measured joints (most of them are seen).
    expected_z = model_z + np.median(out[measured, 2] - model_z[measured])
    hidden = measured & (expected_z - out[:, 2] > OCCLUDER_M)
    if hidden.any() and not hidden[measured].all():
        measured = measured & ~hidden
        expected_z = model_z + np.median(out[measured, 2] - model_z[measured])
        out[hidden, :3] = points[hidden] * (expected_z[hidden] / points[hidden, 2])[:, None]
        out[hidden, 3] = FALLBACK_CONFIDENCE * pose.visibility[hidden]
    # BlazePose's metric landmarks are hip-centred with camera-aligned axes:
    # one translation, from the joints that have depth, places the rest.
    offset = np.median(out[measured, :3] - pose.world_m[measured], axis=0)
    missing = ~measured & ~hidden
    out[missing, :3] = pose.world_m[missing] + offset
    out[missing, 3] = FALLBACK_CONFIDENCE * pose.visibility[missing]
    return out, int(measured.sum())


def _pixel_mid(pose: PoseResult, part: str) -> np.ndarray | None:
    """Image midpoint of a left/right landmark pair, or the better-seen one."""
    left, right = INDEX[f"left_{part}"], INDEX[f"right_{part}"]
    vis_l, vis_r = np.nan_to_num(pose.visibility[[left, right]])  # NaN: not seen
    if min(vis_l, vis_r) >= 0.5:
        return 0.5 * (pose.pixels[left] + pose.pixels[right])
    if max(vis_l, vis_r) < 0.3:
        return None
    return pose.pixels[left] if vis_l >= vis_r else pose.pixels[right]


def _scan_back(
    depth: np.ndarray, k: tuple[float, float, float, float], axis: np.ndarray, facing_x: float, **scan
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(edge_uv, points, valid, fractions) of the stations hips -> shoulders -> ear, then of the
    back of the head; ``scan`` goes to the ``back_profile`` kernel."""
    edge_uv, _, points, valid, stations = back_profile(
        depth, k, axis, facing_x, depth_scale=1.0, stations=BACK_STATIONS, **scan
    )
    fractions = station_fractions(stations, axis)
    # The stations between shoulder and ear scan the nape, not the back of the skull: the ear
    # sits near the head's centre, and the dowel touches the skull where it lies farthest back
    # across the trunk, at or above the ear's level. A line through the ear parallel to the
    # trunk, scanned the same way (perpendicular to its first segment: the trunk's), samples
    # the skull's outline densely around that point; scans that start off the head find no edge.
    hip, shoulder, ear = axis
    neck_px = float(np.linalg.norm(ear - shoulder))
    trunk_px = float(np.linalg.norm(shoulder - hip))
    if trunk_px > 1e-6 and neck_px > 1e-6:
        along = (shoulder - hip) / trunk_px
        head_axis = np.stack([ear + span * neck_px * along for span in HEAD_SCAN_SPAN])
        # No occlusion test across the head: the skull is rounder than the trunk and its rim is
        # hair without depth, so the last depth before the rim often lies well in front of the
        # farthest one passed; on the rendered dowel drill the test dropped the skull's rim
        # stations and doubled the head-gap error.
        head_scan = {key: value for key, value in scan.items() if key != "occlusion_step_m"}
        head_uv, _, head_points, head_valid, head_stations = back_profile(
            depth, k, head_axis, facing_x, depth_scale=1.0, stations=HEAD_STATIONS, **head_scan
        )
        edge_uv = np.vstack([edge_uv, head_uv])
        points = np.vstack([points, head_points])
        valid = np.concatenate([valid, head_valid])
        fractions = np.concatenate([fractions, station_fractions(head_stations, axis)])
    return edge_uv, points, valid, fractions


def _back_axis(pose: PoseResult) -> tuple[np.ndarray, float] | None:
    """The back scan's pixel axis (hip, shoulder and ear midpoints) and which way the person faces
    in the image (+1: toes toward +u); None when a part is unseen or the feet give no direction."""
    hip, shoulder, ear = _pixel_mid(pose, "hip"), _pixel_mid(pose, "shoulder"), _pixel_mid(pose, "ear")
    heel, toe = _pixel_mid(pose, "heel"), _pixel_mid(pose, "foot_index")
    if hip is None or shoulder is None or ear is None or heel is None or toe is None or toe[0] == heel[0]:
        return None
    return np.stack([hip, shoulder, ear]), 1.0 if toe[0] > heel[0] else -1.0


def extract_back(pose: PoseResult, depth_m: np.ndarray, intrinsics: Intrinsics) -> BackProfile | None:
    """The dorsal edge from hips to ear, scanned away from the way the toes point, and the back
    of the head scanned across the trunk from a line through the ear (``HEAD_SCAN_SPAN``).

    Holes inside the person mask (dark hair) do not end a scan, and a station whose edge is an
    arm or hand in front of the back's rim is dropped (``OCCLUSION_STEP_M``).
    """
    _check_depth_metres(depth_m)
    back_axis = _back_axis(pose)
    if back_axis is None:
        return None
    mask = (pose.mask > 0.5).astype(np.uint8) if pose.mask is not None else None
    _, points, valid, fractions = _scan_back(
        depth_m,
        (intrinsics.fx, intrinsics.fy, intrinsics.cx, intrinsics.cy),
        *back_axis,
        mask=mask,
        holes_in_mask=True,
        occlusion_step_m=OCCLUSION_STEP_M,
    )
    return BackProfile(points, _drop_in_front_of_back(points, valid, fractions), fractions)


def _drop_in_front_of_back(points: np.ndarray, valid: np.ndarray, fractions: np.ndarray) -> np.ndarray:
    """``valid`` without the trunk stations whose edge lies OCCLUSION_STEP_M or more in front
    of the back's rim: an arm that covers a scan from its start to its end looks like an edge
    to the kernel. The rim's depth runs straight along the trunk on any view (the back's
    midline is a plane); its line is fitted by medians of pairwise slopes, which stand the
    third or so of the stations an arm can cover in the dowel drill."""
    trunk = np.where(valid & (fractions <= 1.0))[0]
    if len(trunk) < 4:
        return valid
    f, z = fractions[trunk], points[trunk, 2]
    i, j = np.triu_indices(len(trunk), 1)
    apart = f[j] - f[i] > 1e-6
    if not apart.any():
        return valid
    slope = float(np.median((z[j] - z[i])[apart] / (f[j] - f[i])[apart]))
    offset = float(np.median(z - slope * f))
    in_front = np.zeros_like(valid)
    in_front[trunk] = z < offset + slope * f - OCCLUSION_STEP_M
    return valid & ~in_front


def extract_back_rgb(pose: PoseResult, image_hw: tuple[int, int], lift: SagittalLift) -> BackProfile | None:
    """RGB only: the dorsal contour of the person mask, placed like the frame's landmarks.

    The same scan as with depth, on a flat stand-in depth image (the person
    mask at one distance, so only the mask's edge ends a scan); the edge
    pixels then go onto the sagittal plane at the skeleton's scale (metres
    per pixel from BlazePose's metric bone lengths). On an oblique view the
    contour is the body's outline, not its midline: a side-on measure, so
    none where the clip's view is over SIDE_ON_MAX_DEG from side-on (as with
    depth, the engine's ``CameraView``), or not known yet.
    """
    back_axis = _back_axis(pose)
    if pose.mask is None or back_axis is None or not abs(lift.view_yaw_deg) <= SIDE_ON_MAX_DEG:
        return None
    h, w = image_hw
    person = pose.mask > 0.5
    flat = np.where(person, np.float32(1.0), np.float32(0.0))
    edge_uv, _, valid, fractions = _scan_back(
        flat,
        (float(max(h, w)), float(max(h, w)), 0.5 * w, 0.5 * h),
        *back_axis,
        mask=person.astype(np.uint8),
    )
    points = lift.place(edge_uv)
    if points is None:
        return None
    return BackProfile(points, valid, fractions, from_depth=False)


def floor_up(depth_m: np.ndarray, intrinsics: Intrinsics, person: np.ndarray | None) -> np.ndarray | None:
    """The floor plane's normal (pointing up) in the camera optical frame, the person left out."""
    _check_depth_metres(depth_m)
    k = (intrinsics.fx, intrinsics.fy, intrinsics.cx, intrinsics.cy)
    keep = (person < 0.5).astype(np.uint8) if person is not None else None
    points = deproject_depth(depth_m, k, depth_scale=1.0, stride=FLOOR_STRIDE, mask=keep).reshape(-1, 3)
    normal, _, inliers, ok, _ = fit_plane_ransac(
        points, iterations=100, inlier_threshold_m=0.03, up_hint=CAMERA_UP, max_tilt_deg=FLOOR_MAX_TILT_DEG
    )
    return normal if ok and inliers >= 200 else None


_CAMERA_NODE = defaults("camera_node")  # the camera node's parameters: one definition


def landmark_filter(
    min_cutoff_hz: float = float(_CAMERA_NODE["filter_min_cutoff_hz"]),
    beta: float = float(_CAMERA_NODE["filter_beta"]),
    lead: float = float(_CAMERA_NODE["filter_lead"]),
) -> OneEuroFilter:
    """The camera node's landmark filter: one cut-off for the whole skeleton, led along its speed."""
    return OneEuroFilter(min_cutoff_hz=min_cutoff_hz, beta=beta, shared=True, lead=lead)


class CameraPipeline:
    """Pose, lifting and (live) filtering of one frame at a time.

    ``live_filter=False`` leaves the landmarks unfiltered, for offline analysis
    that smooths the whole session without lag afterwards (``analysis``).
    """

    def __init__(
        self,
        estimator: PoseEstimator,
        window_radius_px: int = int(_CAMERA_NODE["lift_window_px"]),
        min_cutoff_hz: float = float(_CAMERA_NODE["filter_min_cutoff_hz"]),
        beta: float = float(_CAMERA_NODE["filter_beta"]),
        lead: float = float(_CAMERA_NODE["filter_lead"]),
        live_filter: bool = True,
    ) -> None:
        self.estimator = estimator
        self.window_radius_px = window_radius_px
        self.filter = landmark_filter(min_cutoff_hz, beta, lead) if live_filter else None
        self.sagittal_lift = SagittalLift()

    def process(self, frame: Frame) -> SkeletonFrame | None:
        """The skeleton of the person in the zone, or None when nobody is there."""
        timings = Timings()
        start = time.perf_counter()
        pose = self.estimator.process(frame.color_rgb)
        timings.pose_ms = 1000.0 * (time.perf_counter() - start)
        if pose is None:
            if self.filter is not None:
                self.filter.reset()
            self.sagittal_lift.reset()
            return None
        start = time.perf_counter()
        back = up = None
        view_yaw, sagittal = float("nan"), True
        if frame.depth_m is not None and frame.intrinsics is not None:
            landmarks, depth_joints = lift_pose(pose, frame.depth_m, frame.intrinsics, self.window_radius_px)
            back = extract_back(pose, frame.depth_m, frame.intrinsics)
            up = floor_up(frame.depth_m, frame.intrinsics, pose.mask)
        else:
            landmarks, sagittal = self.sagittal_lift.lift(
                pose.pixels, pose.visibility, pose.world_m, NOMINAL_DISTANCE_M
            )
            view_yaw, up, depth_joints = self.sagittal_lift.view_yaw_deg, CAMERA_UP.copy(), 0
            back = extract_back_rgb(pose, frame.color_rgb.shape[:2], self.sagittal_lift)
        timings.lift_ms = 1000.0 * (time.perf_counter() - start)
        start = time.perf_counter()
        if self.filter is not None:
            landmarks[:, :3] = self.filter(frame.stamp_s, landmarks[:, :3])
        timings.filter_ms = 1000.0 * (time.perf_counter() - start)
        return SkeletonFrame(
            frame.stamp_s, landmarks, pose, depth_joints, back, up, timings, view_yaw, sagittal
        )
