"""hinge_coach_ros: a hip-hinge coaching station for ROS 2.

The package is split into a ROS-free core (geometry, athlete model, alignment
engine, cue policy, drivers) and thin rclpy nodes under ``nodes/``.
"""

__version__ = "0.1.0"
