// Element-wise, so any thread count gives the same bits; a variable is split over the team only
// when it is large enough to pay for waking it (parallelMinElems(), common.h).
#include "optimizer.h"

#include <cmath>

#include "common.h"

namespace doconv {

namespace {

void adam(const float *w, const float *g, float *m, float *v, float *out, int64_t n,
          const double *p) {
  const float b1 = float(p[0]), c1 = float(p[1]), b2 = float(p[2]), c2 = float(p[3]);
  const float eps = float(p[4]), step = float(p[5]);
#pragma omp parallel for schedule(static) if (n >= parallelMinElems())
  for (int64_t i = 0; i < n; i++) {
    const float gi = g[i];
    const float mi = m[i] * b1 + gi * c1;
    const float vi = v[i] * b2 + (gi * gi) * c2;
    m[i] = mi;
    v[i] = vi;
    out[i] = w[i] - (mi / (std::sqrt(vi) + eps)) * step;
  }
}

void sgd(const float *w, const float *g, float *velocity, float *out, int64_t n, const double *p) {
  const float lr = float(p[0]);
  if (velocity == nullptr) {
#pragma omp parallel for schedule(static) if (n >= parallelMinElems())
    for (int64_t i = 0; i < n; i++) out[i] = w[i] - g[i] * lr;
    return;
  }
  const float mu = float(p[1]);
#pragma omp parallel for schedule(static) if (n >= parallelMinElems())
  for (int64_t i = 0; i < n; i++) {
    const float s = velocity[i] * mu + g[i];
    velocity[i] = s;
    out[i] = w[i] - s * lr;
  }
}

}  // namespace

int optimizerOperands(int32_t kind) {
  switch (kind) {
    case kAdam: return 5;
    case kSgd: return 3;
    case kSgdMomentum: return 4;
    default: return 0;
  }
}

int optimizerParams(int32_t kind) {
  switch (kind) {
    case kAdam: return 6;
    case kSgd: return 1;
    case kSgdMomentum: return 2;
    default: return 0;
  }
}

void optimizerStep(int32_t kind, const std::vector<float *> &operands,
                   const std::vector<int64_t> &sizes, const double *params) {
  const int k = optimizerOperands(kind);
  for (size_t i = 0; i < sizes.size(); i++) {
    float *const *t = operands.data() + i * k;
    if (kind == kAdam)
      adam(t[0], t[1], t[2], t[3], t[4], sizes[i], params);
    else if (kind == kSgdMomentum)
      sgd(t[0], t[1], t[2], t[3], sizes[i], params);
    else
      sgd(t[0], t[1], nullptr, t[2], sizes[i], params);
  }
}

}  // namespace doconv
