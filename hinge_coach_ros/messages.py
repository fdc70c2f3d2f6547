"""Conversions between the core's data and standard ROS messages.

The one place that knows how a skeleton is packed into PointCloud2 and how
a report is laid out in a DiagnosticArray (keys documented in the README).
It imports message types only, never rclpy.
"""

from __future__ import annotations

import math

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from sensor_msgs.msg import PointCloud2, PointField
from std_msgs.msg import Header

from .alignment import FrameReport, Placement, RepSummary
from .dowel import BackProfile
from .feedback import ReportView, RepView
from .landmarks import NUM_LANDMARKS

SKELETON_FIELDS = ("x", "y", "z", "confidence")
_POINT_DTYPE = np.dtype([(f, "<f4") for f in SKELETON_FIELDS])
# from_depth: 1 where the profile was measured in depth, 0 for the RGB mask's contour.
BACK_FIELDS = ("x", "y", "z", "fraction", "from_depth")
_BACK_DTYPE = np.dtype([(f, "<f4") for f in BACK_FIELDS])

REPORT_METRICS = "hinge: metrics"
REPORT_FAULT_PREFIX = "hinge: fault "
REP_STATUS = "hinge: rep"


class MessageError(ValueError):
    """A message does not have the documented layout."""


def skeleton_to_cloud(landmarks: np.ndarray, header: Header) -> PointCloud2:
    """Pack (33, 4) landmarks into an unorganized cloud: one point per landmark, BlazePose order."""
    points = np.zeros(NUM_LANDMARKS, dtype=_POINT_DTYPE)
    for i, name in enumerate(SKELETON_FIELDS):
        points[name] = landmarks[:, i]
    msg = PointCloud2()
    msg.header = header
    msg.height = 1
    msg.width = NUM_LANDMARKS
    msg.fields = [
        PointField(name=name, offset=4 * i, datatype=PointField.FLOAT32, count=1)
        for i, name in enumerate(SKELETON_FIELDS)
    ]
    msg.is_bigendian = False
    msg.point_step = _POINT_DTYPE.itemsize
    msg.row_step = msg.point_step * NUM_LANDMARKS
    msg.is_dense = bool(np.isfinite(landmarks[:, :3]).all())
    msg.data = points.tobytes()
    return msg


def _check_field_layout(msg: PointCloud2, dtype: np.dtype, what: str) -> None:
    """Each field of ``dtype`` a little-endian FLOAT32 at its offset there: the names alone
    do not say where the bytes are, and a cloud laid out otherwise would decode as garbage."""
    if msg.is_bigendian:
        raise MessageError(f"{what} must be little-endian (is_bigendian false)")
    for field in msg.fields:
        if field.name not in dtype.names:
            continue
        offset = dtype.fields[field.name][1]
        if field.offset != offset or field.datatype != PointField.FLOAT32:
            raise MessageError(
                f"{what} field {field.name!r} must be FLOAT32 ({PointField.FLOAT32}) at offset {offset}, "
                f"got datatype {field.datatype} at offset {field.offset}"
            )


def cloud_to_skeleton(msg: PointCloud2) -> np.ndarray:
    names = [f.name for f in msg.fields]
    if names[:4] != list(SKELETON_FIELDS) or msg.width * msg.height != NUM_LANDMARKS:
        raise MessageError(
            f"skeleton cloud must have fields {SKELETON_FIELDS} and {NUM_LANDMARKS} points, "
            f"got {names} x {msg.width * msg.height}"
        )
    if msg.point_step != _POINT_DTYPE.itemsize or len(msg.data) != NUM_LANDMARKS * msg.point_step:
        raise MessageError("skeleton cloud has an unexpected point layout")
    _check_field_layout(msg, _POINT_DTYPE, "skeleton cloud")
    points = np.frombuffer(bytes(msg.data), dtype=_POINT_DTYPE)
    return np.stack([points[f].astype(float) for f in SKELETON_FIELDS], axis=1)


def back_profile_to_cloud(back: BackProfile, header: Header) -> PointCloud2:
    """The dorsal edge as a cloud: one point per station, x, y, z (NaN when not found), its
    position along the back (0 hips, 1 shoulders, up to 2 at the ear) and whether it was
    measured in depth (1) or is the RGB mask's contour (0)."""
    points = np.zeros(len(back.points), dtype=_BACK_DTYPE)
    xyz = np.where(back.valid[:, None], back.points, np.nan)
    for i, name in enumerate(("x", "y", "z")):
        points[name] = xyz[:, i]
    points["fraction"] = back.fractions
    points["from_depth"] = float(back.from_depth)
    msg = PointCloud2(header=header, height=1, width=len(points), is_bigendian=False, is_dense=False)
    msg.fields = [
        PointField(name=name, offset=4 * i, datatype=PointField.FLOAT32, count=1)
        for i, name in enumerate(BACK_FIELDS)
    ]
    msg.point_step = _BACK_DTYPE.itemsize
    msg.row_step = msg.point_step * len(points)
    msg.data = points.tobytes()
    return msg


