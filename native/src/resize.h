// Bilinear resizing of NHWC float32 images and its gradient, as TF.js's cpu backend computes them
// (ResizeBilinear, ResizeBilinearGrad): coordinates and blends in double, each result rounded to
// float32 once, gradient sums rounded to float32 after every addition in cpu's order. Its
// JavaScript kernels index element by element (DeepLab's decoder upsampling was ~20 % of its step).
#pragma once

#include <cstdint>
#include <string>

namespace doconv {

// Field order is the JS side's Int32Array layout (src/engine/native/nativeResize.ts).
struct ResizeGeom {
  int32_t n, h, w, c;  // the images
  int32_t oh, ow;      // the resized size
  int32_t alignCorners, halfPixelCenters;
};

std::string resizeGeomProblem(const ResizeGeom &g);
int64_t resizeInElems(const ResizeGeom &g);
int64_t resizeOutElems(const ResizeGeom &g);

void resizeBilinear(const ResizeGeom &g, const float *x, float *y);
// dx (the images' shape) from dy (the resized shape). Like cpu's kernel it ignores
// halfPixelCenters: the TypeScript side sends such calls to the fallback (cpu's own).
void resizeBilinearGrad(const ResizeGeom &g, const float *dy, float *dx);

}  // namespace doconv
