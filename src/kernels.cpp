// C++ kernels of hinge_coach_ros (pybind11 module hinge_coach_ros._kernels).
//
// Each kernel has a numpy reference in hinge_coach_ros/kernels_ref.py that
// follows the same algorithm step by step; randomized parity tests compare
// the two. Keep them in lockstep when changing either.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

namespace py = pybind11;

// Hot loops get an AVX2 clone picked at load time where the CPU has it. AVX2
// without FMA (and -ffp-contract=off) rounds exactly like SSE2 and numpy.
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define TARGET_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define TARGET_CLONES
#endif

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kPi = 3.14159265358979323846;
constexpr double kTwoThirdsPi = 2.0 * kPi / 3.0;
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

// Which eigenvector symmetric_eigenvector returns.
enum class Eigen { kLargest, kSmallest };

// Unit eigenvector of the largest (a line's direction) or smallest (a plane's
// normal) eigenvalue of a symmetric 3x3 matrix, by the closed-form
// (trigonometric) eigenvalue and a cross product of two rows of (A - lambda I).
// Returns false when the matrix has no such distinct direction (isotropic
// spread, or for the smallest: points on a line).
bool symmetric_eigenvector(const double a[3][3], Eigen which, Vec3& out) {
  const double p1 = a[0][1] * a[0][1] + a[0][2] * a[0][2] + a[1][2] * a[1][2];
  const double q = (a[0][0] + a[1][1] + a[2][2]) / 3.0;
  const double p2 = (a[0][0] - q) * (a[0][0] - q) + (a[1][1] - q) * (a[1][1] - q) +
                    (a[2][2] - q) * (a[2][2] - q) + 2.0 * p1;
  const double p = std::sqrt(p2 / 6.0);
  if (!(p > 1e-300)) return false;  // isotropic (or zero) spread: no direction
  double b[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) b[i][j] = (a[i][j] - (i == j ? q : 0.0)) / p;
  double r = (b[0][0] * (b[1][1] * b[2][2] - b[1][2] * b[2][1]) -
              b[0][1] * (b[1][0] * b[2][2] - b[1][2] * b[2][0]) +
              b[0][2] * (b[1][0] * b[2][1] - b[1][1] * b[2][0])) /
             2.0;
  r = std::min(1.0, std::max(-1.0, r));
  const double phi = std::acos(r) / 3.0;
  const double lambda = which == Eigen::kLargest ? q + 2.0 * p * std::cos(phi)
                                                 : q + 2.0 * p * std::cos(phi + kTwoThirdsPi);
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
    ok = symmetric_eigenvector(cov, Eigen::kLargest, direction);
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

// ---------------------------------------------------------------------------
// Depth images and camera models.

// Pinhole intrinsics plus optional Brown-Conrady distortion (OpenCV and
// RealSense order k1, k2, p1, p2, k3). A pixel is undistorted by a fixed
// number of fixed-point iterations (as OpenCV's undistortPoints), so the
// numpy reference can do exactly the same arithmetic.
struct Camera {
  double fx = 0, fy = 0, cx = 0, cy = 0;
  double k1 = 0, k2 = 0, p1 = 0, p2 = 0, k3 = 0;
  bool distorted = false;
};

constexpr int kUndistortIterations = 10;

Camera parse_camera(const py::object& intrinsics, const py::object& distortion) {
  Camera cam;
  std::vector<double> k;
  try {
    k = py::cast<std::vector<double>>(intrinsics);
  } catch (const py::cast_error&) {
    throw std::invalid_argument("intrinsics must be (fx, fy, cx, cy) in pixels");
  }
  if (k.size() != 4) throw std::invalid_argument("intrinsics must be (fx, fy, cx, cy) in pixels");
  cam.fx = k[0];
  cam.fy = k[1];
  cam.cx = k[2];
  cam.cy = k[3];
  if (!(std::isfinite(cam.fx) && cam.fx > 0 && std::isfinite(cam.fy) && cam.fy > 0 &&
        std::isfinite(cam.cx) && std::isfinite(cam.cy)))
    throw std::invalid_argument("intrinsics must be finite with fx, fy > 0");
  if (!distortion.is_none()) {
    std::vector<double> c;
    try {
      c = py::cast<std::vector<double>>(distortion);
    } catch (const py::cast_error&) {
      throw std::invalid_argument("distortion must be (k1, k2, p1, p2, k3) or None");
    }
    if (c.size() != 5) throw std::invalid_argument("distortion must be (k1, k2, p1, p2, k3) or None");
    for (double v : c)
      if (!std::isfinite(v)) throw std::invalid_argument("distortion coefficients must be finite");
    cam.k1 = c[0];
    cam.k2 = c[1];
    cam.p1 = c[2];
    cam.p2 = c[3];
    cam.k3 = c[4];
    cam.distorted = c[0] != 0 || c[1] != 0 || c[2] != 0 || c[3] != 0 || c[4] != 0;
  }
  return cam;
}

// Normalized undistorted ray (x/z, y/z) through pixel (u, v).
inline void pixel_ray(const Camera& k, double u, double v, double& x, double& y) {
  x = (u - k.cx) / k.fx;
  y = (v - k.cy) / k.fy;
  if (!k.distorted) return;
  const double xd = x, yd = y;
  for (int i = 0; i < kUndistortIterations; ++i) {
    const double r2 = x * x + y * y;
    const double icdist = 1.0 / (1.0 + ((k.k3 * r2 + k.k2) * r2 + k.k1) * r2);
    const double dx = 2.0 * k.p1 * x * y + k.p2 * (r2 + 2.0 * x * x);
    const double dy = k.p1 * (r2 + 2.0 * y * y) + 2.0 * k.p2 * x * y;
    x = (xd - dx) * icdist;
    y = (yd - dy) * icdist;
  }
}

// A depth image viewed as metres: uint16 units times depth_scale, or float
// values times depth_scale. Holds a contiguous array (copied only when the
// caller's is not C-contiguous).
enum class DepthType { kU16, kF32, kF64 };

struct DepthImage {
  py::array array;
  DepthType type = DepthType::kU16;
  const void* data = nullptr;
  ssize_t height = 0, width = 0;
  double scale = 1.0;

  double metres(ssize_t row, ssize_t col) const {
    const ssize_t i = row * width + col;
    switch (type) {
      case DepthType::kU16:
        return static_cast<double>(static_cast<const uint16_t*>(data)[i]) * scale;
      case DepthType::kF32:
        return static_cast<double>(static_cast<const float*>(data)[i]) * scale;
      default:
        return static_cast<const double*>(data)[i] * scale;
    }
  }
};

template <typename T>
py::array contiguous(const py::array& a) {
  return py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(a);
}

DepthImage parse_depth(const py::object& depth_obj, const py::object& depth_scale) {
  py::array depth = py::array::ensure(depth_obj);
  if (!depth || depth.ndim() != 2)
    throw std::invalid_argument("depth must be a 2-D (H, W) uint16 or float32 image");
  DepthImage img;
  const py::dtype dt = depth.dtype();
  if (dt.is(py::dtype::of<uint16_t>())) {
    img.type = DepthType::kU16;
    img.array = contiguous<uint16_t>(depth);
    img.scale = 0.001;  // RealSense D4xx default: 1 mm per unit
  } else if (dt.is(py::dtype::of<float>())) {
    img.type = DepthType::kF32;
    img.array = contiguous<float>(depth);
  } else if (dt.is(py::dtype::of<double>())) {
    img.type = DepthType::kF64;
    img.array = contiguous<double>(depth);
  } else {
    throw std::invalid_argument("depth must be a 2-D (H, W) uint16 or float32 image");
  }
  if (!depth_scale.is_none()) img.scale = py::cast<double>(depth_scale);
  if (!(std::isfinite(img.scale) && img.scale > 0))
    throw std::invalid_argument("depth_scale must be a positive number of metres per unit");
  img.data = img.array.data();
  img.height = img.array.shape(0);
  img.width = img.array.shape(1);
  return img;
}

void check_depth_range(double min_depth_m, double max_depth_m) {
  if (!(std::isfinite(min_depth_m) && std::isfinite(max_depth_m) && min_depth_m >= 0 &&
        max_depth_m > min_depth_m))
    throw std::invalid_argument("need 0 <= min_depth_m < max_depth_m (finite, metres)");
}

inline bool usable_depth(double z, double min_depth_m, double max_depth_m) {
  return std::isfinite(z) && z > 0 && z >= min_depth_m && z <= max_depth_m;
}

// Optional (H, W) uint8 mask of the same size as the depth image.
const uint8_t* parse_mask(const py::object& mask_obj, const DepthImage& img, py::array& holder,
                          const char* what) {
  if (mask_obj.is_none()) return nullptr;
  py::array mask = py::array::ensure(mask_obj);
  if (!mask || mask.ndim() != 2 || mask.shape(0) != img.height || mask.shape(1) != img.width ||
      !mask.dtype().is(py::dtype::of<uint8_t>()))
    throw std::invalid_argument(std::string(what) + " must be a uint8 image of the depth image's size");
  holder = contiguous<uint8_t>(mask);
  return static_cast<const uint8_t*>(holder.data());
}

// Median of values[0..n), reordering them (nth_element on a small window).
double median_inplace(double* values, size_t n) {
  if (n == 0) return kNaN;
  const size_t mid = n / 2;
  std::nth_element(values, values + mid, values + n);
  const double upper = values[mid];
  if (n % 2 == 1) return upper;
  const double lower = *std::max_element(values, values + mid);
  return 0.5 * (lower + upper);
}

// The median of the usable depths (on the person, where a mask is given) in the
// (2r+1)^2 window centred on pixel (cu, cv), clipped to the image; NaN and a count
// of 0 when there are none. `window` holds at least (2r+1)^2 values.
double window_median(const DepthImage& img, const uint8_t* mask, double cu, double cv, int r,
                     double min_depth_m, double max_depth_m, double* window, size_t& count) {
  count = 0;
  const double u0 = std::max(cu - r, 0.0), u1 = std::min(cu + r, double(img.width - 1));
  const double v0 = std::max(cv - r, 0.0), v1 = std::min(cv + r, double(img.height - 1));
  if (u0 <= u1 && v0 <= v1) {  // the window overlaps the image
    for (ssize_t row = ssize_t(v0); row <= ssize_t(v1); ++row)
      for (ssize_t col = ssize_t(u0); col <= ssize_t(u1); ++col) {
        if (mask && mask[row * img.width + col] == 0) continue;  // not the person
        const double z = img.metres(row, col);
        if (usable_depth(z, min_depth_m, max_depth_m)) window[count++] = z;
      }
  }
  return median_inplace(window, count);
}

// Landmark lifting: per pixel (u, v), the median of the usable depths in the
// (2r+1)^2 window around the nearest pixel, deprojected through (u, v).
py::tuple lift_landmarks(const py::object& depth_obj,
                         py::array_t<double, py::array::c_style | py::array::forcecast> pixels_uv,
                         const py::object& intrinsics, const py::object& depth_scale,
                         int window_radius_px, double min_depth_m, double max_depth_m,
                         const py::object& distortion, const py::object& mask_obj) {
  const DepthImage img = parse_depth(depth_obj, depth_scale);
  const Camera cam = parse_camera(intrinsics, distortion);
  py::array mask_holder;
  const uint8_t* mask = parse_mask(mask_obj, img, mask_holder, "mask");
  if (pixels_uv.ndim() != 2 || pixels_uv.shape(1) != 2)
    throw std::invalid_argument("pixels_uv must be an (N, 2) array of (u, v) pixel positions");
  if (window_radius_px < 0 || window_radius_px > 50)
    throw std::invalid_argument("window_radius_px must be in [0, 50]");
  check_depth_range(min_depth_m, max_depth_m);
  const ssize_t n = pixels_uv.shape(0);
  auto uv = pixels_uv.unchecked<2>();
  py::array_t<double> points_out({n, static_cast<ssize_t>(3)});
  py::array_t<int32_t> count_out(n);
  auto pts = points_out.mutable_unchecked<2>();
  auto cnt = count_out.mutable_unchecked<1>();
  const int r = window_radius_px;
  std::vector<double> window(static_cast<size_t>((2 * r + 1) * (2 * r + 1)));
  for (ssize_t i = 0; i < n; ++i) {
    const double u = uv(i, 0), v = uv(i, 1);
    size_t count = 0;
    double z = kNaN;
    if (std::isfinite(u) && std::isfinite(v))
      z = window_median(img, mask, std::floor(u + 0.5), std::floor(v + 0.5), r, min_depth_m,
                        max_depth_m, window.data(), count);
    cnt(i) = static_cast<int32_t>(count);
    if (count == 0) {
      pts(i, 0) = pts(i, 1) = pts(i, 2) = kNaN;
      continue;
    }
    double x, y;
    pixel_ray(cam, u, v, x, y);
    pts(i, 0) = x * z;
    pts(i, 1) = y * z;
    pts(i, 2) = z;
  }
  return py::make_tuple(points_out, count_out);
}

// Depths of one image row (every stride-th pixel) as float32 metres, NaN where
// unusable or masked out. Range tests run on the double value; with finite
// bounds (checked) they also reject NaN and inf.
template <typename T>
TARGET_CLONES void depth_row(const T* src, const uint8_t* mrow, ssize_t stride, ssize_t cols, double scale,
               double min_depth_m, double max_depth_m, float* zrow) {
  constexpr float kNaNf = std::numeric_limits<float>::quiet_NaN();
  for (ssize_t c = 0; c < cols; ++c) {
    const double z = static_cast<double>(src[c * stride]) * scale;
    bool keep = (z > 0) & (z >= min_depth_m) & (z <= max_depth_m);
    if (mrow) keep = keep & (mrow[c * stride] != 0);
    zrow[c] = keep ? static_cast<float>(z) : kNaNf;
  }
}

// Interleaved x, y, z of one row in float32: ray (rounded to float32) times
// depth; NaN depths carry through. On x86-64, four pixels at a time with SSE
// shuffles so each 16-byte store is whole (scalar stores were the bottleneck);
// the products are the same IEEE float32 multiplications either way.
void xyz_row(const float* zrow, const float* ray_x, float ray_y, ssize_t cols, float* o) {
  ssize_t c = 0;
#if defined(__SSE2__)
  const __m128 ry = _mm_set1_ps(ray_y);
  for (; c + 4 <= cols; c += 4) {
    const __m128 z = _mm_loadu_ps(zrow + c);
    const __m128 x = _mm_mul_ps(_mm_loadu_ps(ray_x + c), z);
    const __m128 y = _mm_mul_ps(ry, z);
    const __m128 xy_lo = _mm_unpacklo_ps(x, y);                               // x0 y0 x1 y1
    const __m128 xy_hi = _mm_unpackhi_ps(x, y);                               // x2 y2 x3 y3
    const __m128 t0 = _mm_shuffle_ps(z, x, _MM_SHUFFLE(1, 1, 0, 0));          // z0 z0 x1 x1
    const __m128 t1 = _mm_shuffle_ps(y, z, _MM_SHUFFLE(1, 1, 1, 1));          // y1 y1 z1 z1
    const __m128 t2 = _mm_shuffle_ps(xy_hi, z, _MM_SHUFFLE(3, 2, 3, 2));      // x3 y3 z2 z3
    float* dst = o + 3 * c;
    _mm_storeu_ps(dst, _mm_shuffle_ps(xy_lo, t0, _MM_SHUFFLE(2, 0, 1, 0)));  // x0 y0 z0 x1
    _mm_storeu_ps(dst + 4, _mm_shuffle_ps(t1, xy_hi, _MM_SHUFFLE(1, 0, 2, 0)));  // y1 z1 x2 y2
    _mm_storeu_ps(dst + 8, _mm_shuffle_ps(t2, t2, _MM_SHUFFLE(3, 1, 0, 2)));  // z2 x3 y3 z3
  }
#endif
  for (; c < cols; ++c) {
    const float z = zrow[c];
    o[3 * c] = ray_x[c] * z;
    o[3 * c + 1] = ray_y * z;
    o[3 * c + 2] = z;
  }
}

// Whole-image deprojection to an organized float32 point cloud, every
// stride-th row and column from (0, 0); NaN where the depth is unusable or the
// mask is zero. x = float32(ray) * float32(z), the float32 product: 1e-7
// relative, far below depth noise, and twice the SIMD width of doubles.
py::array_t<float> deproject_depth(const py::object& depth_obj, const py::object& intrinsics,
                                   const py::object& depth_scale, int stride, double min_depth_m,
                                   double max_depth_m, const py::object& distortion,
                                   const py::object& mask_obj, const py::object& out_obj) {
  const DepthImage img = parse_depth(depth_obj, depth_scale);
  const Camera cam = parse_camera(intrinsics, distortion);
  if (stride < 1) throw std::invalid_argument("stride must be at least 1");
  check_depth_range(min_depth_m, max_depth_m);
  py::array mask_holder;
  const uint8_t* mask = parse_mask(mask_obj, img, mask_holder, "mask");
  const ssize_t rows = (img.height + stride - 1) / stride;
  const ssize_t cols = (img.width + stride - 1) / stride;
  py::array_t<float> cloud;
  if (out_obj.is_none()) {
    cloud = py::array_t<float>({rows, cols, static_cast<ssize_t>(3)});
  } else {
    // A caller's buffer, reused frame after frame (no allocation, no page faults).
    if (!py::isinstance<py::array_t<float>>(out_obj))
      throw std::invalid_argument("out must be a writable C-contiguous float32 array of the cloud's shape");
    cloud = py::reinterpret_borrow<py::array_t<float>>(out_obj);
    if (cloud.ndim() != 3 || cloud.shape(0) != rows || cloud.shape(1) != cols || cloud.shape(2) != 3 ||
        !(cloud.flags() & py::array::c_style) || !cloud.writeable())
      throw std::invalid_argument("out must be a writable C-contiguous float32 array of the cloud's shape");
  }
  float* out = cloud.mutable_data();
  {
    py::gil_scoped_release release;
    std::vector<float> zrow(cols), ray_x(cols), ray_row(cam.distorted ? cols : 0);
    for (ssize_t c = 0; c < cols; ++c)
      ray_x[c] = static_cast<float>((double(c * stride) - cam.cx) / cam.fx);
    for (ssize_t r = 0; r < rows; ++r) {
      const ssize_t row = r * stride;
      const uint8_t* mrow = mask ? mask + row * img.width : nullptr;
      const ssize_t offset = row * img.width;
      switch (img.type) {
        case DepthType::kU16:
          depth_row(static_cast<const uint16_t*>(img.data) + offset, mrow, stride, cols, img.scale,
                    min_depth_m, max_depth_m, zrow.data());
          break;
        case DepthType::kF32:
          depth_row(static_cast<const float*>(img.data) + offset, mrow, stride, cols, img.scale,
                    min_depth_m, max_depth_m, zrow.data());
          break;
        default:
          depth_row(static_cast<const double*>(img.data) + offset, mrow, stride, cols, img.scale,
                    min_depth_m, max_depth_m, zrow.data());
      }
      float* o = out + r * cols * 3;
      if (!cam.distorted) {
        xyz_row(zrow.data(), ray_x.data(), static_cast<float>((double(row) - cam.cy) / cam.fy), cols, o);
        continue;
      }
      for (ssize_t c = 0; c < cols; ++c, o += 3) {  // distorted: a ray per pixel
        double x, y;
        pixel_ray(cam, double(c * stride), double(row), x, y);
        const float z = zrow[c];
        o[0] = static_cast<float>(x) * z;
        o[1] = static_cast<float>(y) * z;
        o[2] = z;
      }
    }
  }
  return cloud;
}

// ---------------------------------------------------------------------------
// Robust plane fit.

// splitmix64: a tiny counter-based PRNG the numpy reference reproduces
// exactly (output k is mix(seed + k * gamma)), so both draw the same triples.
constexpr uint64_t kSplitmixGamma = 0x9E3779B97F4A7C15ULL;

inline uint64_t splitmix64_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Loads finite rows of an (N, 3) float32/float64 array as structure-of-arrays
// doubles (so the inlier count vectorizes) with their original row numbers.
struct PointSet {
  std::vector<double> x, y, z;
  std::vector<ssize_t> row;
  ssize_t n_rows = 0;
};

template <typename T>
void load_points_typed(const py::array& a, PointSet& s) {
  const T* p = static_cast<const T*>(a.data());
  for (ssize_t i = 0; i < s.n_rows; ++i) {
    const double x = double(p[3 * i]), y = double(p[3 * i + 1]), z = double(p[3 * i + 2]);
    if (!(std::isfinite(x) && std::isfinite(y) && std::isfinite(z))) continue;
    s.x.push_back(x);
    s.y.push_back(y);
    s.z.push_back(z);
    s.row.push_back(i);
  }
}

PointSet load_points(const py::object& points_obj) {
  py::array pts = py::array::ensure(points_obj);
  if (!pts || pts.ndim() != 2 || pts.shape(1) != 3)
    throw std::invalid_argument("points must be an (N, 3) array");
  PointSet s;
  s.n_rows = pts.shape(0);
  s.x.reserve(s.n_rows);
  s.y.reserve(s.n_rows);
  s.z.reserve(s.n_rows);
  s.row.reserve(s.n_rows);
  if (pts.dtype().is(py::dtype::of<float>())) {
    load_points_typed<float>(contiguous<float>(pts), s);
  } else {
    load_points_typed<double>(contiguous<double>(pts), s);
  }
  return s;
}

// Points with |n . p + d| <= threshold. The hot loop of the plane fit: plain
// locals and a 64-bit mask count so GCC vectorizes it (2 doubles per SSE2
// step; 4 with the AVX2 clone where the CPU has it: the same IEEE roundings,
// no FMA, so parity holds).
TARGET_CLONES
int64_t count_inliers_soa(const double* xs, const double* ys, const double* zs, size_t m, double n0,
                          double n1, double n2, double d, double threshold) {
  int64_t count = 0;
  for (size_t i = 0; i < m; ++i) {
    const double r = n0 * xs[i] + n1 * ys[i] + n2 * zs[i] + d;
    count += std::fabs(r) <= threshold ? int64_t{1} : int64_t{0};
  }
  return count;
}

inline ssize_t count_inliers(const PointSet& s, const Vec3& n, double d, double threshold) {
  return static_cast<ssize_t>(count_inliers_soa(s.x.data(), s.y.data(), s.z.data(), s.x.size(), n[0],
                                                n[1], n[2], d, threshold));
}

// RANSAC plane n . p + d = 0 over (N, 3) points with a deterministic seed,
// then one least-squares refinement on the best candidate's inliers.
py::tuple fit_plane_ransac(const py::object& points_obj, int iterations, double inlier_threshold_m,
                           uint64_t seed, const py::object& up_hint_obj,
                           const py::object& max_tilt_deg_obj, int min_inliers) {
  if (iterations < 1) throw std::invalid_argument("iterations must be at least 1");
  if (!(std::isfinite(inlier_threshold_m) && inlier_threshold_m > 0))
    throw std::invalid_argument("inlier_threshold_m must be a positive number of metres");
  if (min_inliers < 3) throw std::invalid_argument("min_inliers must be at least 3");
  bool have_up = false;
  Vec3 up{0, 0, 0};
  if (!up_hint_obj.is_none()) {
    std::vector<double> u;
    try {
      u = py::cast<std::vector<double>>(up_hint_obj);
    } catch (const py::cast_error&) {
      throw std::invalid_argument("up_hint must be a 3-vector or None");
    }
    if (u.size() != 3) throw std::invalid_argument("up_hint must be a 3-vector or None");
    const double un = std::sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2]);
    if (!(std::isfinite(un) && un > 0))
      throw std::invalid_argument("up_hint must be a finite non-zero 3-vector");
    up = {u[0] / un, u[1] / un, u[2] / un};
    have_up = true;
  }
  double min_cos_tilt = -1.0;  // no tilt limit
  if (!max_tilt_deg_obj.is_none()) {
    const double max_tilt_deg = py::cast<double>(max_tilt_deg_obj);
    if (!have_up) throw std::invalid_argument("max_tilt_deg needs up_hint");
    if (!(max_tilt_deg >= 0 && max_tilt_deg <= 90))
      throw std::invalid_argument("max_tilt_deg must be in [0, 90]");
    min_cos_tilt = std::cos(max_tilt_deg * kPi / 180.0);
  }
  const PointSet s = load_points(points_obj);
  const ssize_t n_rows = s.n_rows;
  py::array_t<double> normal_out(3);
  py::array_t<bool> inliers_out(n_rows);
  auto normal = normal_out.mutable_unchecked<1>();
  bool* inl = inliers_out.mutable_data();
  std::fill(inl, inl + n_rows, false);
  normal(0) = normal(1) = normal(2) = kNaN;
  const uint64_t m = s.x.size();
  if (m < 3) return py::make_tuple(normal_out, kNaN, 0, false, inliers_out);

  Vec3 best_n{0, 0, 0};
  double best_d = 0.0;
  ssize_t best_count = -1;
  Vec3 plane_n{0, 0, 0};
  double plane_d = 0.0;
  ssize_t final_count = 0;
  bool ok = false;
  {
    py::gil_scoped_release release;
    for (int it = 0; it < iterations; ++it) {
      const uint64_t base = 3 * uint64_t(it);
      const uint64_t i0 = splitmix64_mix(seed + (base + 1) * kSplitmixGamma) % m;
      const uint64_t i1 = splitmix64_mix(seed + (base + 2) * kSplitmixGamma) % m;
      const uint64_t i2 = splitmix64_mix(seed + (base + 3) * kSplitmixGamma) % m;
      const Vec3 e1{s.x[i1] - s.x[i0], s.y[i1] - s.y[i0], s.z[i1] - s.z[i0]};
      const Vec3 e2{s.x[i2] - s.x[i0], s.y[i2] - s.y[i0], s.z[i2] - s.z[i0]};
      Vec3 n = cross(e1, e2);
      const double nn = norm(n);
      if (!(nn > 1e-12)) continue;  // repeated or collinear sample: no plane
      n = {n[0] / nn, n[1] / nn, n[2] / nn};
      if (have_up && std::fabs(n[0] * up[0] + n[1] * up[1] + n[2] * up[2]) < min_cos_tilt) continue;
      const double d = -(n[0] * s.x[i0] + n[1] * s.y[i0] + n[2] * s.z[i0]);
      const ssize_t count = count_inliers(s, n, d, inlier_threshold_m);
      if (count > best_count) {
        best_count = count;
        best_n = n;
        best_d = d;
      }
    }
    if (best_count >= min_inliers) {
      // Least squares on the inliers: centroid and the covariance's smallest
      // eigenvector.
      Vec3 centroid{0, 0, 0};
      ssize_t k = 0;
      for (size_t i = 0; i < m; ++i) {
        if (!(std::fabs(best_n[0] * s.x[i] + best_n[1] * s.y[i] + best_n[2] * s.z[i] + best_d) <=
              inlier_threshold_m))
          continue;
        centroid[0] += s.x[i];
        centroid[1] += s.y[i];
        centroid[2] += s.z[i];
        ++k;
      }
      for (double& v : centroid) v /= double(k);
      double cov[3][3] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
      for (size_t i = 0; i < m; ++i) {
        if (!(std::fabs(best_n[0] * s.x[i] + best_n[1] * s.y[i] + best_n[2] * s.z[i] + best_d) <=
              inlier_threshold_m))
          continue;
        const Vec3 q{s.x[i] - centroid[0], s.y[i] - centroid[1], s.z[i] - centroid[2]};
        for (int r = 0; r < 3; ++r)
          for (int c = 0; c < 3; ++c) cov[r][c] += q[r] * q[c];
      }
      if (symmetric_eigenvector(cov, Eigen::kSmallest, plane_n)) {
        plane_d = -(plane_n[0] * centroid[0] + plane_n[1] * centroid[1] + plane_n[2] * centroid[2]);
        // Sign: the normal points along up_hint, else toward the camera (d > 0).
        const bool flip = have_up
                              ? plane_n[0] * up[0] + plane_n[1] * up[1] + plane_n[2] * up[2] < 0
                              : plane_d < 0;
        if (flip) {
          plane_n = {-plane_n[0], -plane_n[1], -plane_n[2]};
          plane_d = -plane_d;
        }
        final_count = count_inliers(s, plane_n, plane_d, inlier_threshold_m);
        ok = final_count >= min_inliers;
      }
    }
    if (ok) {
      for (size_t i = 0; i < m; ++i)
        inl[s.row[i]] = std::fabs(plane_n[0] * s.x[i] + plane_n[1] * s.y[i] +
                                  plane_n[2] * s.z[i] + plane_d) <= inlier_threshold_m;
    }
  }
  if (!ok) return py::make_tuple(normal_out, kNaN, 0, false, inliers_out);
  for (int i = 0; i < 3; ++i) normal(i) = plane_n[i];
  return py::make_tuple(normal_out, plane_d, final_count, true, inliers_out);
}

