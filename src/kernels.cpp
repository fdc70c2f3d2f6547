// C++ kernels of hinge_coach_ros (pybind11 module hinge_coach_ros._kernels).
//
// Each kernel has a numpy reference in hinge_coach_ros/kernels_ref.py that
// follows the same algorithm step by step; randomized parity tests compare
// the two. Keep them in lockstep when changing either.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

namespace py = pybind11;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
using Vec3 = std::array<double, 3>;

double median(std::vector<double> values) {
  const size_t n = values.size();
  if (n == 0) return kNaN;
  const size_t mid = n / 2;
  std::nth_element(values.begin(), values.begin() + mid, values.end());
  double upper = values[mid];
  if (n % 2 == 1) return upper;
  double lower = *std::max_element(values.begin(), values.begin() + mid);
  return 0.5 * (lower + upper);
}

Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}

double norm(const Vec3& a) { return std::sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]); }

// Unit eigenvector of the largest eigenvalue of a symmetric 3x3 matrix, by the
// closed-form (trigonometric) eigenvalue and a cross product of two rows of
// (A - lambda I). Returns false when the matrix has no dominant direction.
bool principal_direction(const double a[3][3], Vec3& out) {
  const double p1 = a[0][1] * a[0][1] + a[0][2] * a[0][2] + a[1][2] * a[1][2];
  const double q = (a[0][0] + a[1][1] + a[2][2]) / 3.0;
  const double p2 = (a[0][0] - q) * (a[0][0] - q) + (a[1][1] - q) * (a[1][1] - q) +
                    (a[2][2] - q) * (a[2][2] - q) + 2.0 * p1;
  const double p = std::sqrt(p2 / 6.0);
  if (!(p > 1e-300)) return false;  // isotropic (or zero) spread: no line
  double b[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) b[i][j] = (a[i][j] - (i == j ? q : 0.0)) / p;
  double r = (b[0][0] * (b[1][1] * b[2][2] - b[1][2] * b[2][1]) -
              b[0][1] * (b[1][0] * b[2][2] - b[1][2] * b[2][0]) +
              b[0][2] * (b[1][0] * b[2][1] - b[1][1] * b[2][0])) /
             2.0;
  r = std::min(1.0, std::max(-1.0, r));
  const double phi = std::acos(r) / 3.0;
  const double lambda = q + 2.0 * p * std::cos(phi);
  const Vec3 rows[3] = {{a[0][0] - lambda, a[0][1], a[0][2]},
                        {a[1][0], a[1][1] - lambda, a[1][2]},
                        {a[2][0], a[2][1], a[2][2] - lambda}};
  const Vec3 candidates[3] = {cross(rows[0], rows[1]), cross(rows[0], rows[2]),
                              cross(rows[1], rows[2])};
  int best = 0;
  double best_norm = norm(candidates[0]);
  for (int i = 1; i < 3; ++i) {
    const double n = norm(candidates[i]);
    if (n > best_norm) {
      best = i;
      best_norm = n;
    }
  }
  if (!(best_norm > 1e-300)) return false;
  for (int i = 0; i < 3; ++i) out[i] = candidates[best][i] / best_norm;
  // Sign convention shared with the reference: largest component positive.
  int k = 0;
  for (int i = 1; i < 3; ++i)
    if (std::fabs(out[i]) > std::fabs(out[k])) k = i;
  if (out[k] < 0)
    for (double& v : out) v = -v;
  return true;
}

