"""The package builds with colcon, plain and --symlink-install, and its C++ extension imports."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COLCON = shutil.which("colcon", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
SKIP = {
    ".venv", "build", "install", "log", ".git", ".pytest_cache", ".ruff_cache", ".hypothesis", "__pycache__"
}


def _copy_package(dst: Path) -> None:
    def ignore(_dir, names):
        return [n for n in names if n in SKIP or n.endswith(".so") or n.endswith(".egg-info")]

    shutil.copytree(ROOT, dst, ignore=ignore)


@pytest.mark.skipif(COLCON is None, reason="colcon is not installed (make test installs it)")
@pytest.mark.parametrize("symlink", [False, True], ids=["install", "symlink-install"])
def test_colcon_build_gives_an_importable_extension(tmp_path, symlink):
    ws = tmp_path / "ws"
    _copy_package(ws / "src" / "hinge_coach_ros")
    cmd = [COLCON, "build", "--event-handlers", "console_direct-"]
    cmd += ["--symlink-install"] if symlink else []
    build = subprocess.run(cmd, cwd=ws, capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    share = ws / "install" / "hinge_coach_ros" / "share" / "hinge_coach_ros"
    assert (share / "launch" / "coach.launch.py").exists() and (share / "config" / "coach.yaml").exists()
    for exe in ("camera_node", "alignment_node", "feedback_node", "hinge-coach"):
        assert (ws / "install" / "hinge_coach_ros" / "lib" / "hinge_coach_ros" / exe).exists()
    probe = (
        "import hinge_coach_ros._kernels as k, numpy as np; "
        "print(k.__file__); print(k.robust_line_fit(np.array([[0., 0.], [1., 1.], [2., 2.]]))[3])"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "AMENT_PREFIX_PATH")}
    check = subprocess.run(
        ["bash", "-c", f"source install/setup.bash && cd / && {sys.executable} -c '{probe}'"],
        cwd=ws,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert check.returncode == 0, check.stderr
    where, ok = check.stdout.split()
    assert where.startswith(str(ws)), where  # the workspace's build, not the development install
    assert ok == "True"