// ---------------------------------------------------------------------------
// Back-surface profile.

// Dorsal edge of the person at K stations along the axis polyline (hip
// midpoint, shoulder midpoint[, back of head]): from each station, a scan in
// the image direction perpendicular to the trunk axis, away from the way the
// person faces, to the last person pixel before the background.
py::tuple back_profile(const py::object& depth_obj, const py::object& intrinsics,
                       py::array_t<double, py::array::c_style | py::array::forcecast> axis_uv,
                       double facing_x, const py::object& depth_scale, int stations,
                       const py::object& mask_obj, int max_scan_px, int max_hole_px,
                       double depth_jump_m, double min_depth_m, double max_depth_m,
                       const py::object& distortion, bool holes_in_mask, double occlusion_step_m) {
  const DepthImage img = parse_depth(depth_obj, depth_scale);
  const Camera cam = parse_camera(intrinsics, distortion);
  if (axis_uv.ndim() != 2 || axis_uv.shape(1) != 2 || axis_uv.shape(0) < 2)
    throw std::invalid_argument(
        "axis_uv must be an (M >= 2, 2) array: hip midpoint, shoulder midpoint[, head]");
  if (facing_x != 1.0 && facing_x != -1.0)
    throw std::invalid_argument("facing_x must be +1 (facing image +u) or -1");
  if (stations < 2 || stations > 1000) throw std::invalid_argument("stations must be in [2, 1000]");
  if (max_scan_px < 1 || max_scan_px > 10000)
    throw std::invalid_argument("max_scan_px must be in [1, 10000]");
  if (max_hole_px < 0) throw std::invalid_argument("max_hole_px must be at least 0");
  if (!(std::isfinite(depth_jump_m) && depth_jump_m > 0))
    throw std::invalid_argument("depth_jump_m must be a positive number of metres");
  if (!(occlusion_step_m > 0))  // NaN fails too; infinity switches the test off
    throw std::invalid_argument("occlusion_step_m must be a positive number of metres (inf: off)");
  check_depth_range(min_depth_m, max_depth_m);
  py::array mask_holder;
  const uint8_t* mask = parse_mask(mask_obj, img, mask_holder, "mask");
  // Holes inside the person mask are the person (dark hair and shiny fabric give no depth):
  // they do not end the scan, and the edge may be one of them.
  const bool mask_holes = holes_in_mask && mask != nullptr;

  const ssize_t k_count = stations;
  py::array_t<double> edge_uv_out({k_count, ssize_t(2)}), depth_out(k_count),
      points_out({k_count, ssize_t(3)}), station_uv_out({k_count, ssize_t(2)});
  py::array_t<bool> valid_out(k_count);
  auto edge_uv = edge_uv_out.mutable_unchecked<2>();
  auto depth_m = depth_out.mutable_unchecked<1>();
  auto points = points_out.mutable_unchecked<2>();
  auto station_uv = station_uv_out.mutable_unchecked<2>();
  auto valid = valid_out.mutable_unchecked<1>();
  for (ssize_t k = 0; k < k_count; ++k) {
    edge_uv(k, 0) = edge_uv(k, 1) = depth_m(k) = kNaN;
    points(k, 0) = points(k, 1) = points(k, 2) = kNaN;
    station_uv(k, 0) = station_uv(k, 1) = kNaN;
    valid(k) = false;
  }
  auto axis = axis_uv.unchecked<2>();
  const ssize_t m = axis_uv.shape(0);
  std::vector<double> cum(m, 0.0), seg(m - 1, 0.0);
  bool finite = true;
  for (ssize_t j = 0; j < m; ++j) finite = finite && std::isfinite(axis(j, 0)) && std::isfinite(axis(j, 1));
  if (!finite) return py::make_tuple(edge_uv_out, depth_out, points_out, valid_out, station_uv_out);
  for (ssize_t j = 0; j + 1 < m; ++j) {
    const double dx = axis(j + 1, 0) - axis(j, 0), dy = axis(j + 1, 1) - axis(j, 1);
    seg[j] = std::sqrt(dx * dx + dy * dy);
    cum[j + 1] = cum[j] + seg[j];
  }
  if (!(seg[0] > 1e-9))  // hip and shoulder on the same pixel: no trunk axis
    return py::make_tuple(edge_uv_out, depth_out, points_out, valid_out, station_uv_out);
  const double total = cum[m - 1];
  const double ax = (axis(1, 0) - axis(0, 0)) / seg[0], ay = (axis(1, 1) - axis(0, 1)) / seg[0];
  // Perpendicular toward the back: the trunk axis turned a quarter away from
  // the facing side (image v points down), right for any trunk inclination.
  const double bu = facing_x * ay, bv = -facing_x * ax;

  for (ssize_t k = 0; k < k_count; ++k) {
    const double s = total * double(k) / double(k_count - 1);
    ssize_t j = 0;
    while (j + 1 < m && cum[j + 1] <= s) ++j;
    j = std::min(j, m - 2);
    const double t = seg[j] > 0 ? (s - cum[j]) / seg[j] : 0.0;
    const double su = axis(j, 0) + t * (axis(j + 1, 0) - axis(j, 0));
    const double sv = axis(j, 1) + t * (axis(j + 1, 1) - axis(j, 1));
    station_uv(k, 0) = su;
    station_uv(k, 1) = sv;

    bool have_edge = false, background = false;
    double edge_u = 0, edge_v = 0, edge_z = 0;
    double far_z = -std::numeric_limits<double>::infinity();  // the farthest person depth so far
    int hole_run = 0;
    for (int i = 0; i < max_scan_px; ++i) {
      const double pu = std::floor(su + double(i) * bu + 0.5);
      const double pv = std::floor(sv + double(i) * bv + 0.5);
      if (!(pu >= 0 && pu <= double(img.width - 1) && pv >= 0 && pv <= double(img.height - 1)))
        break;  // left the image while still on the person: no edge
      const ssize_t col = ssize_t(pu), row = ssize_t(pv);
      if (mask && mask[row * img.width + col] == 0) {
        background = true;
        break;
      }
      const double z = img.metres(row, col);
      if (usable_depth(z, min_depth_m, max_depth_m)) {
        if (have_edge && std::fabs(z - edge_z) > depth_jump_m) {
          background = true;  // a depth step: the background behind the back
          break;
        }
        have_edge = true;
        edge_u = pu;
        edge_v = pv;
        edge_z = z;
        far_z = std::max(far_z, z);
        hole_run = 0;
      } else if (mask_holes) {
        if (have_edge) {
          edge_u = pu;  // still the person: the edge moves on, at the last depth seen
          edge_v = pv;
        }
      } else if (++hole_run > max_hole_px) {
        background = true;  // a long run without depth: the shadow past the edge
        break;
      }
    }
    if (!(have_edge && background)) continue;
    // Seen side-on, the back's rim is the farthest part of the trunk along the scan: an
    // edge well in front of the depths passed on the way is something nearer the camera
    // (an arm, a hand) hiding the rim, not the back.
    if (edge_z < far_z - occlusion_step_m) continue;
    double x, y;
    pixel_ray(cam, edge_u, edge_v, x, y);
    edge_uv(k, 0) = edge_u;
    edge_uv(k, 1) = edge_v;
    depth_m(k) = edge_z;
    points(k, 0) = x * edge_z;
    points(k, 1) = y * edge_z;
    points(k, 2) = edge_z;
    valid(k) = true;
  }
  return py::make_tuple(edge_uv_out, depth_out, points_out, valid_out, station_uv_out);
}


