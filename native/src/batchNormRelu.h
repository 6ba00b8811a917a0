// BatchNorm in training followed by a ReLU (optionally clipped: ReLU6) as one op, forward and
// backward, over NHWC data [rows, channels] — the pair every zoo net has after each conv. Unfused,
// the ReLU is one more full read and write forward and its gradient one more backward; here the
// ReLU rides in the normalisation pass and its gradient's mask in the two gradient passes.
//
// The backward passes recompute y = BatchNorm(x) from x (which they read anyway) instead of reading
// the op's output: one tensor less to read per pass. Both directions compute y with the same
// per-channel coefficients and the same float expression (built with -ffp-contract=off), so the
// mask sees exactly the y the forward pass clipped.
#pragma once

#include <cstdint>
#include <string>

namespace doconv {

// Field order is the JS side's Int32Array layout (src/engine/native/nativeBatchNormRelu.ts).
// mean, variance, scale and offset are [channels]; every one is required.
struct BatchNormReluGeom {
  int32_t rows, channels;
};
std::string batchNormReluGeomProblem(const BatchNormReluGeom &g);

// z = min(max(y, 0), cap), y = (x − μ) · γ/√(var + ε) + β; NaN passes through (as TF.js's relu
// and clip); cap = +∞ for a plain ReLU.
void batchNormRelu(const BatchNormReluGeom &g, const float *x, const float *mean,
                   const float *variance, const float *scale, const float *offset, float *z,
                   float epsilon, float cap);

// The gradient sums of batchNormGradSums (eltwise.h) with dy masked by the ReLU's gradient:
// m = 1 where 0 < y ≤ cap, 0 elsewhere, NaN where y is NaN (TF.js's Step and ClipByValue masks);
// sumDy[c] = Σ_r dy·m, sumDyXc[c] = Σ_r dy·m · (x − μ).
void batchNormReluGradSums(const BatchNormReluGeom &g, const float *dy, const float *x,
                           const float *mean, const float *variance, const float *scale,
                           const float *offset, float *sumDy, float *sumDyXc, float epsilon,
                           float cap);

// batchNormTrainGradInput (eltwise.h) with dy masked as above.
void batchNormReluGradInput(const BatchNormReluGeom &g, const float *dy, const float *x,
                            const float *mean, const float *variance, const float *scale,
                            const float *offset, const float *sumDy, const float *sumDyXc,
                            const float *dMean, const float *dVariance, float *dx, float epsilon,
                            float cap);

}  // namespace doconv
