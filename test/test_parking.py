"""Nobody to face (stale skeleton): the mount goes home and drops its torque; new input wakes it."""

from hinge_coach_ros.graph import GraphArgs
from hinge_coach_ros.runner import Rig


def test_mount_parks_when_input_goes_stale_and_wakes_on_new_input():
    rig = Rig(GraphArgs(source="synthetic"))
    feedback, camera = rig.nodes["feedback_node"], rig.nodes["camera_node"]
    try:
        # Someone is there: the mount turns toward them with its torque on.
        assert rig.spin_until(lambda: abs(feedback.mount.pan_deg) > 1.0, 20.0)
        assert feedback.mount.torque_on
        assert rig.spin_until(lambda: camera.finished, 60.0)
        # The stream ended: after stale_timeout_s the mount goes home, then torque off.
        assert rig.spin_until(lambda: not feedback.mount.torque_on, 10.0)
        home = (feedback.limits.home_pan_deg, feedback.limits.home_tilt_deg)
        assert (feedback.mount.pan_deg, feedback.mount.tilt_deg) == home
        # A skeleton again (the session restarted): torque back on, and it aims again.
        camera.params["loop"] = True
        camera._index = 0
        camera.finished = False
        camera._tick_timer.reset()
        assert rig.spin_until(lambda: feedback.mount.torque_on and abs(feedback.mount.pan_deg) > 1.0, 20.0)
    finally:
        rig.close()
