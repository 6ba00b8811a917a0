// Element-wise ops, per-channel reductions, block tiling and BatchNorm on float32 tensors in
// caller-owned memory (the wasm heap), spread over the calling thread's OpenMP team (the same
// team size oneDNN uses, setThreadCount). These are the ops of a CNN training step outside the
// convs (BatchNorm forward and backward, ReLU and its gradient, residual adds): memory-bound loops
// whose speed comes from running on every core, which wasm's single-threaded kernels cannot do.
#pragma once

#include <cstdint>
#include <string>

namespace doconv {

enum BinaryOp : int32_t { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3 };
// How an operand of a binary op is read: the whole tensor, one value, one value per channel
// (the innermost dimension), or one value per row ([..., 1] against [..., C]: softmax's
// x − max(x) and its gradient's products).
enum OperandMode : int32_t { kFull = 0, kScalar = 1, kPerChannel = 2, kPerRow = 3 };

// Field order is the JS side's Int32Array layout (src/engine/native/nativeEltwise.ts).
struct BinaryGeom {
  int32_t op;    // BinaryOp
  int32_t rows;  // output elements = rows · channels
  int32_t channels;
  int32_t aMode, bMode;
};

enum UnaryOp : int32_t {
  kUnaryRelu = 0,
  kUnaryStep = 1,
  kUnarySquare = 2,
  kUnaryNeg = 3,
  kUnaryExp = 4,
  kUnaryTanh = 5,
  kUnaryLog = 6
};

struct UnaryGeom {
  int32_t op;  // UnaryOp
  int32_t size;
};

// Reduces [outer, rows, inner] over rows: y[o, j] = Σ_r x[o, r, j] (· scale). Sums run in double;
// with one outer block, per thread over a fixed block of rows, then in thread order; with several
// (global average pooling: [N, H·W, C]), one thread a block: deterministic for a thread count.
struct ReduceGeom {
  int32_t rows, inner, outer;
};

// y[o] = x[o] repeated `repeats` times: x is [outer, block], y [outer, repeats, block].
struct TileGeom {
  int32_t block, repeats, outer;
};

// y[r, c] = (x[r, c] − mean[c]) · scale[c] / sqrt(var[c] + ε) + offset[c]; scale/offset optional.
struct BatchNormGeom {
  int32_t rows, channels, hasScale, hasOffset;
};

// Concat / split along one axis: `outer` rows; row r of the joined tensor is the parts' row-r
// blocks side by side (part i's block is inner[i] elements).
void concatBlocks(int64_t outer, const int64_t *inner, int parts, const float *const *src,
                  float *dst);
void splitBlocks(int64_t outer, const int64_t *inner, int parts, const float *src,
                 float *const *dst);

// ReLU's gradient in one pass: dx = dy · step(x), step(x) = 1 for x > 0, 0 otherwise, NaN for NaN
// (the same products as TF.js's Step then Multiply).
struct ReluGradGeom {
  int32_t size;
};
std::string reluGradGeomProblem(const ReluGradGeom &g);
// ClipByValue and Relu6, forward and gradient, as TF.js computes them:
// y = x > hi ? hi : (x < lo ? lo : x) (NaN passes through);
// gradient, kClipWhere (ClipByValue's): dx = lo ≤ x ≤ hi ? dy : 0;
// kClipMask (Relu6's, lo = 0): dx = dy · mask, mask = step(x) · (x ≤ hi) (NaN x gives NaN).
enum ClipGradMode : int32_t { kClipWhere = 0, kClipMask = 1 };
struct ClipGeom {
  int32_t size, mode;
};
std::string clipGeomProblem(const ClipGeom &g);
void clip(const ClipGeom &g, const float *x, float *y, float lo, float hi);
void clipGrad(const ClipGeom &g, const float *dy, const float *x, float *dx, float lo, float hi);
void reluGrad(const ReluGradGeom &g, const float *dy, const float *x, float *dx);
// A residual add and the ReLU after it in one pass: y = relu(a + b) (same shapes, ReluGradGeom's
// size), the bits of Add then Relu (the sum is rounded to float first; NaN passes through).
void addRelu(const ReluGradGeom &g, const float *a, const float *b, float *y);
// BatchNorm's gradient sums in one pass over [rows, channels]:
// sumDy[c] = Σ_r dy[r, c], sumDyXc[c] = Σ_r dy[r, c] · (x[r, c] − mean[c]).
struct ChannelSumsGeom {
  int32_t rows, channels;
};
std::string channelSumsGeomProblem(const ChannelSumsGeom &g);
void batchNormGradSums(const ChannelSumsGeom &g, const float *dy, const float *x, const float *mean,
                       float *sumDy, float *sumDyXc);

// Batch statistics of [rows, channels] per channel, one pass: mean = Σx / rows and the biased
// variance Σx² / rows − mean² (as tf.moments), sums in double, the variance clamped at 0.
void batchNormStats(const ChannelSumsGeom &g, const float *x, float *mean, float *variance);

// BatchNorm's input gradient in training, where the batch's own mean and variance were used:
// with r = 1/√(var + ε) and γ the scale (1 when hasScale is 0), one pass
//   dx = γr · (dy − Σdy / rows − (x − μ) · r² · Σdy(x − μ) / rows)
//        + dMean / rows + dVariance · 2(x − μ) / rows
// from the sums batchNormGradSums computed; dMean and dVariance are the gradients reaching the
// op's mean and variance outputs (zeros unless something besides the moving averages uses them).
struct BatchNormGradGeom {
  int32_t rows, channels, hasScale;
};
std::string batchNormGradGeomProblem(const BatchNormGradGeom &g);
void batchNormTrainGradInput(const BatchNormGradGeom &g, const float *dy, const float *x,
                             const float *mean, const float *variance, const float *scale,
                             const float *sumDy, const float *sumDyXc, const float *dMean,
                             const float *dVariance, float *dx, float epsilon);

// A box of a tensor: y = x[at : at + box] (Slice) when toBig is 0, or the box of `big` at `at`
// written from `small` (PadV2 after the rest is filled) when it is 1. Up to kMaxBoxRank dims.
constexpr int kMaxBoxRank = 6;
struct BoxGeom {
  int32_t rank;
  int32_t big[kMaxBoxRank], box[kMaxBoxRank], at[kMaxBoxRank];
  int32_t toBig;
};
std::string boxGeomProblem(const BoxGeom &g);
int64_t boxElems(const BoxGeom &g);
int64_t boxBigElems(const BoxGeom &g);
void boxCopy(const BoxGeom &g, float *big, float *small);

// Max pooling of NHWC x (dilation 1), as TF.js's cpu kernels compute it: the window clipped to
// the input, the first strictly greatest value (NaN never wins; an all-NaN window gives −∞);
// the gradient sends each dy to that position of its window (dx zeroed first).
struct PoolGeom {
  int32_t batch, inH, inW, channels, outH, outW, filterH, filterW, strideH, strideW, padTop,
      padLeft;
};
std::string poolGeomProblem(const PoolGeom &g);
int64_t poolInElems(const PoolGeom &g);
int64_t poolOutElems(const PoolGeom &g);
void maxPool(const PoolGeom &g, const float *x, float *y);
void maxPoolGrad(const PoolGeom &g, const float *x, const float *dy, float *dx);

std::string binaryGeomProblem(const BinaryGeom &g);
// Elements operand `mode` spans (for bounds checks).
int64_t operandElems(int32_t mode, const BinaryGeom &g);
void binary(const BinaryGeom &g, const float *a, const float *b, float *y);
std::string unaryGeomProblem(const UnaryGeom &g);
void unary(const UnaryGeom &g, const float *x, float *y, float alpha);
std::string reduceGeomProblem(const ReduceGeom &g);
void reduceRows(const ReduceGeom &g, const float *x, float *y, double scale);
std::string tileGeomProblem(const TileGeom &g);
void tile(const TileGeom &g, const float *x, float *y);
std::string batchNormGeomProblem(const BatchNormGeom &g);
void batchNorm(const BatchNormGeom &g, const float *x, const float *mean, const float *variance,
               const float *scale, const float *offset, float *y, float epsilon);

}  // namespace doconv
