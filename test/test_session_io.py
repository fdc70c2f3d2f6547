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
        "0.02,1,2,3,,,,\n"
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
        ("time_s,,left_hip_x\n0,1,2\n", "column 2 of the header row has no name"),
        ("time_s,left_hip_x\n0,1,2\n", "row 2 has values past the header's 2 columns"),
    ],
)
def test_malformed_csv_gives_a_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(SessionFileError, match=message):
        read_session(path)


def test_a_trailing_comma_names_no_column(tmp_path):
    path = tmp_path / "s.csv"
    # The header's trailing comma, with or without one on the rows.
    path.write_text("time_s,left_hip_x,left_hip_y,left_hip_z,\n0.0,1,2,3,\n0.1,4,5,6\n")
    s = read_session(path)
    np.testing.assert_allclose(s.landmarks[:, INDEX["left_hip"], :3], [[1, 2, 3], [4, 5, 6]])


def test_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(SessionFileError, match="not found: pass an existing skeleton CSV"):
        read_session(tmp_path / "nope.csv")


_HIP = "time_s,left_hip_x,left_hip_y,left_hip_z\n"


def test_blank_lines_are_skipped_and_rows_keep_their_numbers(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("# fps: 10\n" + _HIP + "0.0,1,2,3\n\n0.1,4,5,6\n  \n0.2,7,8,9\n\n")
    s = read_session(path)
    np.testing.assert_allclose(s.times_s, [0.0, 0.1, 0.2])
    np.testing.assert_allclose(s.landmarks[:, INDEX["left_hip"], :3], [[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    # Row numbers count the blank lines: the table's row 6 is the fifth line after the header.
    path.write_text(_HIP + "0.0,1,2,3\n\n0.1,4,5,6\n\n0.2,abc,8,9\n")
    with pytest.raises(SessionFileError, match="row 6 is not numeric"):
        read_session(path)


@pytest.mark.parametrize(
    "content, message",
    [
        (_HIP + "0,1,2,3\nnan,1,2,3\n0.2,1,2,3\n", "row 3 has time_s 'nan': it must be a finite number"),
        (_HIP + "0,1,2,3\n0.1,1,2,3\ninf,1,2,3\n", "row 4 has time_s 'inf': it must be a finite number"),
        (_HIP + "-inf,1,2,3\n", "row 2 has time_s '-inf'"),
        (_HIP.rstrip("\n") + ",left_hip_x\n0,1,2,3,4\n", "column 'left_hip_x' appears twice"),
        ("time_s,left_hip_x,time_s\n0,1,0\n", "column 'time_s' appears twice"),
        ("time_s,left_hip_x,left_hip_y\n0,1,2\n", "landmark 'left_hip' has no column left_hip_z;"),
        (
            "time_s,nose_x,nose_y,nose_z,left_knee_confidence\n0,1,2,3,1\n",
            "landmark 'left_knee' has no column left_knee_x, left_knee_y, left_knee_z;",
        ),
        ("# up: nan,1,0\n" + _HIP + "0,1,2,3\n", "up a non-zero x,y,z vector"),
        ("# fps: nan\n" + _HIP + "0,1,2,3\n", "fps must be positive"),
        (_HIP + "0,1,2,3\n0.1,1,2\n", "row 3 has 3 cells, the header 4: leave a missing landmark's cells"),
    ],
)
def test_bad_times_and_columns_give_a_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(SessionFileError, match=message):
        read_session(path)


@pytest.mark.parametrize(
    "header, step, message",
    [
        ("", 33.3, "steps by a median 33.3 per frame, more than 1 s: time_s must be in seconds"),
        ("# fps: 30\n", 33.3, "more than twice the period of '# fps: 30': time_s must be in seconds"),
        # 1000 fps in milliseconds steps by 1: only the stated rate tells it from 1 fps in seconds.
        ("# fps: 1000\n", 1.0, "steps by a median 1 per frame, more than twice the period of '# fps: 1000'"),
    ],
)
def test_times_in_milliseconds_are_refused(tmp_path, header, step, message):
    path = tmp_path / "ms.csv"
    path.write_text(header + _HIP + "".join(f"{i * step:.1f},1,2,3\n" for i in range(20)))
    with pytest.raises(SessionFileError, match=message):
        read_session(path)


def test_slow_and_uneven_times_in_seconds_are_kept(tmp_path):
    path = tmp_path / "s.csv"
    # Frames dropped at 30 fps (a median step of 1.5 periods): still seconds. 1 fps without a header.
    path.write_text("# fps: 30\n" + _HIP + "".join(f"{i * 0.05:.4f},1,2,3\n" for i in range(20)))
    assert len(read_session(path).times_s) == 20
    path.write_text(_HIP + "".join(f"{i:.1f},1,2,3\n" for i in range(20)))
    assert len(read_session(path).times_s) == 20


def test_landmarks_in_millimetres_are_refused(tmp_path):
    path = tmp_path / "mm.csv"
    # A person 3 m from the camera, written in millimetres.
    path.write_text(_HIP + "".join(f"{i * 0.033:.3f},120,-40,3000\n" for i in range(20)))
    with pytest.raises(SessionFileError, match=r"a median 3002.67 from the origin: they must be in metres"):
        read_session(path)
    path.write_text(_HIP + "".join(f"{i * 0.033:.3f},0.12,-0.04,3.0\n" for i in range(20)))
    np.testing.assert_allclose(read_session(path).landmarks[5, INDEX["left_hip"], :3], [0.12, -0.04, 3.0])


def test_byte_order_mark_of_a_spreadsheet_export_is_read(tmp_path):
    path = tmp_path / "excel.csv"
    for text in ("# up: 0,0,1\n" + _HIP + "0,1,2,3\n", _HIP + "0,1,2,3\n"):
        path.write_bytes(b"\xef\xbb\xbf" + text.encode())
        s = read_session(path)
        np.testing.assert_allclose(s.landmarks[0, INDEX["left_hip"]], [1, 2, 3, 1])
    np.testing.assert_allclose(s.up_optical, [0, -1, 0])  # the default: the file set none


def test_text_not_in_utf8_says_so(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("# frame_id: caméra\n".encode("latin-1") + _HIP.encode() + b"0,1,2,3\n")
    with pytest.raises(SessionFileError, match=r"latin1.csv: not UTF-8 text \(invalid continuation byte"):
        read_session(path)


def test_up_line_is_marked_as_given(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("# up: 0,0,-2\n" + _HIP + "0,1,2,3\n")
    s = read_session(path)
    assert s.up_given
    np.testing.assert_allclose(s.up_optical, [0, 0, -1])
    path.write_text(_HIP + "0,1,2,3\n")
    assert not read_session(path).up_given


def test_unit_vector_of_huge_tiny_and_bad_vectors():
    from hinge_coach_ros.geometry import unit_vector

    # Components near the largest float: the norm would overflow, the direction is fine.
    np.testing.assert_allclose(unit_vector([1e308, 1e308, 0.0]), [2**-0.5, 2**-0.5, 0.0])
    np.testing.assert_allclose(unit_vector([0.0, -3.0, 4.0]), [0.0, -0.6, 0.8])
    for bad in ([0, 0, 0], [1e-7, 0, 0], [np.nan, 1, 0], [np.inf, 1, 0], [1, 2]):
        assert unit_vector(bad) is None, bad
