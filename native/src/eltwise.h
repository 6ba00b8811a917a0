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
// How an operand of a binary op is read: the whole tensor, one value, or one value per channel
// (the innermost dimension).
enum OperandMode : int32_t { kFull = 0, kScalar = 1, kPerChannel = 2 };

// Field order is the JS side's Int32Array layout (src/engine/native/nativeEltwise.ts).
struct BinaryGeom {
  int32_t op;    // BinaryOp
  int32_t rows;  // output elements = rows · channels
  int32_t channels;
  int32_t aMode, bMode;
};

enum UnaryOp : int32_t { kUnaryRelu = 0, kUnaryStep = 1, kUnarySquare = 2, kUnaryNeg = 3 };

struct UnaryGeom {
  int32_t op;  // UnaryOp
  int32_t size;
};

// Reduces [rows, inner] over rows: y[j] = Σ_r x[r, j] (· scale). Sums run in double, per thread
// over a fixed block of rows, then in thread order: deterministic for a thread count.
struct ReduceGeom {
  int32_t rows, inner;
};

// y = x repeated `repeats` times (x is `block` elements).
struct TileGeom {
  int32_t block, repeats;
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
void reluGrad(const ReluGradGeom &g, const float *dy, const float *x, float *dx);
// BatchNorm's gradient sums in one pass over [rows, channels]:
// sumDy[c] = Σ_r dy[r, c], sumDyXc[c] = Σ_r dy[r, c] · (x[r, c] − mean[c]).
struct ChannelSumsGeom {
  int32_t rows, channels;
};
std::string channelSumsGeomProblem(const ChannelSumsGeom &g);
void batchNormGradSums(const ChannelSumsGeom &g, const float *dy, const float *x, const float *mean,
                       float *sumDy, float *sumDyXc);

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
