"""The one definition of the node graph.

``launch/coach.launch.py`` and the in-process runner (``hinge-coach run``)
both build their nodes from ``build_graph``: same nodes, parameters and
remappings. ROS-free: it returns plain data.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

from .params import ParameterError, Value, load_params_file, spec, validate


@dataclass(frozen=True)
class GraphArgs:
    """The launch arguments, with their defaults (also the CLI's)."""

    source: str = "session"
    session_file: str = ""
    recording_file: str = ""
    video_file: str = ""
    video_rotation: str = ""  # empty keeps the config file's value (or 'auto')
    config_file: str = ""
    namespace: str = ""
    # Hardware: empty keeps the config file's value (or the parameter default, 'sim').
    led_backend: str = ""
    led_port: str = ""
    led_address: str = ""
    pan_tilt_backend: str = ""
    pan_tilt_port: str = ""
    display_backend: str = ""
    language: str = ""
    log_dir: str = ""


ARGUMENT_HELP: dict[str, str] = {
    "source": "camera source: " + ", ".join(spec("camera_node", "source").choices or ()),
    "session_file": "skeleton CSV for source 'session' (empty: the embedded demo session)",
    "recording_file": "RealSense recording (.db3) for source 'recording'",
    "video_file": "video file or webcam index for source 'video'",
    "video_rotation": "turn the video's frames: "
    + ", ".join(spec("camera_node", "video_rotation").choices or ())
    + " (empty: the config file's value, else auto: the clip's rotation metadata)",
    "config_file": "ROS 2 parameter YAML (empty: config/coach.yaml defaults)",
    "namespace": "namespace of the station's nodes and topics",
    "led_backend": "LED driver: " + ", ".join(spec("feedback_node", "led_backend").choices or ()),
    "pan_tilt_backend": "pan-tilt driver: "
    + ", ".join(spec("feedback_node", "pan_tilt_backend").choices or ()),
    "display_backend": "display driver: " + ", ".join(spec("feedback_node", "display_backend").choices or ()),
    "led_port": "serial device of the LED strip (led_backend serial), e.g. /dev/ttyACM0",
    "led_address": "WLED controller address (led_backend wled), e.g. 192.168.0.50",
    "pan_tilt_port": "serial device of the Dynamixel bus (pan_tilt_backend dynamixel), e.g. /dev/ttyUSB0",
    "language": "cue language (a language of the cue file: en, de, es shipped)",
    "log_dir": "folder for the session logs (empty: no log)",
}

# Node diagnostics go to the global topic that diagnostic aggregators read.
DIAGNOSTICS_REMAP = (("diagnostics", "/diagnostics"),)


@dataclass(frozen=True)
class NodeSpec:
    name: str  # node name, also the console script
    module: str  # module holding the node class
    class_name: str
    parameters: dict[str, Value] = field(default_factory=dict)
    remappings: tuple[tuple[str, str], ...] = ()


def build_graph(args: GraphArgs) -> list[NodeSpec]:
    """The station's nodes for these arguments; ParameterError on bad input."""
    config: dict[str, dict[str, Value]] = load_params_file(Path(args.config_file)) if args.config_file else {}
    arg_params = {
        "camera_node": {
            "source": args.source,
            "session_file": args.session_file,
            "recording_file": args.recording_file,
            "video_file": args.video_file,
            "video_rotation": args.video_rotation,
        },
        "feedback_node": {
            "led_backend": args.led_backend,
            "led_port": args.led_port,
            "led_address": args.led_address,
            "pan_tilt_backend": args.pan_tilt_backend,
            "pan_tilt_port": args.pan_tilt_port,
            "display_backend": args.display_backend,
            "language": args.language,
            "log_dir": args.log_dir,
        },
    }
    for what, path in (
        ("session file", args.session_file),
        ("recording", args.recording_file),
        ("video file", args.video_file if not args.video_file.isdigit() else ""),
    ):
        if path and not Path(path).is_file():
            raise ParameterError(f"{what} {path} not found: pass an existing file")
    nodes = []
    for name, cls in (
        ("camera_node", "CameraNode"),
        ("alignment_node", "AlignmentNode"),
        ("feedback_node", "FeedbackNode"),
    ):
        # Launch arguments win over the config file; empty arguments keep the file's value.
        params = {**config.get(name, {}), **{k: v for k, v in arg_params.get(name, {}).items() if v != ""}}
        nodes.append(
            NodeSpec(
                name=name,
                module=f"hinge_coach_ros.nodes.{name}",
                class_name=cls,
                parameters=validate(name, params),
                remappings=DIAGNOSTICS_REMAP,
            )
        )
    return nodes


def graph_args_from(values: dict[str, str]) -> GraphArgs:
    known = {f.name for f in fields(GraphArgs)}
    unknown = set(values) - known
    if unknown:
        raise ParameterError(f"unknown argument(s) {sorted(unknown)}; known: {sorted(known)}")
    return GraphArgs(**values)


def launch_node_kwargs(node: NodeSpec, namespace: str) -> dict:
    """Keyword arguments for ``launch_ros.actions.Node``."""
    return {
        "package": "hinge_coach_ros",
        "executable": node.name,
        "name": node.name,
        "namespace": namespace,
        "parameters": [dict(node.parameters)],
        "remappings": list(node.remappings),
        "output": "screen",
    }


def rclpy_node_kwargs(node: NodeSpec, namespace: str) -> dict:
    """Keyword arguments for the node class's constructor (``rclpy.node.Node``)."""
    from rclpy.parameter import Parameter  # only the runner needs rclpy here

    cli_args: list[str] = []
    for src, dst in node.remappings:
        cli_args += ["-r", f"{src}:={dst}"]
    return {
        "namespace": namespace,
        "parameter_overrides": [Parameter(k, value=v) for k, v in node.parameters.items()],
        "cli_args": ["--ros-args", *cli_args] if cli_args else None,
    }