def cloud_to_back_profile(msg: PointCloud2) -> BackProfile:
    if [f.name for f in msg.fields] != list(BACK_FIELDS) or msg.point_step != _BACK_DTYPE.itemsize:
        raise MessageError(f"back profile cloud must have fields {BACK_FIELDS}")
    if len(msg.data) != msg.width * msg.height * msg.point_step:
        raise MessageError("back profile cloud has an unexpected size")
    _check_field_layout(msg, _BACK_DTYPE, "back profile cloud")
    points = np.frombuffer(bytes(msg.data), dtype=_BACK_DTYPE)
    xyz = np.stack([points[f].astype(float) for f in ("x", "y", "z")], axis=1)
    from_depth = bool(len(points) == 0 or points["from_depth"][0] > 0.5)
    return BackProfile(xyz, np.isfinite(xyz).all(axis=1), points["fraction"].astype(float), from_depth)


def colored_cloud(points: np.ndarray, rgb: np.ndarray, header: Header) -> PointCloud2:
    """An organized (H, W) cloud with x, y, z float32 and rgb packed in a float32, as RViz reads it."""
    h, w = points.shape[:2]
    data = np.zeros((h, w), dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("rgb", "<u4")])
    data["x"], data["y"], data["z"] = points[..., 0], points[..., 1], points[..., 2]
    c = rgb.astype(np.uint32)
    data["rgb"] = (c[..., 0] << 16) | (c[..., 1] << 8) | c[..., 2]
    msg = PointCloud2(header=header, height=h, width=w, is_bigendian=False, is_dense=False)
    msg.fields = [
        PointField(name="x", offset=0, datatype=PointField.FLOAT32, count=1),
        PointField(name="y", offset=4, datatype=PointField.FLOAT32, count=1),
        PointField(name="z", offset=8, datatype=PointField.FLOAT32, count=1),
        PointField(name="rgb", offset=12, datatype=PointField.FLOAT32, count=1),
    ]
    msg.point_step = 16
    msg.row_step = 16 * w
    msg.data = data.tobytes()
    return msg


def _kv(key: str, value: float | int | str | bool) -> KeyValue:
    if isinstance(value, float):
        text = "nan" if not math.isfinite(value) else f"{value:.3f}"
    else:
        text = str(value).lower() if isinstance(value, bool) else str(value)
    return KeyValue(key=key, value=text)


def report_to_msg(report: FrameReport, header: Header, cue_for_fault: dict[str, str]) -> DiagnosticArray:
    """One status with the metrics, then one per fault check (level WARN when raised)."""
    a = report.angles
    values = [
        _kv("person", report.person),
        _kv("phase", report.phase),
        _kv("rep_count", report.rep_count),
        _kv("trunk_inclination_deg", a.trunk_inclination_deg if a else math.nan),
        _kv("hip_flexion_deg", a.hip_flexion_deg if a else math.nan),
        _kv("knee_flexion_deg", a.knee_flexion_deg if a else math.nan),
        _kv("shin_angle_deg", a.shin_angle_deg if a else math.nan),
        _kv("head_neck_deg", a.head_neck_deg if a else math.nan),
        _kv("com_offset_mm", a.com_offset_mm if a else math.nan),
        _kv("hip_height_m", a.hip_height_m if a else math.nan),
        _kv("shoulder_height_m", a.shoulder_height_m if a else math.nan),
        _kv("dowel_head_gap_m", report.dowel.head_gap_m),
        _kv("dowel_mid_back_gap_m", report.dowel.mid_back_gap_m),
        _kv("dowel_tailbone_gap_m", report.dowel.tailbone_gap_m),
        _kv("dowel_lumbar_gap_m", report.dowel.lumbar_gap_m),
        _kv("lumbar_hollow_m", report.dowel.lumbar_hollow_m),
        _kv("spine_bend_deg", report.dowel.spine_bend_deg),
        _kv("view_from_side_deg", report.view_from_side_deg),
    ]
    statuses = [
        DiagnosticStatus(
            level=DiagnosticStatus.OK,
            name=REPORT_METRICS,
            message=report.phase,
            hardware_id="",
            values=values,
        )
    ]
    for fault_id, s in report.faults.items():
        statuses.append(
            DiagnosticStatus(
                level=DiagnosticStatus.WARN if s.active else DiagnosticStatus.OK,
                name=REPORT_FAULT_PREFIX + fault_id,
                message=cue_for_fault[fault_id] if s.active else ("ok" if s.measurable else "not measurable"),
                values=[
                    _kv("active", s.active),
                    _kv("measurable", s.measurable),
                    _kv("value", s.value),
                    _kv("severity", s.severity),
                ],
            )
        )
    return DiagnosticArray(header=header, status=statuses)