// Limb sections: from each section centre, walk across the limb both ways and
// find where its silhouette ends (see the binding's docstring).
py::tuple limb_sections(const py::object& depth_obj, const py::object& mask_obj,
                        py::array_t<double, py::array::c_style | py::array::forcecast> centres_uv,
                        std::array<double, 2> across, int max_steps, double tolerance_m,
                        const py::object& depth_scale) {
  const DepthImage img = parse_depth(depth_obj, depth_scale);
  if (mask_obj.is_none()) throw std::invalid_argument("mask (the person) is required");
  py::array mask_holder;
  const uint8_t* mask = parse_mask(mask_obj, img, mask_holder, "mask");
  if (centres_uv.ndim() != 2 || centres_uv.shape(1) != 2)
    throw std::invalid_argument("centres_uv must be an (S, 2) array of pixel positions");
  if (max_steps < 1 || max_steps > 10000) throw std::invalid_argument("max_steps must be in [1, 10000]");
  if (!(std::isfinite(tolerance_m) && tolerance_m > 0))
    throw std::invalid_argument("tolerance_m must be a positive number of metres");
  if (!(std::isfinite(across[0]) && std::isfinite(across[1])))
    throw std::invalid_argument("across must be a finite 2-vector");

  const ssize_t n = centres_uv.shape(0);
  py::array_t<double> reference_out(n), ends_out({n, ssize_t(2)});
  py::array_t<bool> clean_out(n);
  auto reference = reference_out.mutable_unchecked<1>();
  auto ends = ends_out.mutable_unchecked<2>();
  auto clean = clean_out.mutable_unchecked<1>();
  auto centres = centres_uv.unchecked<2>();
  const ssize_t w = img.width, h = img.height;
  // Any depth the camera gave counts (no range): the limb is told by its nearness to the
  // section's own reference.
  constexpr double kAnyDepth = std::numeric_limits<double>::infinity();
  auto has_depth = [](double z) { return usable_depth(z, 0.0, kAnyDepth); };
  double window[25];
  for (ssize_t k = 0; k < n; ++k) {
    const double cu_d = std::floor(centres(k, 0) + 0.5), cv_d = std::floor(centres(k, 1) + 0.5);
    reference(k) = kNaN;
    ends(k, 0) = -0.5;
    ends(k, 1) = 0.5;
    clean(k) = false;
    // The centre needs its 5x5 window inside the image.
    const bool inside = std::isfinite(cu_d) && std::isfinite(cv_d) && cu_d >= 2 &&
                        cu_d <= double(w - 3) && cv_d >= 2 && cv_d <= double(h - 3);
    if (!inside) continue;
    const ssize_t cu = ssize_t(cu_d), cv = ssize_t(cv_d);
    size_t count = 0;
    const double ref = window_median(img, mask, cu_d, cv_d, 2, 0.0, kAnyDepth, window, count);
    if (count == 0) continue;
    reference(k) = ref;
    bool ok = mask[cv * w + cu] > 0;
    for (int side = 0; side < 2; ++side) {
      const double sign = side == 0 ? -1.0 : 1.0;
      ssize_t last_limb = -1;
      bool stopped = false, occluded = false;
      for (ssize_t i = 0; i < max_steps; ++i) {
        const double t = sign * double(i + 1);
        const double pu = std::floor(centres(k, 0) + t * across[0] + 0.5);
        const double pv = std::floor(centres(k, 1) + t * across[1] + 0.5);
        if (!(pu >= 0 && pu <= double(w - 1) && pv >= 0 && pv <= double(h - 1))) {
          stopped = true;  // off the image
          break;
        }
        const ssize_t col = ssize_t(pu), row = ssize_t(pv);
        if (mask[row * w + col] == 0) {
          stopped = true;  // off the person
          break;
        }
        const double z = img.metres(row, col);
        if (!has_depth(z)) continue;  // a hole on the person: passed over
        if (std::fabs(z - ref) <= tolerance_m) {
          last_limb = i;
          continue;
        }
        stopped = true;  // a depth off the limb's: behind it, or in front (an occluder)
        occluded = z < ref - tolerance_m;
        break;
      }
      ends(k, side) = sign * (double(last_limb) + 1.5);
      ok = ok && stopped && !occluded;
    }
    clean(k) = ok;
  }
  return py::make_tuple(reference_out, ends_out, clean_out);
}

}  // namespace

