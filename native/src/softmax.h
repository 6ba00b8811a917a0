// Softmax cross-entropy on logits, one row at a time, as one op forward and one backward: in place
// of TF.js's log-sum-exp and its gradient (Max, Sub, Exp, Sum, Log, Add, Multiply, Neg, Sum
// forward; three Exps among ~12 ops backward) over [rows, classes] tensors. For a segmentation
// net's per-pixel loss those were the largest tensors of its step.
#pragma once

#include <cstdint>
#include <string>

namespace doconv {

// Field order is the JS side's Int32Array layout (src/engine/native/nativeSoftmaxCrossEntropy.ts).
struct SoftmaxGeom {
  int32_t rows, classes;
};

std::string softmaxGeomProblem(const SoftmaxGeom &g);
int64_t softmaxElems(const SoftmaxGeom &g);

// loss[r] = Σ_j labels[r, j] · (lse_r − logits[r, j]), lse_r = log Σ_j exp(logits[r, j]) (from the
// row's max, in double); softmax[r, j] = exp(logits[r, j] − lse_r). A NaN logit makes its row NaN.
void softmaxCrossEntropy(const SoftmaxGeom &g, const float *labels, const float *logits,
                         float *loss, float *softmax);

// dLogits[r, j] = dy[r] · (softmax[r, j] · Σ_k labels[r, k] − labels[r, j]): the exact gradient
// for labels of any row sum (TF.js's op assumes sums of 1; a row of zeros — an ignored pixel —
// gets zeros).
void softmaxCrossEntropyGrad(const SoftmaxGeom &g, const float *dy, const float *softmax,
                             const float *labels, float *dLogits);

// y[r, j] = exp(x[r, j] − max_r) / Σ_k exp(x[r, k] − max_r) with tfjs-backend-cpu's Softmax bits:
// its kernel runs Max (NaN sticks), Sub and Exp in float32, Sum in double stored as float32, then
// RealDiv — six kernels and five temporaries in JavaScript (the TF MNIST sample's output layer:
// ~150 µs of an 8 ms step for 32 × 10 values).
void softmaxRows(const SoftmaxGeom &g, const float *logits, float *y);

}  // namespace doconv
