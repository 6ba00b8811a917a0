// DO-Conv's kernel composition (groups = 1) and its gradient, as one kernel each:
//   K[m, j, o] = Σ_s D̂[m, s, j] · W[s, j, o]        D̂ [M·N, dMul, C], W [dMul, C, F], K [M·N, C, F]
// with D̂ = D + D_diag read on the fly (D_diag the layer's constant identity part: its add and the
// add's gradient would be two more ops per layer and step).
// Why one kernel: built from TF.js ops the composition is ~6 ops forward and ~8 backward per layer
// (transposes, a batched matmul, reshapes), each with its dispatch and tape bookkeeping, which on
// a training step was most of what DO-Conv costs over a plain conv.
#pragma once

#include <cstdint>
#include <string>

namespace doconv {

// Field order is the JS side's Int32Array layout (src/engine/native/nativeCompose.ts).
struct ComposeGeom {
  int32_t area;  // M·N
  int32_t dMul;
  int32_t channels;  // C
  int32_t filters;   // F
};

std::string composeGeomProblem(const ComposeGeom &g);
int64_t composeDElems(const ComposeGeom &g);
int64_t composeWElems(const ComposeGeom &g);
int64_t composeKElems(const ComposeGeom &g);
void compose(const ComposeGeom &g, const float *d, const float *diag, const float *w, float *k);
// dD[m, s, j] = Σ_o dK[m, j, o] · W[s, j, o];  dW[s, j, o] = Σ_m D̂[m, s, j] · dK[m, j, o]
void composeGrad(const ComposeGeom &g, const float *dk, const float *d, const float *diag,
                 const float *w, float *dd, float *dw);

}  // namespace doconv
