// exp and log of float32 tensors as TF.js's cpu backend computes them (Math.exp / Math.log in
// double, stored as float32), and the row-wise max of a reduction (softmax's and log-sum-exp's
// first pass).
#pragma once

#include <cstdint>

#include "eltwise.h"

namespace doconv {

// y[i] = float(exp(double(x[i]))): a polynomial libm's exp agrees with bit for bit on every float
// tried (645 M of them, every 7th bit pattern), in straight-line code the compiler vectorises
// (libm's exp is a call per element: 6–11 ns against ~2 on one core).
void expFloats(const float *x, float *y, int64_t n);
// The same on the calling thread alone, for loops already inside a parallel region (opening a
// nested one, even an inactive one, costs ~1 µs: per softmax row that was most of the op).
void expFloatsHere(const float *x, float *y, int64_t n);

// y[i] = float(tanh(double(x[i]))) as libm's tanh gives it, from a vectorised polynomial where
// its rounding is certain (expLog.cc, tanhFloatsHere), libm elsewhere.
void tanhFloats(const float *x, float *y, int64_t n);

// y[i] = float(log(double(x[i]))) (NaN below 0, −∞ at 0, as Math.log).
void logFloats(const float *x, float *y, int64_t n);

// The larger of m and v as cpu's Max takes it: a NaN v replaces m, and once m is NaN it stays
// (v > NaN is false).
inline float stickyMax(float m, float v) { return (v != v || v > m) ? v : m; }

// y[o, j] = max over r of x[o, r, j]; a NaN anywhere in the run gives NaN (cpu's Max). rows ≥ 1.
void maxRows(const ReduceGeom &g, const float *x, float *y);

}  // namespace doconv
