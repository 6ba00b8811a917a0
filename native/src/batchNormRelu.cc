// One pass forward, two backward, as the unfused BatchNorm kernels (eltwise.cc), with the ReLU's
// clip and mask inside: the sums in the same blocks and order (channelSums.h), the same float
// products, so fused and unfused agree to the last bit on a thread count.
#include "batchNormRelu.h"

#include <cmath>
#include <vector>

#include "channelSums.h"
#include "common.h"

namespace doconv {

namespace {

// y = (x − μ)·k + o per channel: k = γ/√(var + ε), o = β — batchNorm's (eltwise.cc) coefficients.
struct Affine {
  std::vector<float> mean, k, o;
  Affine(int64_t channels, const float *mu, const float *variance, const float *scale,
         const float *offset, float epsilon)
      : mean(mu, mu + channels), k(channels), o(offset, offset + channels) {
    for (int64_t c = 0; c < channels; c++) {
      k[c] = static_cast<float>(scale[c] / std::sqrt(double(variance[c]) + epsilon));
    }
  }
};

inline float normalised(float x, float mean, float k, float o) { return (x - mean) * k + o; }

// ReLU's gradient mask at y, clipped at cap: TF.js's Step (NaN → NaN) times ClipByValue's
// (y ≤ cap). Selects, not branches (`&`, not `&&`): y's sign is a coin toss, and a mispredicted
// branch per element made the gradient passes 12× slower than the unfused ones.
inline float reluMask(float y, float cap) {
  const float pass = (y > 0.0f) & (y <= cap) ? 1.0f : 0.0f;
  return y != y ? y : pass;
}

}  // namespace

std::string batchNormReluGeomProblem(const BatchNormReluGeom &g) {
  if (g.rows < 1 || g.channels < 1) return "rows and channels must be ≥ 1";
  return "";
}

void batchNormRelu(const BatchNormReluGeom &g, const float *x, const float *mean,
                   const float *variance, const float *scale, const float *offset, float *z,
                   float epsilon, float cap) {
  const int64_t rows = g.rows, channels = g.channels;
  const Affine a(channels, mean, variance, scale, offset, epsilon);
  const float *__restrict m = a.mean.data(), *__restrict k = a.k.data(), *__restrict o = a.o.data();
#pragma omp parallel for schedule(static) if (rows * channels >= parallelMinElems())
  for (int64_t r = 0; r < rows; r++) {
    const float *__restrict xr = x + r * channels;
    float *__restrict zr = z + r * channels;
    for (int64_t c = 0; c < channels; c++) {
      const float y = normalised(xr[c], m[c], k[c], o[c]);
      // As clip (eltwise.cc) with lo = 0: NaN fails both tests and passes through.
      zr[c] = y > cap ? cap : (y < 0 ? 0.0f : y);
    }
  }
}

void batchNormReluGradSums(const BatchNormReluGeom &g, const float *dy, const float *x,
                           const float *mean, const float *variance, const float *scale,
                           const float *offset, float *sumDy, float *sumDyXc, float epsilon,
                           float cap) {
  const int64_t channels = g.channels;
  const Affine a(channels, mean, variance, scale, offset, epsilon);
  const float *m = a.mean.data(), *k = a.k.data(), *o = a.o.data();
  std::vector<double> s0(channels), s1(channels);
  const auto add = [&](int64_t r, int64_t j0, int64_t w, double *sa, double *sb) {
    const float *dr = dy + r * channels + j0;
    const float *xr = x + r * channels + j0;
    for (int64_t j = 0; j < w; j++) {
      const int64_t c = j0 + j;
      const float d = dr[j] * reluMask(normalised(xr[j], m[c], k[c], o[c]), cap);
      sa[j] += d;
      sb[j] += double(d) * (xr[j] - mean[c]);
    }
  };
  twoChannelSums(g.rows, channels, add, s0.data(), s1.data());
  for (int64_t c = 0; c < channels; c++) {
    sumDy[c] = static_cast<float>(s0[c]);
    sumDyXc[c] = static_cast<float>(s1[c]);
  }
}

void batchNormReluGradInput(const BatchNormReluGeom &g, const float *dy, const float *x,
                            const float *mean, const float *variance, const float *scale,
                            const float *offset, const float *sumDy, const float *sumDyXc,
                            const float *dMean, const float *dVariance, float *dx, float epsilon,
                            float cap) {
  const int64_t rows = g.rows, channels = g.channels;
  const Affine a(channels, mean, variance, scale, offset, epsilon);
  // dx = k·dy' + u·x + v per channel, dy' = dy·mask: batchNormTrainGradInput's coefficients.
  std::vector<float> kDy(channels), kX(channels), bias(channels);
  for (int64_t c = 0; c < channels; c++) {
    const double r = 1.0 / std::sqrt(double(variance[c]) + epsilon);
    const double kc = scale[c] * r;
    const double u = (-kc * r * r * sumDyXc[c] + 2.0 * dVariance[c]) / double(rows);
    kDy[c] = static_cast<float>(kc);
    kX[c] = static_cast<float>(u);
    bias[c] = static_cast<float>((dMean[c] - kc * sumDy[c]) / double(rows) - u * mean[c]);
  }
  // Restrict: without it g++ versions the loop with alias checks over nine pointers, 1.2× slower.
  const float *__restrict m = a.mean.data(), *__restrict k = a.k.data(), *__restrict o = a.o.data();
  const float *__restrict p = kDy.data(), *__restrict q = kX.data(), *__restrict b = bias.data();
#pragma omp parallel for schedule(static) if (rows * channels >= parallelMinElems())
  for (int64_t r = 0; r < rows; r++) {
    const float *__restrict dyr = dy + r * channels;
    const float *__restrict xr = x + r * channels;
    float *__restrict dxr = dx + r * channels;
    for (int64_t c = 0; c < channels; c++) {
      const float d = dyr[c] * reluMask(normalised(xr[c], m[c], k[c], o[c]), cap);
      dxr[c] = p[c] * d + q[c] * xr[c] + b[c];
    }
  }
}

}  // namespace doconv
