// Optimizer updates, every variable of a step in one call: Adam (Keras form) and SGD
// (PyTorch's momentum form), the arithmetic of src/engine/kernels/optimizerSteps.ts operation for
// operation in float32 (the build turns off multiply-add contraction), so the updated weights are
// the same bits as the wasm kernels' and the TF.js ops'. The slots (m, v, velocity) are updated in
// place; the new weights go to a fresh buffer, because wasm's XNNPACK kernels keep weights packed
// per tensor and would never see an in-place change. Why all at once: per variable, a kernel
// call with three fresh outputs and three assigns cost more than the update itself for the small
// ones (biases, BatchNorm, D), and the loop ran in JS on one core.
#pragma once

#include <cstdint>
#include <vector>

namespace doconv {

enum OptimizerKind : int32_t { kAdam = 0, kSgd = 1, kSgdMomentum = 2 };

// Tensors per variable, in order: Adam value, gradient, m, v, new value; SGD value, gradient,
// [velocity,] new value.
int optimizerOperands(int32_t kind);  // 0 for an unknown kind
// Numbers in `params`: Adam [β1, 1−β1, β2, 1−β2, ε, step size]; SGD [lr]; momentum [lr, μ].
int optimizerParams(int32_t kind);

// operands[i * optimizerOperands(kind) + k]: the k-th tensor of variable i, sizes[i] elements each.
void optimizerStep(int32_t kind, const std::vector<float *> &operands,
                   const std::vector<int64_t> &sizes, const double *params);

}  // namespace doconv
