#include "resize.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common.h"

namespace doconv {

namespace {

// in − 1 over out − 1 with alignCorners (and out > 1), else in over out: cpu's effective sizes.
double ratio(int32_t in, int32_t out, bool alignCorners) {
  const bool aligned = alignCorners && out > 1;
  return double(aligned ? in - 1 : in) / double(aligned ? out - 1 : out);
}

// Where output index i samples the input: the two neighbours and the weight of the second.
struct Tap {
  int64_t lo, hi;
  double frac;
};

Tap tapOf(int64_t i, double scale, bool halfPixel, int32_t size) {
  const double src = halfPixel ? scale * (double(i) + 0.5) - 0.5 : scale * double(i);
  const double lo = std::max(0.0, std::floor(src));
  return {static_cast<int64_t>(lo),
          std::min<int64_t>(size - 1, static_cast<int64_t>(std::ceil(src))), src - lo};
}

}  // namespace

std::string resizeGeomProblem(const ResizeGeom &g) {
  if (g.n < 0 || g.h < 1 || g.w < 1 || g.c < 0 || g.oh < 0 || g.ow < 0) {
    return "batch, channels and the output size must be ≥ 0, the image size ≥ 1";
  }
  if (resizeInElems(g) < 0 || resizeOutElems(g) < 0) return "the tensors are too large";
  return "";
}

int64_t resizeInElems(const ResizeGeom &g) { return elemsOf({g.n, g.h, g.w, g.c}); }
int64_t resizeOutElems(const ResizeGeom &g) { return elemsOf({g.n, g.oh, g.ow, g.c}); }

void resizeBilinear(const ResizeGeom &g, const float *x, float *y) {
  const double rs = ratio(g.h, g.oh, g.alignCorners), cs = ratio(g.w, g.ow, g.alignCorners);
  const int64_t c = g.c, rowElems = int64_t(g.w) * c, image = int64_t(g.h) * rowElems;
#pragma omp parallel for schedule(static) if (resizeOutElems(g) >= parallelMinElems())
  for (int64_t br = 0; br < int64_t(g.n) * g.oh; br++) {
    const int64_t b = br / g.oh, r = br % g.oh;
    const Tap row = tapOf(r, rs, g.halfPixelCenters, g.h);
    const float *top = x + b * image + row.lo * rowElems;
    const float *bottom = x + b * image + row.hi * rowElems;
    float *out = y + br * int64_t(g.ow) * c;
    for (int64_t col = 0; col < g.ow; col++) {
      const Tap t = tapOf(col, cs, g.halfPixelCenters, g.w);
      const float *tl = top + t.lo * c, *tr = top + t.hi * c;
      const float *bl = bottom + t.lo * c, *brr = bottom + t.hi * c;
      for (int64_t d = 0; d < c; d++) {
        const double up = double(tl[d]) + (double(tr[d]) - double(tl[d])) * t.frac;
        const double down = double(bl[d]) + (double(brr[d]) - double(bl[d])) * t.frac;
        out[col * c + d] = static_cast<float>(up + (down - up) * row.frac);
      }
    }
  }
}

void resizeBilinearGrad(const ResizeGeom &g, const float *dy, float *dx) {
  const double rs = ratio(g.h, g.oh, g.alignCorners), cs = ratio(g.w, g.ow, g.alignCorners);
  const int64_t c = g.c, rowElems = int64_t(g.w) * c, image = int64_t(g.h) * rowElems;
  std::memset(dx, 0, static_cast<size_t>(resizeInElems(g)) * sizeof(float));
  // One image a thread: every image's sums run in cpu's order (rows, columns, channels).
#pragma omp parallel for schedule(static) if (resizeOutElems(g) >= parallelMinElems())
  for (int64_t b = 0; b < g.n; b++) {
    const float *dyb = dy + b * int64_t(g.oh) * g.ow * c;
    float *dxb = dx + b * image;
    for (int64_t r = 0; r < g.oh; r++) {
      const Tap row = tapOf(r, rs, false, g.h);
      float *top = dxb + row.lo * rowElems, *bottom = dxb + row.hi * rowElems;
      for (int64_t col = 0; col < g.ow; col++) {
        const Tap t = tapOf(col, cs, false, g.w);
        const double wtl = (1.0 - row.frac) * (1.0 - t.frac), wtr = (1.0 - row.frac) * t.frac;
        const double wbl = row.frac * (1.0 - t.frac), wbr = row.frac * t.frac;
        const float *d = dyb + (r * g.ow + col) * c;
        float *tl = top + t.lo * c, *tr = top + t.hi * c, *bl = bottom + t.lo * c;
        float *brr = bottom + t.hi * c;
        for (int64_t k = 0; k < c; k++) {
          const double v = d[k];
          tl[k] = static_cast<float>(tl[k] + v * wtl);
          tr[k] = static_cast<float>(tr[k] + v * wtr);
          bl[k] = static_cast<float>(bl[k] + v * wbl);
          brr[k] = static_cast<float>(brr[k] + v * wbr);
        }
      }
    }
  }
}

}  // namespace doconv
