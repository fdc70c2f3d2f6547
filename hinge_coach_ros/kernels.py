"""The package's C++ kernels (pybind11), with a clear error when not built.

numpy references of the same algorithms live in ``kernels_ref.py``.
"""

from __future__ import annotations

try:
    from ._kernels import robust_line_fit
except ImportError as exc:  # pragma: no cover - exercised only on a broken install
    raise ImportError(
        "hinge_coach_ros._kernels (the C++ extension) is not built: reinstall the package "
        "with 'pip install .' or 'colcon build' so setup.py compiles src/kernels.cpp"
    ) from exc

__all__ = ["robust_line_fit"]
