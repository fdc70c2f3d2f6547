"""Build of hinge_coach_ros: an ament_python package with a pybind11 extension."""

import os
from glob import glob

from setuptools import Extension, find_packages, setup

try:  # pip / venv: the pybind11 Python package
    from pybind11.setup_helpers import Pybind11Extension, build_ext
except ImportError:  # ROS via apt/rosdep: pybind11-dev installs only the headers (in /usr/include)
    from setuptools.command.build_ext import build_ext

    def Pybind11Extension(name, sources, cxx_std=17, extra_compile_args=(), **kwargs):  # noqa: N802
        flags = [f"-std=c++{cxx_std}", "-fvisibility=hidden", *extra_compile_args]
        return Extension(name, sources, language="c++", extra_compile_args=flags, **kwargs)


PACKAGE = "hinge_coach_ros"
# colcon --symlink-install runs setup.py from a build folder of symlinks that
# does not hold src/; resolve the sources from the real location of this file.
HERE = os.path.dirname(os.path.realpath(__file__))

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    package_data={PACKAGE: ["data/*.csv", "data/*.json"]},
    ext_modules=[
        Pybind11Extension(
            f"{PACKAGE}._kernels",
            [os.path.join(HERE, "src", "kernels.cpp")],
            cxx_std=17,
            # No fused multiply-add contraction, so the numpy references see the same
            # roundings; no FP-exception traps (results unchanged), so selects vectorize.
            extra_compile_args=["-O3", "-ffp-contract=off", "-fno-trapping-math"],
        )
    ],
    cmdclass={"build_ext": build_ext},
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", glob("launch/*.launch.py")),
        (f"share/{PACKAGE}/config", glob("config/*.yaml")),
        (f"share/{PACKAGE}/rviz", glob("rviz/*.rviz")),
    ],
    install_requires=["setuptools", "numpy", "pyyaml"],
    zip_safe=False,
    maintainer="hinge_coach_ros maintainers",
    maintainer_email="maintainers@hinge-coach.invalid",
    description="Hip-hinge coaching station: RealSense skeleton, virtual dowel, LED and pan-tilt feedback.",
    license="Apache-2.0",
    tests_require=["pytest"],
    entry_points={
        "console_scripts": [
            f"camera_node = {PACKAGE}.nodes.camera_node:main",
            f"alignment_node = {PACKAGE}.nodes.alignment_node:main",
            f"feedback_node = {PACKAGE}.nodes.feedback_node:main",
            f"hinge-coach = {PACKAGE}.cli:main",
        ],
    },
)
