"""The shipped RViz view shows topics the station really publishes, in the camera's frame."""

from pathlib import Path

import yaml

from hinge_coach_ros.nodes.camera_node import FRAME_ID, POINTS_TOPIC

ROOT = Path(__file__).resolve().parents[1]


def test_rviz_view_matches_the_published_topics():
    view = yaml.safe_load((ROOT / "rviz" / "coach.rviz").read_text())["Visualization Manager"]
    assert view["Global Options"]["Fixed Frame"] == FRAME_ID
    topics = {d["Name"]: d["Topic"]["Value"] for d in view["Displays"] if "Topic" in d}
    assert topics == {
        "Depth cloud": "/" + POINTS_TOPIC,
        "Skeleton": "/skeleton/markers",
        "Coaching screen": "/display/image",
    }
    classes = {d["Name"]: d["Class"] for d in view["Displays"]}
    assert classes["Skeleton"] == "rviz_default_plugins/MarkerArray"
    assert classes["Depth cloud"] == "rviz_default_plugins/PointCloud2"
