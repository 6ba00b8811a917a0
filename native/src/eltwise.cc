// Hand-written OpenMP loops rather than oneDNN's binary / eltwise / reduction primitives: each op
// here is one memory-bound loop over NHWC data, and TF.js calls them with many shapes and
// broadcast patterns per step; a primitive per (op, shape, pattern) would add descriptor caching
// and a blocked-layout reorder for no gain. The loops are written so g++ vectorises them.
#include "eltwise.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "channelSums.h"
#include "common.h"
#include "expLog.h"

namespace doconv {

namespace {

template <int OP>
inline float apply(float a, float b) {
  if constexpr (OP == kAdd) return a + b;
  if constexpr (OP == kSub) return a - b;
  if constexpr (OP == kMul) return a * b;
  return a / b;
}

// Operand value at row r, channel j, for its mode (the row pointer of a full operand given).
template <int MODE>
inline float at(const float *row, const float *base, int64_t r, int64_t j) {
  if constexpr (MODE == kFull) return row[j];
  if constexpr (MODE == kPerChannel) return base[j];
  if constexpr (MODE == kPerRow) return base[r];
  return base[0];
}

constexpr bool byRow(int mode) { return mode == kPerChannel || mode == kPerRow; }

template <int OP, int AM, int BM>
void binaryLoop(int64_t rows, int64_t channels, const float *a, const float *b, float *y) {
  const int64_t n = rows * channels;
  if constexpr (!byRow(AM) && !byRow(BM)) {
    const float a0 = a[0], b0 = b[0];
#pragma omp parallel for schedule(static) if (n >= parallelMinElems())
    for (int64_t i = 0; i < n; i++) {
      y[i] = apply<OP>(AM == kFull ? a[i] : a0, BM == kFull ? b[i] : b0);
    }
  } else {
#pragma omp parallel for schedule(static) if (n >= parallelMinElems())
    for (int64_t r = 0; r < rows; r++) {
      const float *ar = a + r * channels;
      const float *br = b + r * channels;
      float *yr = y + r * channels;
      for (int64_t j = 0; j < channels; j++) {
        yr[j] = apply<OP>(at<AM>(ar, a, r, j), at<BM>(br, b, r, j));
      }
    }
  }
}

template <int OP, int AM>
void binaryB(const BinaryGeom &g, const float *a, const float *b, float *y) {
  switch (g.bMode) {
    case kFull: return binaryLoop<OP, AM, kFull>(g.rows, g.channels, a, b, y);
    case kScalar: return binaryLoop<OP, AM, kScalar>(g.rows, g.channels, a, b, y);
    case kPerRow: return binaryLoop<OP, AM, kPerRow>(g.rows, g.channels, a, b, y);
    default: return binaryLoop<OP, AM, kPerChannel>(g.rows, g.channels, a, b, y);
  }
}

template <int OP>
void binaryA(const BinaryGeom &g, const float *a, const float *b, float *y) {
  switch (g.aMode) {
    case kFull: return binaryB<OP, kFull>(g, a, b, y);
    case kScalar: return binaryB<OP, kScalar>(g, a, b, y);
    case kPerRow: return binaryB<OP, kPerRow>(g, a, b, y);
    default: return binaryB<OP, kPerChannel>(g, a, b, y);
  }
}

bool validMode(int32_t m) { return m == kFull || m == kScalar || m == kPerChannel || m == kPerRow; }

// Σ of n floats in double, 8 independent lanes (the loop vectorises; order fixed by n).
double sumRange(const float *x, int64_t n) {
  double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int l = 0; l < 8; l++) lane[l] += x[i + l];
  }
  double s = 0;
  for (int l = 0; l < 8; l++) s += lane[l];
  for (; i < n; i++) s += x[i];
  return s;
}

}  // namespace

std::string binaryGeomProblem(const BinaryGeom &g) {
  if (g.op < kAdd || g.op > kDiv) return "unknown op " + std::to_string(g.op);
  if (g.rows < 0 || g.channels < 1) return "rows must be ≥ 0 and channels ≥ 1";
  if (!validMode(g.aMode) || !validMode(g.bMode)) return "operand modes must be 0, 1 or 2";
  return "";
}

int64_t operandElems(int32_t mode, const BinaryGeom &g) {
  if (mode == kFull) return int64_t(g.rows) * g.channels;
  if (mode == kPerRow) return g.rows;
  return mode == kScalar ? 1 : g.channels;
}

