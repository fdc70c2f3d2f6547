"""One graph definition: the runner and the launch file build the same nodes."""

import ast
import importlib.util
from pathlib import Path

import pytest

from hinge_coach_ros.graph import GraphArgs, build_graph, launch_node_kwargs, rclpy_node_kwargs
from hinge_coach_ros.params import ParameterError
from hinge_coach_ros.runner import Rig

ROOT = Path(__file__).resolve().parents[1]
LAUNCH_FILE = ROOT / "launch" / "coach.launch.py"


def test_graph_has_the_three_nodes_with_arguments_applied(tmp_path):
    config = tmp_path / "station.yaml"
    config.write_text(
        "/**/feedback_node:\n  ros__parameters:\n    pan_max_deg: 45.0\n"
        "/**/camera_node:\n  ros__parameters:\n    source: synthetic\n"
    )
    nodes = build_graph(GraphArgs(config_file=str(config)))
    assert [n.name for n in nodes] == ["camera_node", "alignment_node", "feedback_node"]
    by_name = {n.name: n for n in nodes}
    assert by_name["feedback_node"].parameters["pan_max_deg"] == 45.0
    # A launch argument wins over the config file.
    assert by_name["camera_node"].parameters["source"] == "session"


@pytest.mark.parametrize(
    "args, message",
    [
        (GraphArgs(source="kinect"), "camera_node.source = 'kinect' is invalid"),
        (GraphArgs(session_file="/nonexistent/session.csv"), "not found"),
        (GraphArgs(led_backend="dmx"), "feedback_node.led_backend"),
        (GraphArgs(config_file="/nonexistent/config.yaml"), "config file"),
    ],
)
def test_bad_arguments_are_rejected_before_anything_starts(args, message):
    with pytest.raises(ParameterError, match=message):
        build_graph(args)


def test_launch_and_runner_kwargs_agree():
    for spec in build_graph(GraphArgs(namespace="station1")):
        launch = launch_node_kwargs(spec, "station1")
        runner = rclpy_node_kwargs(spec, "station1")
        assert launch["executable"] == launch["name"] == spec.name
        assert launch["namespace"] == runner["namespace"] == "station1"
        runner_params = {p.name: p.value for p in runner["parameter_overrides"]}
        assert launch["parameters"] == [runner_params] == [spec.parameters]
        expected_cli = ["--ros-args"] + [x for a, b in launch["remappings"] for x in ("-r", f"{a}:={b}")]
        assert runner["cli_args"] == expected_cli


def test_runner_nodes_carry_the_graph_parameters_and_remappings():
    args = GraphArgs(namespace="station1")
    rig = Rig(args)
    try:
        for spec in build_graph(args):
            node = rig.nodes[spec.name]
            assert node.get_fully_qualified_name() == f"/station1/{spec.name}"
            for name, value in spec.parameters.items():
                got = node.get_parameter(name).value
                assert (got.tolist() if hasattr(got, "tolist") else got) == value
        camera = rig.nodes["camera_node"]
        topics = {pub.topic_name for pub in camera.publishers}
        assert "/station1/skeleton" in topics
        assert "/diagnostics" in topics  # the remapping from the graph took effect
    finally:
        rig.close()


def test_launch_file_builds_its_nodes_from_the_graph():
    tree = ast.parse(LAUNCH_FILE.read_text())
    imported = {
        alias.name
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom) and n.module == "hinge_coach_ros.graph"
        for alias in n.names
    }
    assert {"GraphArgs", "build_graph", "launch_node_kwargs"} <= imported
    node_calls = [
        n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "Node"
    ]
    assert len(node_calls) == 1  # one generic Node(...) per graph entry, nothing hand-written
    assert node_calls[0].keywords[0].value.func.id == "launch_node_kwargs"


def test_generate_launch_description_with_launch_ros():
    pytest.importorskip(
        "launch_ros", reason="launch_ros is not installed (it is not on PyPI; ROS users have it)"
    )
    from launch.actions import DeclareLaunchArgument, OpaqueFunction

    from launch import LaunchContext

    spec = importlib.util.spec_from_file_location("coach_launch", LAUNCH_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    description = module.generate_launch_description()
    declared = [e.name for e in description.entities if isinstance(e, DeclareLaunchArgument)]
    assert declared == list(GraphArgs.__dataclass_fields__)
    context = LaunchContext()
    for e in description.entities:
        if isinstance(e, DeclareLaunchArgument):
            e.visit(context)
    opaque = next(e for e in description.entities if isinstance(e, OpaqueFunction))
    nodes = opaque.execute(context)
    assert [n.node_executable for n in nodes] == [s.name for s in build_graph(GraphArgs())]


def test_example_station_config_loads_and_launch_arguments_pick_backends(tmp_path):
    from hinge_coach_ros.params import load_params_file

    station = ROOT / "config" / "station_example.yaml"
    loaded = load_params_file(station)["feedback_node"]
    assert (loaded["led_backend"], loaded["pan_tilt_backend"]) == ("serial", "dynamixel")
    # Empty backend arguments keep the file's choice; given ones win, with their ports.
    fb = {n.name: n for n in build_graph(GraphArgs(config_file=str(station)))}["feedback_node"]
    assert fb.parameters["pan_tilt_backend"] == "dynamixel" and fb.parameters["pan_servo_id"] == 1
    args = GraphArgs(
        config_file=str(station),
        led_backend="wled",
        led_address="127.0.0.1:8080",
        pan_tilt_port="/dev/ttyUSB3",
        log_dir=str(tmp_path),
    )
    fb = {n.name: n for n in build_graph(args)}["feedback_node"]
    assert (fb.parameters["led_backend"], fb.parameters["led_address"]) == ("wled", "127.0.0.1:8080")
    assert fb.parameters["pan_tilt_port"] == "/dev/ttyUSB3" and fb.parameters["log_dir"] == str(tmp_path)
    with pytest.raises(ParameterError, match="led_address must be set"):
        build_graph(GraphArgs(led_backend="wled"))


def test_video_rotation_argument_reaches_the_camera_node_and_is_checked():
    camera = {n.name: n for n in build_graph(GraphArgs(source="video", video_rotation="90"))}["camera_node"]
    assert camera.parameters["video_rotation"] == "90"
    camera = {n.name: n for n in build_graph(GraphArgs(source="video"))}["camera_node"]
    assert "video_rotation" not in camera.parameters  # empty: the node's default, 'auto'
    with pytest.raises(
        ParameterError, match=r"video_rotation = '45' is invalid: expected one of 'auto', '0'"
    ):
        build_graph(GraphArgs(video_rotation="45"))
