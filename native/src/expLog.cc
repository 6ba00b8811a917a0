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
// exp(x) in double, x already clamped to [−110, 89].
DOCONV_NO_TRAPPING_MATH inline double expClamped(double x) {
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
  return p * scale;
}

DOCONV_NO_TRAPPING_MATH inline float expFloat(float xf) {
  double x = xf;
  x = x < -110.0 ? -110.0 : (x > 89.0 ? 89.0 : x);
  const float y = static_cast<float>(expClamped(x));
  return xf != xf ? xf : y;
}

// tanh(x) in double to ~1e-14 relative, for |x| finite: its odd Taylor series to x^15 below
// 1/16 (truncation < 1e-20 relative there), (1 − e)/(1 + e) with e = exp(−2|x|) above (1 − e ≥
// 0.117, so e's few ulps grow at most ~8×).
DOCONV_NO_TRAPPING_MATH inline double tanhClose(double x) {
  const double a = x < 0 ? -x : x;
  const double a2 = a * a;
  double p = -929569.0 / 638512875.0;
  p = p * a2 + 21844.0 / 6081075.0;
  p = p * a2 - 1382.0 / 155925.0;
  p = p * a2 + 62.0 / 2835.0;
  p = p * a2 - 17.0 / 315.0;
  p = p * a2 + 2.0 / 15.0;
  p = p * a2 - 1.0 / 3.0;
  const double small = a + a * (a2 * p);
  const double e = expClamped(-2.0 * (a > 20.0 ? 20.0 : a));
  const double large = (1.0 - e) / (1.0 + e);
  const double t = a < 0.0625 ? small : large;
  return std::copysign(t, x);  // tanh is odd; −0 stays −0
}

// Chunks of a long loop, for threads to take whole (each chunk vectorised).
constexpr int64_t kChunk = 4096;

// `here(x, y, m)` over [0, n) in chunks of kChunk, shared among threads past the work threshold.
template <typename Here>
void inChunks(const float *x, float *y, int64_t n, Here here) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (n >= parallelMinElems())
  for (int64_t c = 0; c < chunks; c++) {
    const int64_t i0 = c * kChunk;
    here(x + i0, y + i0, std::min(kChunk, n - i0));
  }
}

}  // namespace

DOCONV_NO_TRAPPING_MATH void expFloatsHere(const float *x, float *y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) y[i] = expFloat(x[i]);
}

void expFloats(const float *x, float *y, int64_t n) { inChunks(x, y, n, expFloatsHere); }

// The float nearest tanh(x), as libm's tanh rounded to float gives it: tanhClose's value t is
// within 1e-14 of tanh(x) relative, libm's within a few ulps of double; where t·(1 ± 1e-12)
// round to the same float, so do both, and that float is the answer; elsewhere (a value near
// a rounding boundary, a few in 10^5, and NaN or ±∞) libm's tanh decides. libm's tanh per element
// cost ~17 ns: LeNet's tanh layers took a third of its training step.
DOCONV_NO_TRAPPING_MATH void tanhFloatsHere(const float *x, float *y, int64_t n) {
  constexpr int64_t kBlock = 256;
  unsigned char unsure[kBlock];
  for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const int64_t m = std::min(kBlock, n - i0);
#pragma omp simd
    for (int64_t i = 0; i < m; i++) {
      const float xf = x[i0 + i];
      const double t = tanhClose(xf);
      const float lo = static_cast<float>(t * (1.0 - 1e-12));
      const float hi = static_cast<float>(t * (1.0 + 1e-12));
      const bool finite = xf - xf == 0.0f;  // false for NaN and ±∞
      unsure[i] = !(finite && lo == hi);
      y[i0 + i] = lo;
    }
    for (int64_t i = 0; i < m; i++) {
      if (unsure[i]) y[i0 + i] = static_cast<float>(std::tanh(double(x[i0 + i])));
    }
  }
}

void tanhFloats(const float *x, float *y, int64_t n) { inChunks(x, y, n, tanhFloatsHere); }

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