void binary(const BinaryGeom &g, const float *a, const float *b, float *y) {
  switch (g.op) {
    case kAdd: return binaryA<kAdd>(g, a, b, y);
    case kSub: return binaryA<kSub>(g, a, b, y);
    case kMul: return binaryA<kMul>(g, a, b, y);
    default: return binaryA<kDiv>(g, a, b, y);
  }
}

std::string unaryGeomProblem(const UnaryGeom &g) {
  if (g.op < kUnaryRelu || g.op > kUnaryLog) return "unknown op " + std::to_string(g.op);
  if (g.size < 0) return "size must be ≥ 0";
  return "";
}

void unary(const UnaryGeom &g, const float *x, float *y, float alpha) {
  const int64_t n = g.size;
  const bool par = n >= parallelMinElems();
  switch (g.op) {
    case kUnaryRelu:
      // x < 0 is false for NaN: NaN passes through, as in TF.js, so non-finite checks still see it.
#pragma omp parallel for schedule(static) if (par)
      for (int64_t i = 0; i < n; i++) y[i] = x[i] < 0 ? 0.0f : x[i];
      return;
    case kUnaryStep:
#pragma omp parallel for schedule(static) if (par)
      for (int64_t i = 0; i < n; i++) y[i] = x[i] != x[i] ? x[i] : (x[i] > 0 ? 1.0f : alpha);
      return;
    case kUnarySquare:
#pragma omp parallel for schedule(static) if (par)
      for (int64_t i = 0; i < n; i++) y[i] = x[i] * x[i];
      return;
    case kUnaryExp:
      // What TF.js's Math.exp stored in a Float32Array gives.
      return expFloats(x, y, n);
    case kUnaryLog: return logFloats(x, y, n);
    case kUnaryTanh: return tanhFloats(x, y, n);
    default:
#pragma omp parallel for schedule(static) if (par)
      for (int64_t i = 0; i < n; i++) y[i] = -x[i];
      return;
  }
}

std::string reduceGeomProblem(const ReduceGeom &g) {
  if (g.rows < 0 || g.inner < 0 || g.outer < 0) return "rows, inner and outer must be ≥ 0";
  if (elemsOf({g.outer, g.rows, g.inner}) < 0) return "outer · rows · inner is too large";
  return "";
}

// Σ over rows [r0, r1) of x[r, j0 .. j0+w) into acc (w ≤ kChannelTile, channelSums.h).
void sumColumns(const float *x, int64_t inner, int64_t r0, int64_t r1, int64_t j0, int64_t w,
                double *out) {
  double acc[kChannelTile] = {};
  for (int64_t r = r0; r < r1; r++) {
    const float *xr = x + r * inner + j0;
    for (int64_t j = 0; j < w; j++) acc[j] += xr[j];
  }
  for (int64_t j = 0; j < w; j++) out[j] = acc[j];
}

// Several outer blocks: each thread sums whole blocks, so no partials are shared.
void reduceOuterBlocks(const ReduceGeom &g, const float *x, float *y, double scale) {
  const int64_t rows = g.rows, inner = g.inner, outer = g.outer;
#pragma omp parallel for schedule(static) if (outer * rows * inner >= parallelMinElems())
  for (int64_t o = 0; o < outer; o++) {
    const float *xo = x + o * rows * inner;
    if (inner == 1) {  // the last axis (softmax's sums): one contiguous run per output
      double sum = 0;
      for (int64_t r = 0; r < rows; r++) sum += xo[r];
      y[o] = static_cast<float>(sum * scale);
      continue;
    }
    double acc[kChannelTile];
    for (int64_t j0 = 0; j0 < inner; j0 += kChannelTile) {
      const int64_t w = std::min(kChannelTile, inner - j0);
      sumColumns(xo, inner, 0, rows, j0, w, acc);
      for (int64_t j = 0; j < w; j++) y[o * inner + j0 + j] = static_cast<float>(acc[j] * scale);
    }
  }
}

