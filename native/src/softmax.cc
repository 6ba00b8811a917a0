#include "softmax.h"

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
#pragma omp parallel for schedule(static) if (softmaxElems(g) >= parallelMinElems())
  for (int64_t r = 0; r < g.rows; r++) {
    const float *x = logits + r * c;
    const float *l = labels + r * c;
    float *p = softmax + r * c;
    float m = x[0];
    for (int64_t j = 1; j < c; j++) m = (x[j] != x[j] || x[j] > m) ? x[j] : m;
    // exp(x − m) ≤ 1 (no overflow); m = ±∞ or NaN leaves NaNs, as TF.js's op does.
    for (int64_t j = 0; j < c; j++) p[j] = x[j] - m;
    expFloats(p, p, c);
    double sum = 0;
    for (int64_t j = 0; j < c; j++) sum += p[j];
    const double lse = double(m) + std::log(sum);
    double rowLoss = 0;
    for (int64_t j = 0; j < c; j++) {
      p[j] = static_cast<float>(p[j] / sum);
      rowLoss += double(l[j]) * (lse - double(x[j]));
    }
    loss[r] = static_cast<float>(rowLoss);
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

}  // namespace doconv
