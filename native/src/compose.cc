// Plain loops, one thread: a composition is at most ~10⁶ multiply-adds (ResNet-20: C, F ≤ 64,
// M·N = dMul = 9), less than waking a thread team costs. Inner loops run over the contiguous
// filter axis so they vectorise.
#include "compose.h"

#include <cstring>

namespace doconv {

std::string composeGeomProblem(const ComposeGeom &g) {
  if (g.area < 1 || g.dMul < 1 || g.channels < 1 || g.filters < 1) {
    return "area, dMul, channels and filters must be ≥ 1";
  }
  return "";
}

int64_t composeDElems(const ComposeGeom &g) { return int64_t(g.area) * g.dMul * g.channels; }
int64_t composeWElems(const ComposeGeom &g) { return int64_t(g.dMul) * g.channels * g.filters; }
int64_t composeKElems(const ComposeGeom &g) { return int64_t(g.area) * g.channels * g.filters; }

void compose(const ComposeGeom &g, const float *d, const float *diag, const float *w, float *k) {
  const int64_t C = g.channels, F = g.filters, S = g.dMul;
  std::memset(k, 0, composeKElems(g) * sizeof(float));
  for (int64_t m = 0; m < g.area; m++) {
    for (int64_t j = 0; j < C; j++) {
      float *kRow = k + (m * C + j) * F;
      for (int64_t s = 0; s < S; s++) {
        const int64_t at = (m * S + s) * C + j;
        const float dv = d[at] + diag[at];
        const float *wRow = w + (s * C + j) * F;
        for (int64_t o = 0; o < F; o++) kRow[o] += dv * wRow[o];
      }
    }
  }
}

void composeGrad(const ComposeGeom &g, const float *dk, const float *d, const float *diag,
                 const float *w, float *dd, float *dw) {
  const int64_t C = g.channels, F = g.filters, S = g.dMul;
  std::memset(dw, 0, composeWElems(g) * sizeof(float));
  for (int64_t m = 0; m < g.area; m++) {
    for (int64_t s = 0; s < S; s++) {
      for (int64_t j = 0; j < C; j++) {
        const float *dkRow = dk + (m * C + j) * F;
        const float *wRow = w + (s * C + j) * F;
        float *dwRow = dw + (s * C + j) * F;
        const float dv = d[(m * S + s) * C + j] + diag[(m * S + s) * C + j];
        float dot = 0;
        for (int64_t o = 0; o < F; o++) {
          dot += dkRow[o] * wRow[o];
          dwRow[o] += dv * dkRow[o];
        }
        dd[(m * S + s) * C + j] = dot;
      }
    }
  }
}

}  // namespace doconv