void reduceRows(const ReduceGeom &g, const float *x, float *y, double scale) {
  if (g.outer != 1) {
    reduceOuterBlocks(g, x, y, scale);
    return;
  }
  const int64_t rows = g.rows, inner = g.inner;
  BlockPartials p(rows, inner, 1);
#pragma omp parallel for schedule(static) if (p.blocks() > 1)
  for (int64_t blk = 0; blk < p.blocks(); blk++) {
    const int64_t r0 = p.firstRow(blk), r1 = p.firstRow(blk + 1);
    double *acc = p.at(blk, 0);
    if (inner == 1) {
      acc[0] = sumRange(x + r0, r1 - r0);
      continue;
    }
    for (int64_t j0 = 0; j0 < inner; j0 += kChannelTile) {
      sumColumns(x, inner, r0, r1, j0, std::min(kChannelTile, inner - j0), acc + j0);
    }
  }
  for (int64_t j = 0; j < inner; j++) y[j] = static_cast<float>(p.total(0, j) * scale);
}

void concatBlocks(int64_t outer, const int64_t *inner, int parts, const float *const *src,
                  float *dst) {
  int64_t row = 0;
  for (int i = 0; i < parts; i++) row += inner[i];
#pragma omp parallel for schedule(static) if (outer * row >= parallelMinElems())
  for (int64_t r = 0; r < outer; r++) {
    float *out = dst + r * row;
    for (int i = 0; i < parts; i++) {
      std::memcpy(out, src[i] + r * inner[i], inner[i] * sizeof(float));
      out += inner[i];
    }
  }
}

void splitBlocks(int64_t outer, const int64_t *inner, int parts, const float *src,
                 float *const *dst) {
  int64_t row = 0;
  for (int i = 0; i < parts; i++) row += inner[i];
#pragma omp parallel for schedule(static) if (outer * row >= parallelMinElems())
  for (int64_t r = 0; r < outer; r++) {
    const float *in = src + r * row;
    for (int i = 0; i < parts; i++) {
      std::memcpy(dst[i] + r * inner[i], in, inner[i] * sizeof(float));
      in += inner[i];
    }
  }
}

std::string reluGradGeomProblem(const ReluGradGeom &g) {
  return g.size < 0 ? "size must be ≥ 0" : "";
}

void reluGrad(const ReluGradGeom &g, const float *dy, const float *x, float *dx) {
  const int64_t n = g.size;
#pragma omp parallel for schedule(static) if (n >= parallelMinElems())
  for (int64_t i = 0; i < n; i++) {
    const float step = x[i] != x[i] ? x[i] : (x[i] > 0 ? 1.0f : 0.0f);
    dx[i] = dy[i] * step;
  }
}

void addRelu(const ReluGradGeom &g, const float *a, const float *b, float *y) {
  const int64_t n = g.size;
#pragma omp parallel for schedule(static) if (n >= parallelMinElems())
  for (int64_t i = 0; i < n; i++) {
    const float s = a[i] + b[i];
    y[i] = s < 0 ? 0.0f : s;
  }
}

std::string clipGeomProblem(const ClipGeom &g) {
  if (g.size < 0) return "size must be ≥ 0";
  if (g.mode != kClipWhere && g.mode != kClipMask) return "unknown mode " + std::to_string(g.mode);
  return "";
}

void clip(const ClipGeom &g, const float *x, float *y, float lo, float hi) {
  const int64_t n = g.size;
#pragma omp parallel for schedule(static) if (n >= parallelMinElems())
  for (int64_t i = 0; i < n; i++) y[i] = x[i] > hi ? hi : (x[i] < lo ? lo : x[i]);
}

void clipGrad(const ClipGeom &g, const float *dy, const float *x, float *dx, float lo, float hi) {
  const int64_t n = g.size;
  if (g.mode == kClipWhere) {
#pragma omp parallel for schedule(static) if (n >= parallelMinElems())
    for (int64_t i = 0; i < n; i++) dx[i] = x[i] >= lo && x[i] <= hi ? dy[i] : 0.0f;
    return;
  }
#pragma omp parallel for schedule(static) if (n >= parallelMinElems())
  for (int64_t i = 0; i < n; i++) {
    const float mask = x[i] != x[i] ? x[i] : (x[i] > lo && x[i] <= hi ? 1.0f : 0.0f);
    dx[i] = dy[i] * mask;
  }
}

std::string channelSumsGeomProblem(const ChannelSumsGeom &g) {
  return g.rows < 0 || g.channels < 0 ? "rows and channels must be ≥ 0" : "";
}

