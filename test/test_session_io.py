"""Skeleton CSV reading: the documented format, missing landmarks, and clear errors."""

import numpy as np
import pytest

from hinge_coach_ros.landmarks import INDEX
from hinge_coach_ros.session_io import SessionFileError, read_session


def test_minimal_csv_with_missing_landmarks(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(
        "# fps: 60\n# up: 0,0,1\n"
        "time_s,left_hip_x,left_hip_y,left_hip_z,left_knee_x,left_knee_y,left_knee_z,left_knee_confidence\n"
        "0.0,1,2,3,4,5,6,0.5\n"
        "0.5,1,2,3,,,,\n"
    )
    s = read_session(path)
    assert s.fps == 60.0
    np.testing.assert_allclose(s.up_optical, [0, 0, 1])
    hip, knee = INDEX["left_hip"], INDEX["left_knee"]
    np.testing.assert_allclose(s.landmarks[0, hip], [1, 2, 3, 1.0])  # no confidence column: 1
    np.testing.assert_allclose(s.landmarks[0, knee], [4, 5, 6, 0.5])
    assert np.isnan(s.landmarks[1, knee, :3]).all() and s.landmarks[1, knee, 3] == 0.0
    assert np.isnan(s.landmarks[0, INDEX["nose"], :3]).all()


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "header"),
        ("time_s,left_hip_x\n", "no frames"),
        ("time_s,left_tail_x\n0,1\n", "unknown column 'left_tail_x'"),
        ("time_s,left_hip_x\n0,abc\n", "row 2 is not numeric"),
        ("time_s,left_hip_x\n1,0\n0.5,0\n", "increase"),
        ("# fps: fast\ntime_s,left_hip_x\n0,1\n", "numeric"),
    ],
)
def test_malformed_csv_gives_a_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(SessionFileError, match=message):
        read_session(path)


def test_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(SessionFileError, match="not found: pass an existing skeleton CSV"):
        read_session(tmp_path / "nope.csv")
