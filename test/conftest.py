"""Test set-up: keep DDS traffic of the tests on this machine and off other runs."""

import os

# A domain of our own, so parallel runs (or a real station nearby) never cross-talk.
os.environ.setdefault("ROS_DOMAIN_ID", str(100 + os.getpid() % 100))
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