void batchNormGradSums(const ChannelSumsGeom &g, const float *dy, const float *x, const float *mean,
                       float *sumDy, float *sumDyXc) {
  const int64_t channels = g.channels;
  std::vector<double> a(channels), b(channels);
  const auto add = [&](int64_t r, int64_t j0, int64_t w, double *sa, double *sb) {
    const float *dr = dy + r * channels + j0;
    const float *xr = x + r * channels + j0;
    for (int64_t j = 0; j < w; j++) {
      sa[j] += dr[j];
      sb[j] += double(dr[j]) * (xr[j] - mean[j0 + j]);
    }
  };
  twoChannelSums(g.rows, channels, add, a.data(), b.data());
  for (int64_t c = 0; c < channels; c++) {
    sumDy[c] = static_cast<float>(a[c]);
    sumDyXc[c] = static_cast<float>(b[c]);
  }
}

void batchNormStats(const ChannelSumsGeom &g, const float *x, float *mean, float *variance) {
  const int64_t rows = g.rows, channels = g.channels;
  std::vector<double> sum(channels), squares(channels);
  const auto add = [&](int64_t r, int64_t j0, int64_t w, double *sa, double *sb) {
    const float *xr = x + r * channels + j0;
    for (int64_t j = 0; j < w; j++) {
      sa[j] += xr[j];
      sb[j] += double(xr[j]) * xr[j];
    }
  };
  twoChannelSums(rows, channels, add, sum.data(), squares.data());
  for (int64_t c = 0; c < channels; c++) {
    const double mu = sum[c] / double(rows);
    mean[c] = static_cast<float>(mu);
    variance[c] = static_cast<float>(std::max(0.0, squares[c] / double(rows) - mu * mu));
  }
}

std::string batchNormGradGeomProblem(const BatchNormGradGeom &g) {
  if (g.rows < 1 || g.channels < 1) return "rows and channels must be ≥ 1";
  return "";
}

void batchNormTrainGradInput(const BatchNormGradGeom &g, const float *dy, const float *x,
                             const float *mean, const float *variance, const float *scale,
                             const float *sumDy, const float *sumDyXc, const float *dMean,
                             const float *dVariance, float *dx, float epsilon) {
  const int64_t rows = g.rows, channels = g.channels;
  // dx = k·dy − k·Σdy/rows − k·r²·Σdy(x−μ)/rows · (x − μ) + dMean/rows + 2·dVar/rows · (x − μ)
  //    = k·dy + u·x + v per channel.
  std::vector<float> kDy(channels), kX(channels), bias(channels);
  for (int64_t c = 0; c < channels; c++) {
    const double r = 1.0 / std::sqrt(double(variance[c]) + epsilon);
    const double k = (g.hasScale ? scale[c] : 1.0) * r;
    const double u = (-k * r * r * sumDyXc[c] + 2.0 * dVariance[c]) / double(rows);
    kDy[c] = static_cast<float>(k);
    kX[c] = static_cast<float>(u);
    bias[c] = static_cast<float>((dMean[c] - k * sumDy[c]) / double(rows) - u * mean[c]);
  }
  const float *a = kDy.data(), *b = kX.data(), *o = bias.data();
#pragma omp parallel for schedule(static) if (rows * channels >= parallelMinElems())
  for (int64_t r = 0; r < rows; r++) {
    const float *dyr = dy + r * channels;
    const float *xr = x + r * channels;
    float *dxr = dx + r * channels;
    for (int64_t c = 0; c < channels; c++) dxr[c] = a[c] * dyr[c] + b[c] * xr[c] + o[c];
  }
}

std::string boxGeomProblem(const BoxGeom &g) {
  if (g.rank < 1 || g.rank > kMaxBoxRank) return "rank must be 1 to " + std::to_string(kMaxBoxRank);
  for (int i = 0; i < g.rank; i++) {
    if (g.big[i] < 0 || g.box[i] < 0 || g.at[i] < 0 || int64_t(g.at[i]) + g.box[i] > g.big[i]) {
      return "dimension " + std::to_string(i) + ": the box [" + std::to_string(g.at[i]) + ", +" +
             std::to_string(g.box[i]) + ") must lie in 0.." + std::to_string(g.big[i]);
    }
  }
  if (boxBigElems(g) < 0) return "the tensor has more than 2^48 elements";
  return "";
}

int64_t boxElems(const BoxGeom &g) {
  int64_t n = 1;
  for (int i = 0; i < g.rank; i++) n *= g.box[i];  // ≤ boxBigElems, checked first
  return n;
}

