// Batched matrix products on float32 data in caller-owned memory (the wasm heap), as TF.js's
// BatchMatMul: y[b] = op(a[b]) · op(c[b]), op = transpose or not, a batch of 1 broadcast.
#pragma once

#include <cstdint>
#include <string>

namespace doconv {

// Field order is the JS side's Int32Array layout (src/engine/native/nativeMatMul.ts).
struct MatMulGeom {
  int32_t batch;    // output batch
  int32_t aBatch;   // 1 (broadcast) or batch
  int32_t bBatch;   // 1 (broadcast) or batch
  int32_t m, k, n;  // y[b] is m×n, the inner dimension k
  int32_t transA;   // a[b] is stored k×m (1) or m×k (0)
  int32_t transB;   // b[b] is stored n×k (1) or k×n (0)
};

std::string matMulGeomProblem(const MatMulGeom &g);
// Element counts of a, b and y (after matMulGeomProblem passed: never negative).
int64_t matMulAElems(const MatMulGeom &g);
int64_t matMulBElems(const MatMulGeom &g);
int64_t matMulYElems(const MatMulGeom &g);
void matMul(const MatMulGeom &g, const float *a, const float *b, float *y);

}  // namespace doconv