PLACEMENT_STATUS = "alignment_node: camera view"


def placement_to_status(placement: Placement) -> DiagnosticStatus:
    """The camera view's diagnostic, for the installer: WARN when the legs are hidden."""
    return DiagnosticStatus(
        level=DiagnosticStatus.WARN if placement.level == "warn" else DiagnosticStatus.OK,
        name=PLACEMENT_STATUS,
        message=placement.message,
        hardware_id="",
        values=[
            _kv("view_from_side_deg", placement.view_from_side_deg),
            _kv("legs_seen_fraction", placement.legs_seen_fraction),
        ],
    )


def rep_to_msg(rep: RepSummary, header: Header) -> DiagnosticArray:
    values = [
        _kv("index", rep.index),
        _kv("start_s", rep.start_s),
        _kv("end_s", rep.end_s),
        _kv("duration_s", rep.duration_s),
        _kv("peak_hip_flexion_deg", rep.peak_hip_flexion_deg),
        _kv("peak_trunk_inclination_deg", rep.peak_trunk_inclination_deg),
        _kv("peak_knee_flexion_deg", rep.peak_knee_flexion_deg),
        _kv("score", rep.score),
    ]
    values += [_kv(f"fault.{f}", s) for f, s in sorted(rep.faults.items())]
    values.append(_kv("not_measurable", ",".join(rep.not_measurable)))  # ids, comma-separated
    values += [_kv(f"penalty.{k}", v) for k, v in sorted(rep.score_breakdown.items())]
    level = DiagnosticStatus.WARN if rep.faults else DiagnosticStatus.OK
    status = DiagnosticStatus(level=level, name=REP_STATUS, message=f"rep {rep.index}", values=values)
    return DiagnosticArray(header=header, status=[status])


def _values(status: DiagnosticStatus) -> dict[str, str]:
    return {kv.key: kv.value for kv in status.values}


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def msg_to_report_view(msg: DiagnosticArray) -> ReportView:
    by_name = {s.name: s for s in msg.status}
    if REPORT_METRICS not in by_name:
        raise MessageError(f"report has no '{REPORT_METRICS}' status")
    m = _values(by_name[REPORT_METRICS])
    cues = {
        s.name[len(REPORT_FAULT_PREFIX) :]: s.message
        for s in msg.status
        if s.name.startswith(REPORT_FAULT_PREFIX) and s.level >= DiagnosticStatus.WARN
    }
    return ReportView(
        person=m.get("person") == "true",
        phase=m.get("phase", "no_person"),
        rep_count=int(m.get("rep_count", "0")),
        hip_flexion_deg=_float(m.get("hip_flexion_deg", "nan")),
        active_cues=cues,
        dowel_gaps_m=tuple(
            _float(m.get(f"dowel_{k}_gap_m", "nan")) for k in ("head", "mid_back", "tailbone")
        ),
    )


def msg_to_rep_view(msg: DiagnosticArray) -> RepView:
    if not msg.status or msg.status[0].name != REP_STATUS:
        raise MessageError(f"rep summary must hold one '{REP_STATUS}' status")
    v = _values(msg.status[0])
    return RepView(
        index=int(v["index"]),
        score=_float(v["score"]),
        peak_hip_flexion_deg=_float(v["peak_hip_flexion_deg"]),
        peak_trunk_inclination_deg=_float(v["peak_trunk_inclination_deg"]),
        peak_knee_flexion_deg=_float(v["peak_knee_flexion_deg"]),
        duration_s=_float(v["duration_s"]),
        faults={k[len("fault.") :]: _float(x) for k, x in v.items() if k.startswith("fault.")},
        not_measurable=tuple(i for i in v.get("not_measurable", "").split(",") if i),
    )