PYBIND11_MODULE(_kernels, m) {
  m.doc() = "C++ kernels of hinge_coach_ros; numpy references in hinge_coach_ros.kernels_ref";
  m.def("robust_line_fit", &robust_line_fit, py::arg("points"), py::arg("weights") = py::none(),
        py::arg("iterations") = 8, py::arg("huber_k") = 1.5, py::arg("min_scale") = 1e-4,
        "Robust (Huber IRLS) total-least-squares line through (N, 2|3) points.\n"
        "Returns (centroid, unit direction, perpendicular distance per point, ok).");
  m.def("lift_landmarks", &lift_landmarks, py::arg("depth"), py::arg("pixels_uv"),
        py::arg("intrinsics"), py::arg("depth_scale") = py::none(), py::arg("window_radius_px") = 2,
        py::arg("min_depth_m") = 0.1, py::arg("max_depth_m") = 10.0,
        py::arg("distortion") = py::none(), py::arg("mask") = py::none(),
        R"doc(Lift 2D landmarks to 3D with the aligned depth image.

depth: (H, W) uint16 (units of depth_scale metres, default 0.001) or float32/float64
  (times depth_scale, default 1.0: metres). 0, NaN, inf and depths outside
  [min_depth_m, max_depth_m] are holes.
pixels_uv: (N, 2) pixel positions (u right, v down) in the depth image; NaN allowed.
intrinsics: (fx, fy, cx, cy) in pixels; distortion: None or Brown-Conrady
  (k1, k2, p1, p2, k3), undistorted by 10 fixed-point iterations.
For each landmark: the median of the usable depths in the (2r+1)^2 window centred on
the nearest pixel (floor(u + 0.5), clipped to the image), deprojected through (u, v).
mask: None or an (H, W) uint8 image; only pixels where it is non-zero count (the
person's segmentation, so a window at a limb's edge does not take the floor's depth).
Returns (points (N, 3) float64 metres in the camera optical frame, valid_count (N,)
int32). A landmark with no usable depth (or a NaN / off-image position) gets NaN
and count 0: the caller falls back to the model's own depth with lower confidence.
Raises ValueError on a wrong shape, dtype, intrinsics or range.)doc");
  m.def("deproject_depth", &deproject_depth, py::arg("depth"), py::arg("intrinsics"),
        py::arg("depth_scale") = py::none(), py::arg("stride") = 1, py::arg("min_depth_m") = 0.1,
        py::arg("max_depth_m") = 10.0, py::arg("distortion") = py::none(),
        py::arg("mask") = py::none(), py::arg("out") = py::none(),
        R"doc(Deproject a depth image to an organized point cloud.

depth, intrinsics, depth_scale, distortion, depth range: as lift_landmarks.
stride: take every stride-th row and column starting at pixel (0, 0) (subsampling
  for the floor fit). mask: optional (H, W) uint8; only non-zero pixels are kept.
Returns (ceil(H/stride), ceil(W/stride), 3) float32 x, y, z in metres (camera
optical frame: x right, y down, z forward; x = float32(ray) * float32(z)); NaN
where the depth is unusable or masked out. reshape(-1, 3) gives the cloud for fit_plane_ransac. out: optional
C-contiguous float32 array of that shape to write into (and return), so a node
reuses one buffer per frame.)doc");
  m.def("fit_plane_ransac", &fit_plane_ransac, py::arg("points"), py::arg("iterations") = 100,
        py::arg("inlier_threshold_m") = 0.02, py::arg("seed") = 0, py::arg("up_hint") = py::none(),
        py::arg("max_tilt_deg") = py::none(), py::arg("min_inliers") = 3,
        R"doc(Robust plane n . p + d = 0 through (N, 3) points (metres) by RANSAC.

Rows with NaN/inf are skipped. Each of `iterations` candidates comes from a triple of
finite points drawn with splitmix64 (output k = mix(seed + k * 0x9E3779B97F4A7C15),
index = output mod M), the same draws as the numpy reference; a repeated or collinear
triple, or (with up_hint and max_tilt_deg) a candidate whose normal is more than
max_tilt_deg from up_hint, is skipped. The candidate with the most points within
inlier_threshold_m (first one on a tie) is refined by least squares on its inliers
(the covariance's smallest eigenvector through their centroid), and the inliers are
counted again against the refined plane.
Sign: the normal points along up_hint when given, else toward the camera (d >= 0).
Returns (unit normal (3,), offset d in metres, inlier count, ok, inlier mask (N,) bool).
ok is False (normal and d NaN, count 0, mask all False) with fewer than 3 finite
points, no candidate with min_inliers inliers, or collinear inliers.)doc");
  m.def("back_profile", &back_profile, py::arg("depth"), py::arg("intrinsics"), py::arg("axis_uv"),
        py::arg("facing_x"), py::arg("depth_scale") = py::none(), py::arg("stations") = 16,
        py::arg("mask") = py::none(), py::arg("max_scan_px") = 200, py::arg("max_hole_px") = 6,
        py::arg("depth_jump_m") = 0.2, py::arg("min_depth_m") = 0.1, py::arg("max_depth_m") = 10.0,
        py::arg("distortion") = py::none(), py::arg("holes_in_mask") = false,
        py::arg("occlusion_step_m") = std::numeric_limits<double>::infinity(),
        R"doc(Back-surface profile (the dorsal edge) from the aligned depth image.

axis_uv: (M >= 2, 2) pixel polyline from tail to head: hip midpoint, shoulder
  midpoint and optionally the back of the head (ear). facing_x: +1 when the person's
  toes point toward image +u, -1 toward -u.
`stations` points are spaced evenly by arc length along the polyline (the first at
the hip, the last at its end). From each, the scan walks 1 px steps (pixel =
floor(station + i * b + 0.5)) along b, the image direction perpendicular to the
trunk axis (first segment) away from the front: b = facing_x * (a_v, -a_u) for the
unit axis a. Along the scan a pixel is background (the scan ends) when the mask is
given and is 0 there, or its usable depth differs from the last accepted person depth
by more than depth_jump_m; holes (unusable depth) are skipped, but more than
max_hole_px in a row also end the person (the depth shadow beside an edge). The
dorsal edge is the last accepted pixel. holes_in_mask (with a mask): holes inside the
mask are the person (dark hair gives no depth) and never end the scan; the edge is then
the last person pixel, hole or not, deprojected at the last usable depth before it.
occlusion_step_m: a station is invalid when its edge depth is more than this in front
of the farthest usable person depth along its scan (an arm or hand nearer the camera
covers the back's rim; default inf: never). A station is invalid when the scan leaves the
image or runs max_scan_px steps without reaching the background, or finds no depth.
Returns (edge_uv (K, 2) pixel, depth_m (K,), points (K, 3) metres in the camera
optical frame, valid (K,) bool, station_uv (K, 2)); invalid stations are NaN. A NaN
axis point or hip == shoulder makes every station invalid (station_uv NaN).)doc");

  m.def("limb_sections", &limb_sections, py::arg("depth"), py::arg("mask"), py::arg("centres_uv"),
        py::arg("across"), py::arg("max_steps"), py::arg("tolerance_m"),
        py::arg("depth_scale") = py::none(),
        R"doc(Where a limb's silhouette ends across it, at each section centre.

depth: (H, W) uint16 (units of depth_scale metres, default 0.001) or float32/float64
  metres; 0, NaN or negative is a hole. mask: (H, W) uint8, non-zero on the person.
centres_uv: (S, 2) pixel positions of the section centres on the limb's line.
across: (2,) unit image direction across the limb.
Each section's reference depth is the median of the usable depths on the person in the
5x5 window at its centre pixel (floor(u + 0.5), floor(v + 0.5); the window must lie in
the image). From the centre the scan walks 1 px steps (pixel = floor(centre + t *
across + 0.5), t = -1, -2, ... and 1, 2, ... up to max_steps) and stops off the image,
off the person, or on a usable depth more than tolerance_m from the reference; holes on
the person are passed over. The side's end is the last pixel with the limb's depth
(within tolerance_m), as a signed distance t + 0.5 (0.5 when there is none).
Returns (reference (S,) metres, NaN without usable depth; ends (S, 2) px along across,
the negative side first; clean (S,) bool: a reference, the centre on the person, and on
both sides a stop within max_steps that is not a usable depth more than tolerance_m in
front of the reference: an arm or a box nearer the camera ends the scan, not the limb's
rim). Empty input gives empty output.)doc");
}