int64_t boxBigElems(const BoxGeom &g) {
  int64_t n = 1;
  for (int i = 0; i < g.rank; i++) {
    n = elemsOf({n, g.big[i]});
    if (n < 0) return -1;
  }
  return n;
}

void boxCopy(const BoxGeom &g, float *big, float *small) {
  // Collapse first: a dimension the box spans whole joins the one outside it (their rows are
  // contiguous in both tensors), so a copy runs whole rows, not elements. Without it, ZeroPadding2D
  // of a one-channel image ([32, 28, 28, 1], the PyTorch MNIST sample's input) was 25 088 copies of
  // one float, each with its index arithmetic: 290 µs for 100 KB (now ~10 µs).
  int64_t bigDims[kMaxBoxRank], boxDims[kMaxBoxRank], atDims[kMaxBoxRank];  // innermost first
  int r = 0;
  int64_t cb = g.big[g.rank - 1], cx = g.box[g.rank - 1], ca = g.at[g.rank - 1];
  for (int i = g.rank - 2; i >= 0; i--) {
    if (cx == cb) {  // whole (so ca = 0): dimension i's rows are runs of cb elements
      ca = int64_t(g.at[i]) * cb;
      cx = int64_t(g.box[i]) * cb;
      cb = int64_t(g.big[i]) * cb;
    } else {
      bigDims[r] = cb, boxDims[r] = cx, atDims[r] = ca, r++;
      cb = g.big[i], cx = g.box[i], ca = g.at[i];
    }
  }
  bigDims[r] = cb, boxDims[r] = cx, atDims[r] = ca, r++;
  int64_t stride[kMaxBoxRank];
  stride[0] = 1;
  for (int i = 1; i < r; i++) stride[i] = stride[i - 1] * bigDims[i - 1];
  int64_t base = 0, rows = 1;
  for (int i = 0; i < r; i++) base += atDims[i] * stride[i];
  for (int i = 1; i < r; i++) rows *= boxDims[i];
  const int64_t run = boxDims[0];
  const bool toBig = g.toBig != 0;
  // One contiguous run of the innermost (collapsed) dimension per row of the box.
#pragma omp parallel for schedule(static) if (rows * run >= parallelMinElems())
  for (int64_t q = 0; q < rows; q++) {
    int64_t rest = q, offset = base;
    for (int i = 1; i < r; i++) {
      offset += (rest % boxDims[i]) * stride[i];
      rest /= boxDims[i];
    }
    float *b = big + offset;
    float *s = small + q * run;
    if (toBig) {
      std::memcpy(b, s, run * sizeof(float));
    } else {
      std::memcpy(s, b, run * sizeof(float));
    }
  }
}

std::string poolGeomProblem(const PoolGeom &g) {
  if (g.batch < 0 || g.inH < 0 || g.inW < 0 || g.channels < 0 || g.outH < 0 || g.outW < 0) {
    return "sizes must be ≥ 0";
  }
  if (g.filterH < 1 || g.filterW < 1 || g.strideH < 1 || g.strideW < 1) {
    return "filter and strides must be ≥ 1";
  }
  if (g.padTop < 0 || g.padLeft < 0) return "padding must be ≥ 0";
  if (poolInElems(g) < 0 || poolOutElems(g) < 0) return "a tensor has more than 2^48 elements";
  return "";
}

int64_t poolInElems(const PoolGeom &g) { return elemsOf({g.batch, g.inH, g.inW, g.channels}); }
int64_t poolOutElems(const PoolGeom &g) { return elemsOf({g.batch, g.outH, g.outW, g.channels}); }

namespace {

// The input rows [r0, r1) and columns [c0, c1) of output (oh, ow)'s window, clipped to the input.
struct Window {
  int64_t r0, r1, c0, c1;
};
Window windowOf(const PoolGeom &g, int64_t oh, int64_t ow) {
  const int64_t r = oh * g.strideH - g.padTop, c = ow * g.strideW - g.padLeft;
  return {std::max<int64_t>(r, 0), std::min<int64_t>(r + g.filterH, g.inH), std::max<int64_t>(c, 0),
          std::min<int64_t>(c + g.filterW, g.inW)};
}

// Per channel: the first strictly greatest value of the window and where it is (−1: none).
void windowMax(const PoolGeom &g, const float *xn, const Window &w, float *best, int64_t *at) {
  const int64_t C = g.channels;
  std::fill(best, best + C, -std::numeric_limits<float>::infinity());
  std::fill(at, at + C, int64_t(-1));
  for (int64_t r = w.r0; r < w.r1; r++) {
    for (int64_t c = w.c0; c < w.c1; c++) {
      const int64_t offset = (r * g.inW + c) * C;
      const float *px = xn + offset;
      for (int64_t ch = 0; ch < C; ch++) {
        if (px[ch] > best[ch]) {
          best[ch] = px[ch];
          at[ch] = offset + ch;
        }
      }
    }
  }
}

}  // namespace

