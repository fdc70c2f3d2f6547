"""The optional MCAP recording of a session: skeleton, report and rep topics, readable by the MCAP tools."""

import numpy as np
import pytest
from mcap_ros2.reader import read_ros2_messages

from hinge_coach_ros.graph import GraphArgs
from hinge_coach_ros.mcap_log import McapLog, message_definition
from hinge_coach_ros.messages import cloud_to_skeleton
from hinge_coach_ros.runner import Rig
from hinge_coach_ros.session_io import embedded_session_path, read_session


def test_message_definitions_include_their_nested_types():
    text = message_definition("diagnostic_msgs/msg/DiagnosticArray")
    for nested in (
        "MSG: std_msgs/Header",
        "MSG: builtin_interfaces/Time",
        "MSG: diagnostic_msgs/DiagnosticStatus",
    ):
        assert nested in text
    assert "MSG: diagnostic_msgs/KeyValue" in text
    assert "MSG: uint8" not in text  # builtin types and constants are not types to append


def test_session_is_recorded_and_reads_back(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text(
        f"/**/feedback_node:\n  ros__parameters:\n    log_dir: '{tmp_path}'\n    record_mcap: true\n"
    )
    rig = Rig(GraphArgs(config_file=str(config)))
    try:
        rig.spin_session(timeout_s=90.0)
    finally:
        rig.close()
    (path,) = tmp_path.glob("session-*.mcap")
    by_topic: dict[str, list] = {}
    for m in read_ros2_messages(str(path)):
        by_topic.setdefault(m.channel.topic, []).append(m.ros_msg)
    frames = len(read_session(embedded_session_path()).times_s)
    assert len(by_topic["/skeleton"]) >= 0.95 * frames
    assert len(by_topic["/alignment/report"]) >= 0.95 * frames
    assert len(by_topic["/alignment/rep"]) == 5
    assert not any("image" in t for t in by_topic)  # no images unless asked
    first = by_topic["/skeleton"][0]
    assert first.width == 33 and [f.name for f in first.fields] == ["x", "y", "z", "confidence"]
    assert np.isfinite(cloud_to_skeleton(first)[:, :3]).any()
    rep = by_topic["/alignment/rep"][1].status[0]
    assert rep.name == "hinge: rep" and any(kv.key == "fault.squat" for kv in rep.values)


def test_a_full_disk_at_close_loses_the_index_but_closes_the_file(tmp_path):
    log = McapLog(tmp_path / "s.mcap")

    def disk_full() -> None:
        raise OSError(28, "No space left on device")

    log._writer.finish = disk_full
    with pytest.raises(OSError):
        log.close()
    assert log._file.closed
    log.close()  # a second close neither writes nor raises
