#include "expLog.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common.h"

// g++ keeps a branch for each floating-point comparison while FP exceptions are observable
// (-ftrapping-math), and a loop with branches is not vectorised; nothing here reads the FP flags.
#if defined(__GNUC__) && !defined(__clang__)
#define DOCONV_NO_TRAPPING_MATH __attribute__((optimize("no-trapping-math")))
#else
#define DOCONV_NO_TRAPPING_MATH
#endif

namespace doconv {

namespace {

// exp(x) in double to a few ulps, rounded to float. x = k·ln2 + r with |r| ≤ ln2/2 (k by the
// 1.5·2^52 rounding trick, whose low bits then hold k), exp(r) by its Taylor series to r^13/13!
// (truncation ~2e-16), times 2^k built in the exponent bits. Inputs are clamped to [−110, 89]
// first: float's exp is 0 below −104 and ∞ above 88.8, and k stays far inside double's range.
DOCONV_NO_TRAPPING_MATH inline float expFloat(float xf) {
  double x = xf;
  x = x < -110.0 ? -110.0 : (x > 89.0 ? 89.0 : x);
  const double shifter = 6755399441055744.0;
  const double t = x * 1.4426950408889634 + shifter;
  uint64_t tBits;
  std::memcpy(&tBits, &t, sizeof tBits);
  const double k = t - shifter;
  const double r = (x - k * 0.6931471805599453094) - k * 2.3190468138462996e-17;
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  const uint64_t scaleBits = (tBits + 1023) << 52;  // the low 12 bits of tBits are k's
  double scale;
  std::memcpy(&scale, &scaleBits, sizeof scale);
  const float y = static_cast<float>(p * scale);
  return xf != xf ? xf : y;
}

// Chunks of a long loop, for threads to take whole (each chunk vectorised).
constexpr int64_t kChunk = 4096;

}  // namespace

DOCONV_NO_TRAPPING_MATH void expFloatsHere(const float *x, float *y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) y[i] = expFloat(x[i]);
}

void expFloats(const float *x, float *y, int64_t n) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (n >= parallelMinElems())
  for (int64_t c = 0; c < chunks; c++) {
    const int64_t i0 = c * kChunk;
    expFloatsHere(x + i0, y + i0, std::min(kChunk, n - i0));
  }
}

void logFloats(const float *x, float *y, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= parallelMinElems())
  for (int64_t i = 0; i < n; i++) y[i] = static_cast<float>(std::log(double(x[i])));
}

void maxRows(const ReduceGeom &g, const float *x, float *y) {
  const int64_t rows = g.rows, inner = g.inner, outer = g.outer;
#pragma omp parallel for schedule(static) if (outer * rows * inner >= parallelMinElems())
  for (int64_t o = 0; o < outer; o++) {
    const float *xo = x + o * rows * inner;
    if (inner == 1) {  // the last axis: one contiguous run per output
      float m = xo[0];
      for (int64_t r = 1; r < rows; r++) m = stickyMax(m, xo[r]);
      y[o] = m;
      continue;
    }
    float *yo = y + o * inner;
    std::memcpy(yo, xo, static_cast<size_t>(inner) * sizeof(float));
    for (int64_t r = 1; r < rows; r++) {
      const float *xr = xo + r * inner;
      for (int64_t j = 0; j < inner; j++) yo[j] = stickyMax(yo[j], xr[j]);
    }
  }
}

}  // namespace doconv
