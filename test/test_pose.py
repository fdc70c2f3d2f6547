"""BlazePose on a real photograph shipped inside an installed package, and the station zone."""

from pathlib import Path

import numpy as np
import pytest

from hinge_coach_ros.landmarks import INDEX
from hinge_coach_ros.pose import PoseEstimator

cv2 = pytest.importorskip("cv2")
matplotlib = pytest.importorskip("matplotlib")
# A portrait of Grace Hopper that matplotlib ships as sample data (a real photograph).
PHOTO = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"


@pytest.fixture(scope="module")
def photo_rgb():
    bgr = cv2.imread(str(PHOTO))
    assert bgr is not None, PHOTO
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def test_blazepose_finds_the_face_and_shoulders_in_a_real_photo(photo_rgb):
    estimator = PoseEstimator(static_images=True)
    try:
        result = estimator.process(photo_rgb)
    finally:
        estimator.close()
    assert result is not None
    px, vis = result.pixels, result.visibility
    nose, l_eye, r_eye = px[INDEX["nose"]], px[INDEX["left_eye"]], px[INDEX["right_eye"]]
    l_sh, r_sh = px[INDEX["left_shoulder"]], px[INDEX["right_shoulder"]]
    assert vis[INDEX["nose"]] > 0.9 and vis[INDEX["left_shoulder"]] > 0.9
    assert min(l_eye[0], r_eye[0]) < nose[0] < max(l_eye[0], r_eye[0])  # nose between the eyes
    assert nose[1] > max(l_eye[1], r_eye[1])  # and below them
    assert min(l_sh[1], r_sh[1]) > nose[1] + 100  # shoulders well below the face
    assert abs(l_sh[0] - r_sh[0]) > 250  # a shoulder width apart in a 512 px wide photo
    assert result.mask is not None and result.mask.shape == photo_rgb.shape[:2]
    assert result.mask[int(nose[1]), int(nose[0])] > 0.5  # the face is part of the person


def test_only_the_person_inside_the_zone_is_seen(photo_rgb):
    h, w = photo_rgb.shape[:2]
    canvas = np.full((h, 2 * w, 3), 200, np.uint8)
    canvas[:, w:] = photo_rgb  # the person stands in the right half
    outside = PoseEstimator(static_images=True, zone_px=(0, 0, w, h))
    inside = PoseEstimator(static_images=True, zone_px=(w, 0, 2 * w, h))
    try:
        assert outside.process(canvas) is None
        result = inside.process(canvas)
    finally:
        outside.close()
        inside.close()
    assert result is not None
    assert (result.pixels[INDEX["nose"], 0] > w) and result.pixels[INDEX["nose"], 0] < 2 * w


def test_bad_image_is_a_clear_error():
    estimator = PoseEstimator(static_images=True)
    try:
        with pytest.raises(ValueError, match="uint8 RGB"):
            estimator.process(np.zeros((10, 10), np.float32))
    finally:
        estimator.close()