// Robust total-least-squares line through 2D or 3D points: iteratively
// reweighted with Huber weights on the perpendicular distance, scaled by the
// median absolute distance. Rows with NaN or non-positive weight are skipped.
py::tuple robust_line_fit(py::array_t<double, py::array::c_style | py::array::forcecast> points,
                          py::object weights_obj, int iterations, double huber_k,
                          double min_scale) {
  if (points.ndim() != 2 || (points.shape(1) != 2 && points.shape(1) != 3))
    throw std::invalid_argument("points must be an (N, 2) or (N, 3) array");
  if (iterations < 1) throw std::invalid_argument("iterations must be at least 1");
  if (!(huber_k > 0) || !(min_scale > 0))
    throw std::invalid_argument("huber_k and min_scale must be positive");
  const ssize_t n = points.shape(0);
  const ssize_t dim = points.shape(1);
  auto pts = points.unchecked<2>();

  std::vector<double> prior(n, 1.0);
  if (!weights_obj.is_none()) {
    auto w = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(weights_obj);
    if (!w || w.ndim() != 1 || w.shape(0) != n)
      throw std::invalid_argument("weights must be a 1-D array with one value per point");
    auto wv = w.unchecked<1>();
    for (ssize_t i = 0; i < n; ++i) prior[i] = wv(i);
  }
  std::vector<Vec3> p(n, Vec3{0, 0, 0});
  std::vector<bool> valid(n, false);
  ssize_t n_valid = 0;
  for (ssize_t i = 0; i < n; ++i) {
    bool finite = std::isfinite(prior[i]) && prior[i] > 0;
    for (ssize_t d = 0; d < dim; ++d) {
      p[i][d] = pts(i, d);
      finite = finite && std::isfinite(p[i][d]);
    }
    valid[i] = finite;
    n_valid += finite ? 1 : 0;
  }

  py::array_t<double> centroid_out(dim), direction_out(dim), distance_out(n);
  auto c_out = centroid_out.mutable_unchecked<1>();
  auto d_out = direction_out.mutable_unchecked<1>();
  auto r_out = distance_out.mutable_unchecked<1>();
  for (ssize_t d = 0; d < dim; ++d) c_out(d) = d_out(d) = kNaN;
  for (ssize_t i = 0; i < n; ++i) r_out(i) = kNaN;
  if (n_valid < 2) return py::make_tuple(centroid_out, direction_out, distance_out, false);

  std::vector<double> w(prior);
  std::vector<double> dist(n, 0.0);
  Vec3 centroid{0, 0, 0}, direction{0, 0, 0};
  bool ok = false;
  for (int it = 0; it < iterations; ++it) {
    double wsum = 0.0;
    centroid = {0, 0, 0};
    for (ssize_t i = 0; i < n; ++i) {
      if (!valid[i]) continue;
      wsum += w[i];
      for (int d = 0; d < 3; ++d) centroid[d] += w[i] * p[i][d];
    }
    if (!(wsum > 0)) {
      ok = false;
      break;
    }
    for (double& v : centroid) v /= wsum;
    double cov[3][3] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
    for (ssize_t i = 0; i < n; ++i) {
      if (!valid[i]) continue;
      const Vec3 q{p[i][0] - centroid[0], p[i][1] - centroid[1], p[i][2] - centroid[2]};
      for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 3; ++c) cov[r][c] += w[i] * q[r] * q[c];
    }
    ok = principal_direction(cov, direction);
    if (!ok) break;
    std::vector<double> valid_dist;
    valid_dist.reserve(n_valid);
    for (ssize_t i = 0; i < n; ++i) {
      if (!valid[i]) continue;
      const Vec3 q{p[i][0] - centroid[0], p[i][1] - centroid[1], p[i][2] - centroid[2]};
      const double along = q[0] * direction[0] + q[1] * direction[1] + q[2] * direction[2];
      const double sq = q[0] * q[0] + q[1] * q[1] + q[2] * q[2] - along * along;
      dist[i] = std::sqrt(std::max(sq, 0.0));
      valid_dist.push_back(dist[i]);
    }
    const double scale = std::max(1.4826 * median(valid_dist), min_scale);
    const double limit = huber_k * scale;
    for (ssize_t i = 0; i < n; ++i) {
      if (!valid[i]) continue;
      w[i] = prior[i] * (dist[i] <= limit ? 1.0 : limit / dist[i]);
    }
  }
  if (!ok) return py::make_tuple(centroid_out, direction_out, distance_out, false);
  for (ssize_t d = 0; d < dim; ++d) {
    c_out(d) = centroid[d];
    d_out(d) = direction[d];
  }
  for (ssize_t i = 0; i < n; ++i) r_out(i) = valid[i] ? dist[i] : kNaN;
  return py::make_tuple(centroid_out, direction_out, distance_out, true);
}

}  // namespace

PYBIND11_MODULE(_kernels, m) {
  m.doc() = "C++ kernels of hinge_coach_ros; numpy references in hinge_coach_ros.kernels_ref";
  m.def("robust_line_fit", &robust_line_fit, py::arg("points"), py::arg("weights") = py::none(),
        py::arg("iterations") = 8, py::arg("huber_k") = 1.5, py::arg("min_scale") = 1e-4,
        "Robust (Huber IRLS) total-least-squares line through (N, 2|3) points.\n"
        "Returns (centroid, unit direction, perpendicular distance per point, ok).");
}
