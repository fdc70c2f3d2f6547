"""The package's C++ kernels (pybind11), with a clear error when not built.

- ``lift_landmarks``: 2D landmarks to 3D by the median depth in a small window.
- ``deproject_depth``: a depth image to an organized point cloud (subsampled).
- ``fit_plane_ransac``: the floor plane, RANSAC with a seeded splitmix64 and a
  least-squares refinement.
- ``back_profile``: the dorsal edge (back-surface profile) for the virtual dowel.
- ``limb_sections``: where a limb's silhouette ends across it (the knee and ankle onto
  the thigh's and shin's axes).
- ``robust_line_fit``: Huber IRLS total-least-squares line (a general line fit; the virtual
  dowel is the support line of the back profile, ``dowel.support_line``).

Each docstring gives inputs, outputs, units and failure behaviour. numpy
references of the same algorithms live in ``kernels_ref.py``.
"""

from __future__ import annotations

try:
    from ._kernels import (
        back_profile,
        deproject_depth,
        fit_plane_ransac,
        lift_landmarks,
        limb_sections,
        robust_line_fit,
    )
except ImportError as exc:  # pragma: no cover - exercised only on a broken install
    raise ImportError(
        "hinge_coach_ros._kernels (the C++ extension) is not built: reinstall the package "
        "with 'pip install .' or 'colcon build' so setup.py compiles src/kernels.cpp"
    ) from exc

__all__ = [
    "back_profile",
    "deproject_depth",
    "fit_plane_ransac",
    "lift_landmarks",
    "limb_sections",
    "robust_line_fit",
]
