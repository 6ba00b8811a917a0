// DO-Conv's kernel composition (any groups g: DO-Conv g = 1, DO-DConv g = C, DO-GConv between)
// and its gradient, as one kernel each:
//   K[m, j, o] = Σ_s D̂[m, s, c] · W[s, j, o],   c = ⌊o / (F/g)⌋ · (C/g) + j
//   D̂ [M·N, dMul, C], W [dMul, C/g, F], K [M·N, C/g, F]
// with D̂ = D + D_diag read on the fly (D_diag the layer's constant identity part: its add and the
// add's gradient would be two more ops per layer and step). diag == nullptr means the identity
// pattern a DO-Conv layer's D_diag always is (src/algebra/diagIdentity.ts), built in: the fused
// conv's gradient then needs no D_diag tensor saved on the tape (a copy per layer and step).
// Why one kernel: built from TF.js ops the composition is ~6 ops forward and ~8 backward per layer
// (transposes, a batched matmul, reshapes), each with its dispatch and tape bookkeeping, which on
// a training step was most of what DO-Conv costs over a plain conv.
#pragma once

#include <cstdint>
#include <string>

#include "conv.h"

namespace doconv {

// Field order is the JS side's Int32Array layout (src/engine/native/nativeCompose.ts).
struct ComposeGeom {
  int32_t area;  // M·N
  int32_t dMul;
  int32_t channels;  // C
  int32_t filters;   // F
  int32_t groups;    // g: divides C and F
};

std::string composeGeomProblem(const ComposeGeom &g);
int64_t composeDElems(const ComposeGeom &g);
int64_t composeWElems(const ComposeGeom &g);
int64_t composeKElems(const ComposeGeom &g);
void compose(const ComposeGeom &g, const float *d, const float *diag, const float *w, float *k);
// dD[m, s, c] = Σ_{o of c's group} dK[m, j, o] · W[s, j, o];  dW[s, j, o] = Σ_m D̂[m, s, c] · dK[m,
// j, o]
void composeGrad(const ComposeGeom &g, const float *dk, const float *d, const float *diag,
                 const float *w, float *dd, float *dw);

// DO-Conv's three conv passes with the composition inside (groups 1): K (or dK) lives in a
// per-thread scratch buffer for the length of the call, never in a tensor. Why: on a small net
// (the PyTorch MNIST sample, ~3 ms a step) making K and dK tensors — allocation, bookkeeping,
// release, an addon call each — cost as much as composing them. Field order is the JS side's
// (src/engine/native/nativeComposedConv.ts): the conv's geometry, then the composition's.
struct ComposedConvGeom {
  ConvGeom conv;
  ComposeGeom compose;
};
// Empty when both parts are consistent and the conv's filter [kh, kw, ci, co] is K's
// [M·N, C, F] with groups 1, else what is wrong.
std::string composedConvGeomProblem(const ComposedConvGeom &g);
// y = act(conv(x, K) + bias),  K = compose(D̂, W)
void composedConvForward(const ComposedConvGeom &g, const float *x, const float *d,
                         const float *diag, const float *w, const float *bias, float *y,
                         float alpha);
// dx = conv's backward data through K
void composedConvBackwardData(const ComposedConvGeom &g, const float *dy, const float *d,
                              const float *diag, const float *w, float *dx);
// dK = conv's backward weights, then [dD, dW] = composeGrad(dK)
void composedConvBackwardWeights(const ComposedConvGeom &g, const float *x, const float *dy,
                                 const float *d, const float *diag, const float *w, float *dd,
                                 float *dw);

}  // namespace doconv
