// Convolutions on NHWC float32 tensors in caller-owned memory (the wasm heap): forward (with
// optional bias and fused activation), backward data, backward weights. Plain, grouped and
// depthwise (groups == input channels) share one geometry.
#pragma once

#include <cstdint>
#include <string>

namespace doconv {

// Field order is the JS side's Int32Array layout (src/engine/native/nativeConvGeometry.ts).
struct ConvGeom {
  int32_t n, h, w, ci;     // input NHWC
  int32_t oh, ow, co;      // output spatial size, output channels
  int32_t kh, kw;          // filter taps
  int32_t sh, sw, dh, dw;  // strides, dilations (1 = none)
  int32_t pt, pb, pl, pr;  // zero padding top, bottom, left, right
  int32_t groups;          // 1 plain; ci depthwise; filter is [kh, kw, ci/groups, co]
  int32_t hasBias;         // forward only
  int32_t act;             // forward only: Activation below
};
constexpr int kConvGeomFields = sizeof(ConvGeom) / sizeof(int32_t);

enum Activation : int32_t {
  kLinear = 0,
  kRelu = 1,
  kRelu6 = 2,
  kLeakyRelu = 3,
  kElu = 4,
  kSigmoid = 5
};

// Element counts of the four tensors, for bounds checks on the JS side's offsets.
int64_t convInputElems(const ConvGeom &g);
int64_t convOutputElems(const ConvGeom &g);
int64_t convFilterElems(const ConvGeom &g);
// Empty when the geometry is consistent, else what is wrong.
std::string convGeomProblem(const ConvGeom &g);

void convForward(const ConvGeom &g, const float *x, const float *w, const float *bias, float *y,
                 float alpha);
void convBackwardData(const ConvGeom &g, const float *dy, const float *w, float *dx);
void convBackwardWeights(const ConvGeom &g, const float *x, const float *dy, float *dw);

// oneDNN's implementation name for the pass ("fwd", "bwd_data", "bwd_weights").
std::string convImplInfo(const ConvGeom &g, const std::string &pass);

}  // namespace doconv