void maxPool(const PoolGeom &g, const float *x, float *y) {
  const int64_t C = g.channels, inImage = int64_t(g.inH) * g.inW * C;
  const int64_t outImage = int64_t(g.outH) * g.outW * C;
#pragma omp parallel for schedule(static) if (g.batch * outImage >= parallelMinElems())
  for (int64_t n = 0; n < g.batch; n++) {
    std::vector<int64_t> at(C);
    for (int64_t oh = 0; oh < g.outH; oh++) {
      for (int64_t ow = 0; ow < g.outW; ow++) {
        float *yo = y + n * outImage + (oh * g.outW + ow) * C;
        windowMax(g, x + n * inImage, windowOf(g, oh, ow), yo, at.data());
      }
    }
  }
}

void maxPoolGrad(const PoolGeom &g, const float *x, const float *dy, float *dx) {
  const int64_t C = g.channels, inImage = int64_t(g.inH) * g.inW * C;
  const int64_t outImage = int64_t(g.outH) * g.outW * C;
  // One image per thread: each writes only its own dx, in a fixed order.
#pragma omp parallel for schedule(static) if (g.batch * inImage >= parallelMinElems())
  for (int64_t n = 0; n < g.batch; n++) {
    float *dxn = dx + n * inImage;
    std::fill(dxn, dxn + inImage, 0.0f);
    std::vector<float> best(C);
    std::vector<int64_t> at(C);
    for (int64_t oh = 0; oh < g.outH; oh++) {
      for (int64_t ow = 0; ow < g.outW; ow++) {
        windowMax(g, x + n * inImage, windowOf(g, oh, ow), best.data(), at.data());
        const float *dyo = dy + n * outImage + (oh * g.outW + ow) * C;
        for (int64_t ch = 0; ch < C; ch++) {
          if (at[ch] >= 0) dxn[at[ch]] += dyo[ch];
        }
      }
    }
  }
}

std::string tileGeomProblem(const TileGeom &g) {
  if (g.block < 0 || g.repeats < 0 || g.outer < 0) return "block, repeats and outer must be ≥ 0";
  if (elemsOf({g.outer, g.repeats, g.block}) < 0) return "outer · repeats · block is too large";
  return "";
}

void tile(const TileGeom &g, const float *x, float *y) {
  const int64_t block = g.block, repeats = g.repeats, copies = g.outer * repeats;
#pragma omp parallel for schedule(static) if (block * copies >= parallelMinElems())
  for (int64_t c = 0; c < copies; c++) {
    std::memcpy(y + c * block, x + (c / repeats) * block, block * sizeof(float));
  }
}

std::string batchNormGeomProblem(const BatchNormGeom &g) {
  if (g.rows < 0 || g.channels < 1) return "rows must be ≥ 0 and channels ≥ 1";
  return "";
}

void batchNorm(const BatchNormGeom &g, const float *x, const float *mean, const float *variance,
               const float *scale, const float *offset, float *y, float epsilon) {
  const int64_t rows = g.rows, channels = g.channels;
  std::vector<float> mul(channels), add(channels), mu(channels);
  for (int64_t c = 0; c < channels; c++) {
    const double s = g.hasScale ? scale[c] : 1.0;
    mul[c] = static_cast<float>(s / std::sqrt(double(variance[c]) + epsilon));
    add[c] = g.hasOffset ? offset[c] : 0.0f;
    mu[c] = mean[c];
  }
  const float *m = mu.data(), *k = mul.data(), *o = add.data();
#pragma omp parallel for schedule(static) if (rows * channels >= parallelMinElems())
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * channels;
    float *yr = y + r * channels;
    for (int64_t c = 0; c < channels; c++) yr[c] = (xr[c] - m[c]) * k[c] + o[c];
  }
}

}  // namespace doconv
