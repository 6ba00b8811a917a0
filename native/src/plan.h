// A compiled inference plan: a whole folded classification net (NHWC float32) built once for one
// input shape — its oneDNN primitives, filters reordered to the primitives' layouts, every
// intermediate buffer — and run in one call. Why: TF.js dispatches each op separately (10–40 µs
// each, hundreds per net), runs bias, ReLU and residual adds as passes of their own and wakes the
// OpenMP team for ops too small to share; onnxruntime does none of that, and neither does a plan.
//
// The JS side (src/engine/native/inferencePlan*.ts) turns a LayersModel into op records; the plan
// files check them (an error names the op index and the field), size every tensor and build the
// steps (planBuild.cc, planConv.cc), and run them (planRun.cc); planParts.h is what they share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace doconv {

// Op codes (field 0 of a record). Tensor 0 is the plan's input; op i defines tensor i + 1; the last
// op's tensor is the output. Every tensor is NHWC [n, h, w, c] (a rank-2 tensor is [n, 1, 1, c]).
enum PlanOp : int32_t {
  kPlanConv = 1,           // conv or depthwise/grouped conv + bias, then sum(in1), then act
  kPlanPool = 2,           // max (extra 0) or average excluding padding (extra 1) pooling
  kPlanGlobalAvgPool = 3,  // mean over h and w → [n, 1, 1, c]
  kPlanDense = 4,          // [n, k] · [k, units] + bias, then act (k = h·w·c of the input)
  kPlanActivation = 5,     // act(in0)
  kPlanAdd = 6,            // act(in0 + in1), same shapes
  kPlanScaleShift = 7,     // act(in0 · scale[c] + shift[c]) (BatchNorm at inference)
  kPlanPad = 8,            // zero padding (pt, pb, pl, pr)
  kPlanSoftmax = 9,        // softmax over c
  kPlanReshape = 10,       // a view of in0 as [n, extra0, extra1, extra2] (no data moves)
  kPlanConcat = 11,        // in0 and in1 joined along c
};

// Activations applied by an op (field 3), with alpha/beta (fields 4, 5).
enum PlanAct : int32_t {
  kPlanLinear = 0,
  kPlanRelu = 1,  // alpha: slope below 0
  kPlanClip = 2,  // clip to [alpha, beta] (ReLU6: 0, 6)
  kPlanTanh = 3,
  kPlanSigmoid = 4,
  kPlanElu = 5,  // alpha · (e^x − 1) below 0
};

// A record's fields, by position (doubles: whole numbers for every field but alpha and beta).
enum PlanField : int {
  kFCode = 0,
  kFIn0 = 1,
  kFIn1 = 2,  // -1: none
  kFAct = 3,
  kFAlpha = 4,
  kFBeta = 5,
  kFKh = 6,
  kFKw = 7,
  kFSh = 8,
  kFSw = 9,
  kFDh = 10,
  kFDw = 11,
  kFPt = 12,
  kFPb = 13,
  kFPl = 14,
  kFPr = 15,
  kFOut = 16,     // conv: output channels; dense: units
  kFGroups = 17,  // conv: 1 plain, ci depthwise (filter [kh, kw, ci/groups, co] as TF.js's)
  kFWeight = 18,  // index into the weights (conv filter, dense kernel [k, units], scale); -1 none
  kFBias = 19,    // index into the weights (bias, shift); -1 none
  kFExtra0 = 20,
  kFExtra1 = 21,
  kFExtra2 = 22,
  kFExtra3 = 23,
};
constexpr int kPlanFields = 24;

struct PlanWeight {
  const float *data;
  int64_t elems;
};

class InferencePlan;

struct PlanDeleter {
  void operator()(InferencePlan *p) const;
};
using PlanPtr = std::unique_ptr<InferencePlan, PlanDeleter>;

// Builds a plan for input [n, h, w, c] from `count` records of kPlanFields doubles; the weights are
// copied (filters reordered), so the caller's arrays may go after. Throws std::runtime_error naming
// the op index and field of a bad record.
PlanPtr buildInferencePlan(const int64_t inputShape[4], const double *records, size_t count,
                           const std::vector<PlanWeight> &weights);

int64_t planInputElems(const InferencePlan &p);
int64_t planOutputElems(const InferencePlan &p);
// The output tensor's [n, h, w, c].
std::vector<int64_t> planOutputShape(const InferencePlan &p);
// oneDNN's implementation of each step, one line each ("op 3 conv: brg:avx512_core, 2 threads").
std::string planDescription(const InferencePlan &p);
// Bytes the plan holds (weights, intermediate buffers, scratchpad).
int64_t planBytes(const InferencePlan &p);

// x: planInputElems floats, y: planOutputElems floats.
void runInferencePlan(InferencePlan &p, const float *x, float *y);

}  // namespace doconv
