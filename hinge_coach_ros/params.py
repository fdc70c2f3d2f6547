"""The one parameter schema of every node: name, type, default, range, meaning.

The nodes declare their parameters from here (with ROS descriptors), the
in-process runner and ``config/coach.yaml`` are checked against it, and the
README table is generated from it. Nothing else lists parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .athlete import PRESETS
from .geometry import unit_vector

Value = bool | int | float | str | list[float]


class ParameterError(ValueError):
    """A parameter value is unknown, of the wrong type or out of range."""


@dataclass(frozen=True)
class Param:
    name: str
    default: Value
    description: str
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None
    length: int | None = None  # for list parameters

    @property
    def type_name(self) -> str:
        if isinstance(self.default, bool):
            return "bool"
        if isinstance(self.default, int):
            return "int"
        if isinstance(self.default, float):
            return "double"
        if isinstance(self.default, list):
            return "double[]"
        return "string"

    def allowed(self) -> str:
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.min is not None and self.max is not None:
            if self.length:
                return f"{self.length} numbers in [{self.min:g}, {self.max:g}]"
            return f"{self.type_name} in [{self.min:g}, {self.max:g}]"
        return self.type_name

    def check(self, node: str, value: Any) -> Value:
        """Return the value converted to this parameter's type, or raise ParameterError."""
        where = f"{node}.{self.name}"
        wrong = ParameterError(f"{where} = {value!r} is invalid: expected {self.allowed()}")
        kind = self.type_name
        if kind == "bool":
            if not isinstance(value, bool):
                raise wrong
            return value
        if kind in ("int", "double"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise wrong
            if kind == "int" and not float(value).is_integer():
                raise wrong
            number: int | float = int(value) if kind == "int" else float(value)
            if not math.isfinite(number):  # NaN passes any range check
                raise wrong
            if (self.min is not None and number < self.min) or (self.max is not None and number > self.max):
                raise wrong
            return number
        if kind == "double[]":
            if not isinstance(value, list | tuple) or (self.length and len(value) != self.length):
                raise wrong
            if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
                raise wrong
            items = [float(v) for v in value]
            lo = self.min if self.min is not None else -float("inf")
            hi = self.max if self.max is not None else float("inf")
            if not all(lo <= v <= hi for v in items):
                raise wrong
            return items
        if not isinstance(value, str) or (self.choices and value not in self.choices):
            raise wrong
        return value


CAMERA_NODE: tuple[Param, ...] = (
    Param(
        "source",
        "session",
        "Where frames come from: 'session' plays a skeleton CSV (the embedded demo session when "
        "session_file is empty); 'synthetic' runs the synthetic athlete live (see synthetic_render); "
        "'realsense' a live camera; 'recording' a RealSense recording (recording_file); "
        "'video' a video file or webcam (video_file); 'topics' the images of a running "
        "realsense-ros driver.",
        choices=("session", "synthetic", "realsense", "recording", "video", "topics"),
    ),
    Param("session_file", "", "Skeleton CSV for source 'session'; empty means the embedded demo session."),
    Param("synthetic_preset", "dowel", "Exercise of the synthetic athlete.", choices=tuple(PRESETS)),
    Param("synthetic_reps", 5, "Reps of the synthetic athlete.", min=1, max=100),
    Param(
        "synthetic_render",
        "skeleton",
        "'skeleton': the synthetic athlete's landmarks go straight out (no pose model); 'rgbd': the "
        "athlete is rendered to colour and aligned depth and goes through BlazePose and depth lifting "
        "like a live camera.",
        choices=("skeleton", "rgbd"),
    ),
    Param(
        "synthetic_view",
        "side",
        "Camera placement of the rendered synthetic athlete: side-on or 45 degrees oblique, 3 m away.",
        choices=("side", "oblique45"),
    ),
    Param(
        "synthetic_faults",
        "",
        "Faults of the synthetic athlete as REP:FAULT:MAGNITUDE, space separated, for example "
        "'2:rounded_back:20 3:squat:45'; empty: every rep clean.",
    ),
    Param("loop", False, "Start the session again when it ends (a demo station left running)."),
    Param(
        "start_delay_s",
        1.0,
        "Wait before the first frame so subscribers have connected (DDS discovery).",
        min=0.0,
        max=30.0,
    ),
    Param("serial", "", "RealSense serial number for source 'realsense'; empty: the first camera found."),
    Param("recording_file", "", "RealSense recording (.db3, or .bag where pyrealsense2 reads it)."),
    Param("video_file", "", "Video file, or a webcam index such as '0', for source 'video'."),
    Param(
        "video_rotation",
        "auto",
        "Clockwise turn of the video's frames: 'auto' follows the file's rotation metadata (a "
        "phone's portrait clip comes out upright); a number of degrees overrides it.",
        choices=("auto", "0", "90", "180", "270"),
    ),
    Param("width_px", 640, "RealSense color and depth width.", min=320, max=1920),
    Param("height_px", 480, "RealSense color and depth height.", min=240, max=1080),
    Param("fps", 30, "RealSense frame rate.", min=6, max=90),
    Param(
        "align_depth",
        True,
        "Align depth to color with rs.align (turn off for recordings whose depth is already in the "
        "color geometry, such as the synthetic athlete's).",
    ),
    Param(
        "zone_px",
        [0.0, 0.0, 0.0, 0.0],
        "Station zone in the color image, x0, y0, x1, y1 in pixels; the person in it is coached. "
        "All zeros: the whole image.",
        min=0.0,
        max=4000.0,
        length=4,
    ),
    Param("min_pose_confidence", 0.5, "BlazePose detection and tracking confidence.", min=0.1, max=0.95),
    Param(
        "lift_window_px",
        4,
        "Depth window radius for lifting a landmark (median of the person's pixels, holes skipped).",
        min=0,
        max=10,
    ),
    Param(
        "filter_min_cutoff_hz",
        1.5,
        "One-euro filter: cut-off when still (lower: smoother).",
        min=0.1,
        max=30.0,
    ),
    Param(
        "filter_beta",
        5.0,
        "One-euro filter: speed coefficient, per m/s of landmark speed (higher: less lag when "
        "moving). 5 keeps a hinge's lag near 2 frames; 0.5 lagged 4 frames.",
        min=0.0,
        max=50.0,
    ),
    Param(
        "filter_lead",
        0.7,
        "One-euro filter: share of its own lag taken back by leading along the landmarks' speed "
        "(0: plain one-euro). 0.7 cut a hinge's lag from 52 to 21 ms; 1 overshoots the turn at the bottom.",
        min=0.0,
        max=1.0,
    ),
    Param(
        "images_rate_hz",
        5.0,
        "Rate of the republished color, aligned depth and camera_info (realsense-ros names); 0: off.",
        min=0.0,
        max=30.0,
    ),
)

ALIGNMENT_NODE: tuple[Param, ...] = (
    Param(
        "exercise",
        "dowel",
        "Exercise profile: sets the fault thresholds that differ between the dowel drill, a box "
        "lift and a deadlift (see the fault table).",
        choices=tuple(PRESETS),
    ),
    Param(
        "patient_profile",
        "",
        "YAML file of per-patient threshold overrides (see the README); empty: the exercise profile.",
    ),
    Param(
        "up_source",
        "floor",
        "Gravity direction: 'floor' is the floor plane fitted in the depth image (RANSAC), with "
        "'feet' as fallback without depth; 'feet' estimates the floor from heel and toe landmarks "
        "while the person stands; 'fixed' uses up_vector.",
        choices=("floor", "feet", "fixed"),
    ),
    Param(
        "up_vector",
        [0.0, -1.0, 0.0],
        "Gravity-up vector in the skeleton frame (camera optical frame: y points down).",
        min=-1.0,
        max=1.0,
        length=3,
    ),
    Param(
        "descent_start_delta_deg",
        15.0,
        "A rep's descent starts when hip flexion rises this far above the standing posture.",
        min=5.0,
        max=60.0,
    ),
    Param(
        "lockout_hip_flexion_deg",
        12.0,
        "Hip flexion below which the person stands tall again and the rep ends; the first rep "
        "after the person appears starts only once they stood below it (raise it for a patient who "
        "cannot stand this tall).",
        min=0.0,
        max=45.0,
    ),
    Param(
        "min_rep_hip_flexion_deg",
        40.0,
        "Peak hip flexion a rep must reach to count; shallower dips are partial reps.",
        min=10.0,
        max=130.0,
    ),
    Param(
        "bottom_speed_dps",
        25.0,
        "Hip flexion speed below which a rep at the usual pace has stopped (its bottom, or the top "
        "of an incomplete lockout). A slower rep has stopped below 30% of its own speed (the 75th "
        "percentile of its hip speeds so far in that direction; at least 5 deg/s), so slow-tempo "
        "work needs no change here: the synthetic athlete's reps at a quarter of its pace (5 s "
        "ascents) read clean.",
        min=1.0,
        max=200.0,
    ),
    Param(
        "person_timeout_s",
        1.0,
        "Without a usable skeleton for this long the person has left: the current rep is dropped.",
        min=0.1,
        max=10.0,
    ),
)


@dataclass(frozen=True)
class Threshold(Param):
    """A fault threshold: a parameter with the source of its default."""

    source: str = ""


# Fault thresholds: the defaults are the dowel drill's; EXERCISE_PROFILES
# changes some for other exercises, and a patient profile file can change any.
THRESHOLDS: tuple[Threshold, ...] = (
    Threshold(
        "squat_knee_flexion_deg",
        45.0,
        "Squat: knee flexion above which the knees, not the hips, do the work.",
        min=20.0,
        max=120.0,
        source="a hinge keeps soft knees, about 15-30 deg (Romanian deadlift technique); "
        "the article: hips back",
    ),
    Threshold(
        "squat_knee_hip_ratio",
        0.6,
        "Squat: knee flexion / hip flexion above which the movement is a squat.",
        min=0.2,
        max=2.0,
        source="a hinge is about 0.2-0.4, a squat about 0.9-1.2 (knee and hip flex together)",
    ),
    Threshold(
        "head_up_deg",
        8.0,
        "Head up: the ear-shoulder line tilted back (extension) against the trunk, relative to "
        "the person's standing posture.",
        min=3.0,
        max=60.0,
        source="the article: head, mid back and tailbone stay on one line; a neutral neck drifts "
        "toward flexion as the trunk inclines, never back",
    ),
    Threshold(
        "head_down_deg",
        12.0,
        "Head down: the ear-shoulder line dropped (flexion) against the trunk, relative to the "
        "person's standing posture.",
        min=5.0,
        max=60.0,
        source="the article: head, mid back and tailbone stay on one line; relative to standing, a "
        "neutral neck stays within about 4 deg through a hinge",
    ),
    Threshold(
        "toes_com_offset_mm",
        45.0,
        "Toes: centre of mass ahead of mid-foot by more than this.",
        min=10.0,
        max=150.0,
        source="the article: weight spread over big toe, little toe and heel; about 1/6 of a foot length",
    ),
    Threshold(
        "heels_com_offset_mm",
        45.0,
        "Heels: centre of mass behind mid-foot by more than this.",
        min=10.0,
        max=150.0,
        source="the article: weight spread over big toe, little toe and heel; about 1/6 of a foot length",
    ),
    Threshold(
        "incomplete_lockout_hip_flexion_deg",
        10.0,
        "Incomplete lockout: hip flexion left at the top of the rep.",
        min=2.0,
        max=45.0,
        source="the article: finish with the glutes (full hip extension, 0 deg)",
    ),
    Threshold(
        "no_brace_lumbar_hollow_mm",
        55.0,
        "Not braced: the low back's hollow under a dowel laid from the sacrum along the back "
        "(head left out) deeper than this, from the start of the descent through the bottom: "
        "an anterior pelvic tilt arches the low back. Judged with depth, side-on.",
        min=20.0,
        max=120.0,
        source="the article: ribs down, tailbone slightly tucked, very little space at the low "
        "back; a neutral low back's hollow is about a flat hand's thickness (39 mm on the "
        "athlete model) and deepens by about 1.1 mm per degree of anterior tilt, so 50 mm is "
        "10 deg (box lift, deadlift); in the dowel drill the pipe and the hands on the back "
        "read 5-10 mm deeper (clean reps up to 50 mm on rendered depth)",
    ),
    Threshold(
        "rounded_back_flexion_deg",
        12.0,
        "Rounded back: the upper back's line (thoracic, from the back-surface profile) bent "
        "forward against the lower back's by more than this beyond the person's standing "
        "posture. Judged with depth, side-on.",
        min=5.0,
        max=45.0,
        source="the article: a neutral spine that moves as one; on the depth profile a clean "
        "hinge stays within about 7 deg of standing, a 15-25 deg rounded back reaches 23-35 deg",
    ),
    Threshold(
        "banana_back_lean_deg",
        5.0,
        "Banana back: trunk (the near side's hip-to-shoulder line) leaning back at lockout, "
        "against the person's standing posture, by more than this.",
        min=1.0,
        max=30.0,
        source="the article: no banana backs; lockout is hip extension, not lumbar extension",
    ),
    Threshold(
        "fast_descent_time_s",
        0.32,
        "Fast descent: hip flexion went from a fifth to four fifths of the rep's depth in less than this.",
        min=0.05,
        max=2.0,
        source="the article: slow and controlled; a controlled 1.5-2 s descent takes 0.5-0.7 s "
        "from a fifth to four fifths of its depth on a smooth (minimum-jerk) path; 0.32 s is a "
        "whole descent of about 0.9 s",
    ),
    Threshold(
        "hips_rise_first_lead_mm",
        25.0,
        "Hips rise first: how much more the hips than the shoulders have risen since the hips' "
        "lowest point at the bottom (pulls from the floor).",
        min=5.0,
        max=300.0,
        source="Rippetoe, Starting Strength (3rd ed., ch. 4): off the floor the back angle holds, then "
        "rises; knees opening first tip the back more horizontal. A correct pull stays near 0 mm; "
        "25 mm is about 3.5 deg of extra trunk tip at a 60 deg back angle",
    ),
    Threshold(
        "hips_high_knee_flexion_deg",
        18.0,
        "Hips high: knee flexion at the deepest point of a pull from the floor below this.",
        min=0.0,
        max=60.0,
        source="a box lift or deadlift bends the knees about 30-45 deg at the bottom; a stiff-legged "
        "pull with the trunk near horizontal loads the back",
    ),
    Threshold(
        "fault_min_duration_s",
        0.2,
        "A fault must hold this long before it is raised.",
        min=0.0,
        max=2.0,
        source="about 6 frames at 30 fps: longer than landmark jitter, shorter than a phase",
    ),
)

EXERCISE_PROFILES: dict[str, dict[str, float]] = {
    "dowel": {},
    # A box lift and a deadlift bend the knees more than the dowel drill. Without the pipe
    # and the hands on the back, depth reads the low back's hollow as it is (see
    # no_brace_lumbar_hollow_mm).
    "box_lift": {
        "squat_knee_flexion_deg": 55.0,
        "squat_knee_hip_ratio": 0.65,
        "no_brace_lumbar_hollow_mm": 50.0,
    },
    "deadlift": {
        "squat_knee_flexion_deg": 60.0,
        "squat_knee_hip_ratio": 0.7,
        "no_brace_lumbar_hollow_mm": 50.0,
    },
    "kettlebell": {
        "squat_knee_flexion_deg": 55.0,
        "squat_knee_hip_ratio": 0.65,
        "no_brace_lumbar_hollow_mm": 50.0,
    },
}


def thresholds_for(exercise: str, patient: dict[str, float] | None = None) -> dict[str, float]:
    """Effective thresholds: defaults, then the exercise profile, then the patient's overrides
    (``patient_thresholds``)."""
    values = {t.name: float(t.default) for t in THRESHOLDS}
    values.update(EXERCISE_PROFILES[exercise])
    values.update(patient or {})
    return values


def patient_thresholds(patient_profile: str) -> dict[str, float]:
    """The threshold overrides of a ``patient_profile`` parameter: its file's, none when it is empty."""
    return load_patient_profile(Path(patient_profile)) if patient_profile else {}


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping: PyYAML keeps the last
    silently, and a clinician's second ``head_up_deg`` line would undo the first unseen."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        own_keys = [key for key, _ in node.value if key.tag != "tag:yaml.org,2002:merge"]
        mapping = super().construct_mapping(node, deep=deep)  # refuses unhashable keys
        seen: set[Any] = set()
        for key_node in own_keys:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        return mapping


def _load_yaml_mapping(path: Path, what: str, mapping_of: str, hint: str) -> dict[Any, Any]:
    """A YAML file's top-level mapping (an empty file: none); ParameterError naming the file."""
    if not path.is_file():
        raise ParameterError(f"{what} {path} not found: {hint}")
    try:
        # From bytes: YAML reads them as UTF-8 (or UTF-16 with a BOM) and reports any other
        # encoding as a YAML error.
        data = yaml.load(path.read_bytes(), Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        raise ParameterError(f"{what} {path} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParameterError(f"{what} {path} must be a mapping of {mapping_of}")
    return data


def load_patient_profile(path: Path) -> dict[str, float]:
    """A clinician's YAML of threshold overrides (``name: value``); every key and value checked."""
    data = _load_yaml_mapping(path, "patient profile", "threshold: value", "pass an existing YAML file")
    known = {t.name: t for t in THRESHOLDS}
    out = {}
    for key, value in data.items():
        if key not in known:
            raise ParameterError(
                f"patient profile {path}: unknown threshold {key!r}; known: {', '.join(known)}"
            )
        out[key] = float(known[key].check("patient_profile", value))
    return out


FEEDBACK_NODE: tuple[Param, ...] = (
    Param(
        "led_backend",
        "sim",
        "LED strip driver: 'sim' (simulated strip), 'serial' (microcontroller strip, "
        "docs/led_serial_protocol.md) or 'wled' (WLED controller, JSON API).",
        choices=("sim", "serial", "wled"),
    ),
    Param("led_port", "/dev/ttyACM0", "Serial device of the LED strip's controller (led_backend serial)."),
    Param("led_baud", 115200, "Baud rate of the LED strip's serial line.", min=9600, max=4000000),
    Param("led_address", "", "WLED controller address, host or http://host:port (led_backend wled)."),
    Param(
        "led_brightness",
        0.6,
        "Strip brightness, 0-1: bright enough to read in a lit room, not glaring at close range.",
        min=0.05,
        max=1.0,
    ),
    Param(
        "pan_tilt_backend",
        "sim",
        "Pan-tilt mount driver: 'sim' (simulated mount) or 'dynamixel' (two X-series servos, Protocol 2.0).",
        choices=("sim", "dynamixel"),
    ),
    Param("pan_tilt_port", "/dev/ttyUSB0", "Serial device of the Dynamixel bus (U2D2 or similar)."),
    Param(
        "pan_tilt_baud",
        57600,
        "Dynamixel bus baud rate (the servos' factory setting is 57600).",
        min=9600,
        max=4500000,
    ),
    Param("pan_servo_id", 1, "Dynamixel ID of the pan servo.", min=0, max=252),
    Param("tilt_servo_id", 2, "Dynamixel ID of the tilt servo.", min=0, max=252),
    Param(
        "pan_servo_zero_deg",
        0.0,
        "Servo angle (0: the centre tick, 2048) with the pan joint at 0 (facing straight ahead): "
        "the horn's mounting offset.",
        min=-180.0,
        max=180.0,
    ),
    Param(
        "pan_servo_reversed",
        False,
        "The pan servo turns the other way from the joint (joint pan is positive to the camera's right).",
    ),
    Param(
        "tilt_servo_zero_deg",
        0.0,
        "Servo angle (0: the centre tick, 2048) with the tilt joint at 0 (level): "
        "the horn's mounting offset.",
        min=-180.0,
        max=180.0,
    ),
    Param(
        "tilt_servo_reversed",
        False,
        "The tilt servo turns the other way from the joint (joint tilt is positive upward).",
    ),
    Param(
        "display_backend",
        "sim",
        "Coaching screen: 'sim' publishes the rendered image only; 'window' also shows it full screen.",
        choices=("sim", "window"),
    ),
    Param("language", "en", "Cue language: a language of the cue file (shipped: 'en', 'de', 'es')."),
    Param("cue_file", "", "Cue words YAML (a copy of config/cues.yaml); empty means the shipped file."),
    Param(
        "cue_cooldown_s",
        2.0,
        "After a cue ends, a different corrective cue waits this long (back-safety cues never wait).",
        min=0.0,
        max=30.0,
    ),
    Param(
        "escalate_after_reps",
        2,
        "A fault in this many reps in a row gets the more explicit wording and a blinking LED.",
        min=1,
        max=20,
    ),
    Param("praise_streak_reps", 3, "Clean reps in a row that earn the streak praise.", min=1, max=50),
    Param("speech", False, "Speak the cues with espeak-ng (off, with a diagnostic, when not installed)."),
    Param("speech_command", "espeak-ng", "Speech program (espeak-ng command-line compatible)."),
    Param(
        "speech_min_interval_s",
        4.0,
        "Shortest time between two spoken cues; never two at once.",
        min=1.0,
        max=60.0,
    ),
    Param("speech_words_per_minute", 150, "Speaking rate.", min=80, max=300),
    Param("log_dir", "", "Folder for the session logs (one JSONL file per session); empty: no log."),
    Param(
        "record_mcap",
        False,
        "With log_dir set, also record the skeleton, report and rep topics to an MCAP file beside the "
        "JSONL log (no images).",
    ),
    Param("exercise", "hip_hinge", "Exercise name written to the session log."),
    Param(
        "driver_retry_s",
        2.0,
        "After a device error, wait this long before reconnecting (the LED shows system fault meanwhile).",
        min=0.5,
        max=60.0,
    ),
    Param("good_rep_hold_s", 1.5, "How long the LED shows a finished rep's result.", min=0.2, max=10.0),
    Param(
        "cue_min_dwell_s",
        1.0,
        "A cue stays at least this long, so the LED never flickers.",
        min=0.0,
        max=10.0,
    ),
    Param("pan_min_deg", -90.0, "Pan joint lower limit.", min=-180.0, max=0.0),
    Param("pan_max_deg", 90.0, "Pan joint upper limit.", min=0.0, max=180.0),
    Param("tilt_min_deg", -30.0, "Tilt joint lower limit.", min=-90.0, max=0.0),
    Param("tilt_max_deg", 30.0, "Tilt joint upper limit.", min=0.0, max=90.0),
    Param("home_pan_deg", 0.0, "Pan home position (inside the limits).", min=-180.0, max=180.0),
    Param("home_tilt_deg", 0.0, "Tilt home position (inside the limits).", min=-90.0, max=90.0),
    Param("max_speed_dps", 60.0, "Pan-tilt speed cap.", min=1.0, max=360.0),
    Param(
        "max_accel_dps2",
        120.0,
        "Pan-tilt acceleration cap: the display starts and stops smoothly.",
        min=1.0,
        max=5000.0,
    ),
    Param("dead_band_deg", 2.0, "Target changes smaller than this do not move the mount.", min=0.0, max=20.0),
    Param(
        "mount_position_m",
        [0.0, 0.3, 0.0],
        "Pan-tilt pivot position in the camera optical frame (x right, y down, z forward), metres.",
        min=-5.0,
        max=5.0,
        length=3,
    ),
    Param(
        "mount_yaw_deg",
        0.0,
        "Mount's zero-pan direction relative to the camera's view axis.",
        min=-180.0,
        max=180.0,
    ),
    Param(
        "stale_timeout_s",
        0.5,
        "Without a skeleton for this long the mount goes home, then turns its torque off.",
        min=0.1,
        max=10.0,
    ),
    Param("control_rate_hz", 20.0, "Pan-tilt control and LED update rate.", min=1.0, max=100.0),
    Param("display_rate_hz", 5.0, "Coaching screen render rate.", min=0.5, max=30.0),
    Param("display_width_px", 640, "Coaching screen width.", min=160, max=3840),
    Param("display_height_px", 360, "Coaching screen height.", min=120, max=2160),
)

SCHEMA: dict[str, tuple[Param, ...]] = {
    "camera_node": CAMERA_NODE,
    "alignment_node": ALIGNMENT_NODE,
    "feedback_node": FEEDBACK_NODE,
}


# The parameters each node applies while running (``ros2 param set``); None: all of them. Every
# other one is read at start-up (it picks or opens the camera source, a device, a file or a
# process, builds the pose pipeline or sets up the log) and is declared read-only, so a change
# is refused rather than accepted and never applied: it takes effect on restart. The feedback
# node's led_brightness is one of those: the LED drivers skip a state they have shown, so a new
# brightness would only appear at the next colour change.
LIVE_PARAMS: dict[str, frozenset[str] | None] = {
    "camera_node": frozenset({"images_rate_hz"}),
    "alignment_node": None,
    "feedback_node": frozenset(
        {
            "pan_min_deg",
            "pan_max_deg",
            "tilt_min_deg",
            "tilt_max_deg",
            "home_pan_deg",
            "home_tilt_deg",
            "max_speed_dps",
            "dead_band_deg",
            "max_accel_dps2",
            "pan_servo_zero_deg",
            "pan_servo_reversed",
            "tilt_servo_zero_deg",
            "tilt_servo_reversed",
            "cue_min_dwell_s",
            "good_rep_hold_s",
            "cue_cooldown_s",
            "escalate_after_reps",
            "praise_streak_reps",
            "language",
            "cue_file",
            "control_rate_hz",
            "display_rate_hz",
            "mount_position_m",
            "mount_yaw_deg",
            "stale_timeout_s",
            "display_width_px",
            "display_height_px",
        }
    ),
}


def is_live(node: str, name: str) -> bool:
    """Whether ``node`` applies a change of ``name`` while running (LIVE_PARAMS)."""
    live = LIVE_PARAMS[node]
    return live is None or name in live


def spec(node: str, name: str) -> Param:
    for p in SCHEMA[node]:
        if p.name == name:
            return p
    raise ParameterError(
        f"{node} has no parameter {name!r}; known: {', '.join(p.name for p in SCHEMA[node])}"
    )


def defaults(node: str) -> dict[str, Value]:
    return {p.name: p.default for p in SCHEMA[node]}


def validate(node: str, values: dict[str, Any], current: dict[str, Value] | None = None) -> dict[str, Value]:
    """Check a set of values for one node; returns them converted to their types.

    ``current``: the node's values now (checked when they were set), for a change at run time:
    ``values`` are checked with them. The patient profile's file is read only when it is among
    ``values``: one removed since it was set must not refuse every other change.
    """
    checked = {name: spec(node, name).check(node, value) for name, value in values.items()}
    merged = {**defaults(node), **(current or {}), **checked}
    _check_relations(node, merged)
    if node == "alignment_node" and "patient_profile" in checked:
        patient_thresholds(str(checked["patient_profile"]))
    return checked


def up_direction(up_vector: Value) -> np.ndarray:
    """The ``up_vector`` parameter as a unit vector; ParameterError for one without a direction."""
    up = unit_vector(up_vector)
    if up is None:
        raise ParameterError(
            f"alignment_node.up_vector = {up_vector!r} is invalid: expected a direction (not zero)"
        )
    return up


def _check_relations(node: str, v: dict[str, Value]) -> None:
    """Rules between parameters that a per-parameter range cannot express."""
    if node == "alignment_node":
        if not v["lockout_hip_flexion_deg"] < v["min_rep_hip_flexion_deg"]:
            raise ParameterError("alignment_node: need lockout_hip_flexion_deg < min_rep_hip_flexion_deg")
        up_direction(v["up_vector"])
    if node == "feedback_node":
        if not v["pan_min_deg"] <= v["home_pan_deg"] <= v["pan_max_deg"]:
            raise ParameterError("feedback_node.home_pan_deg must lie within [pan_min_deg, pan_max_deg]")
        if not v["tilt_min_deg"] <= v["home_tilt_deg"] <= v["tilt_max_deg"]:
            raise ParameterError("feedback_node.home_tilt_deg must lie within [tilt_min_deg, tilt_max_deg]")
        if v["pan_tilt_backend"] == "dynamixel" and v["pan_servo_id"] == v["tilt_servo_id"]:
            raise ParameterError("feedback_node: pan_servo_id and tilt_servo_id must differ")
        if v["pan_tilt_backend"] == "dynamixel":
            from .drivers.dynamixel import ServoMounting, mounting_problem

            for joint in ("pan", "tilt"):
                mounting = ServoMounting(v[f"{joint}_servo_zero_deg"], v[f"{joint}_servo_reversed"])
                problem = mounting_problem(joint, mounting, v[f"{joint}_min_deg"], v[f"{joint}_max_deg"])
                if problem:
                    raise ParameterError(f"feedback_node: {problem}")
        if v["led_backend"] == "wled" and not v["led_address"]:
            raise ParameterError("feedback_node.led_address must be set for led_backend 'wled'")


def load_params_file(path: Path) -> dict[str, dict[str, Value]]:
    """Read a ROS 2 parameter file (keys ``/**/<node>`` or ``<node>``) and validate it."""
    data = _load_yaml_mapping(
        Path(path), "config file", "node: ros__parameters", "pass an existing YAML parameter file"
    )
    out: dict[str, dict[str, Value]] = {}
    for key, body in data.items():
        node = str(key).split("/")[-1]
        if node not in SCHEMA:
            raise ParameterError(f"{path}: unknown node {key!r}; known nodes: {', '.join(SCHEMA)}")
        values = (body or {}).get("ros__parameters", {}) if isinstance(body, dict) else None
        if not isinstance(values, dict):
            raise ParameterError(f"{path}: {key} must hold a 'ros__parameters' mapping")
        out[node] = validate(node, values)
    return out


def _yaml_value(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(f"{v:g}" if v != int(v) else f"{v:.1f}" for v in value) + "]"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float):
        return f"{value:.1f}" if value == int(value) else f"{value:g}"
    return str(value)


def defaults_yaml() -> str:
    """config/coach.yaml: every parameter at its default, with its meaning and range."""
    out = [
        "# hinge_coach_ros default parameters (generated by 'hinge-coach params --yaml').",
        "# Copy this file, change what your station or patient needs, and pass it as",
        "# config_file:=/path/to/file.yaml (ros2 launch) or --config-file (hinge-coach run).",
        "# Values are checked at start-up: a wrong key, type or range stops the rig with",
        "# a message naming the key and the allowed range.",
    ]
    for node, params in SCHEMA.items():
        out += ["", f"/**/{node}:", "  ros__parameters:"]
        for p in params:
            out.append(f"    # {p.description} Allowed: {p.allowed()}.")
            out.append(f"    {p.name}: {_yaml_value(p.default)}")
    return "\n".join(out) + "\n"


def markdown_table() -> str:
    """The README's parameter table."""
    rows = [
        "| node | parameter | type | default | allowed | while running | meaning |",
        "|---|---|---|---|---|---|---|",
    ]
    for node, params in SCHEMA.items():
        for p in params:
            when = "applied" if is_live(node, p.name) else "on restart"
            rows.append(
                f"| {node} | `{p.name}` | {p.type_name} | `{_yaml_value(p.default)}` | {p.allowed()} | "
                f"{when} | {p.description} |"
            )
    return "\n".join(rows) + "\n"
