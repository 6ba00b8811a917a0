#include "softmax.h"

#include <algorithm>
#include <cmath>

#include "common.h"
#include "expLog.h"

namespace doconv {

std::string softmaxGeomProblem(const SoftmaxGeom &g) {
  if (g.rows < 0 || g.classes < 1) return "rows must be ≥ 0 and classes ≥ 1";
  if (softmaxElems(g) < 0) return "rows · classes is too large";
  return "";
}

int64_t softmaxElems(const SoftmaxGeom &g) { return elemsOf({g.rows, g.classes}); }

void softmaxCrossEntropy(const SoftmaxGeom &g, const float *labels, const float *logits,
                         float *loss, float *softmax) {
  const int64_t c = g.classes;
  // Blocks of rows: exp runs over a whole block at once (one long vectorised loop; a segmentation
  // net's rows hold ~10 classes, too short a loop each).
  constexpr int64_t kBlockRows = 512;
  const int64_t blocks = (int64_t(g.rows) + kBlockRows - 1) / kBlockRows;
#pragma omp parallel for schedule(static) if (softmaxElems(g) >= parallelMinElems())
  for (int64_t blk = 0; blk < blocks; blk++) {
    const int64_t r0 = blk * kBlockRows, r1 = std::min<int64_t>(g.rows, r0 + kBlockRows);
    float maxes[kBlockRows];
    for (int64_t r = r0; r < r1; r++) {
      const float *x = logits + r * c;
      float m = x[0];
      for (int64_t j = 1; j < c; j++) m = stickyMax(m, x[j]);
      maxes[r - r0] = m;
      // exp(x − m) ≤ 1 (no overflow); m = ±∞ or NaN leaves NaNs, as TF.js's op does.
      float *p = softmax + r * c;
      for (int64_t j = 0; j < c; j++) p[j] = x[j] - m;
    }
    expFloatsHere(softmax + r0 * c, softmax + r0 * c, (r1 - r0) * c);
    for (int64_t r = r0; r < r1; r++) {
      const float *x = logits + r * c;
      const float *l = labels + r * c;
      float *p = softmax + r * c;
      double sum = 0;
      for (int64_t j = 0; j < c; j++) sum += p[j];
      const double lse = double(maxes[r - r0]) + std::log(sum);
      double rowLoss = 0;
      for (int64_t j = 0; j < c; j++) {
        p[j] = static_cast<float>(p[j] / sum);
        rowLoss += double(l[j]) * (lse - double(x[j]));
      }
      loss[r] = static_cast<float>(rowLoss);
    }
  }
}

void softmaxCrossEntropyGrad(const SoftmaxGeom &g, const float *dy, const float *softmax,
                             const float *labels, float *dLogits) {
  const int64_t c = g.classes;
#pragma omp parallel for schedule(static) if (softmaxElems(g) >= parallelMinElems())
  for (int64_t r = 0; r < g.rows; r++) {
    const float *p = softmax + r * c;
    const float *l = labels + r * c;
    float *dx = dLogits + r * c;
    double labelSum = 0;
    for (int64_t j = 0; j < c; j++) labelSum += l[j];
    const double d = dy[r];
    for (int64_t j = 0; j < c; j++) dx[j] = static_cast<float>(d * (p[j] * labelSum - l[j]));
  }
}

void softmaxRows(const SoftmaxGeom &g, const float *logits, float *y) {
  const int64_t c = g.classes;
  constexpr int64_t kBlockRows = 512;  // exp over a block of rows at once, as above
  const int64_t blocks = (int64_t(g.rows) + kBlockRows - 1) / kBlockRows;
#pragma omp parallel for schedule(static) if (softmaxElems(g) >= parallelMinElems())
  for (int64_t blk = 0; blk < blocks; blk++) {
    const int64_t r0 = blk * kBlockRows, r1 = std::min<int64_t>(g.rows, r0 + kBlockRows);
    for (int64_t r = r0; r < r1; r++) {
      const float *x = logits + r * c;
      float m = x[0];
      for (int64_t j = 1; j < c; j++) m = stickyMax(m, x[j]);
      float *p = y + r * c;
      for (int64_t j = 0; j < c; j++) p[j] = x[j] - m;
    }
    expFloatsHere(y + r0 * c, y + r0 * c, (r1 - r0) * c);
    for (int64_t r = r0; r < r1; r++) {
      // cpu's Sum adds in double and stores float32; its RealDiv divides by that float32
      float *p = y + r * c;
      double sum = 0;
      for (int64_t j = 0; j < c; j++) sum += p[j];
      const float s = static_cast<float>(sum);
      for (int64_t j = 0; j < c; j++) p[j] = p[j] / s;
    }
  }
}

}  // namespace doconv
