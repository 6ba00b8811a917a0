// The inference plan (plan.h): records checked and sized, buffers assigned by liveness, one step
// per op. Convs and dense layers are oneDNN primitives (forward_inference, NHWC as the rest of the
// engine, filters reordered once at build), with bias, activation and a residual add (the `sum`
// post-op, written into the residual's own buffer when nothing else reads it) fused; the small
// remaining ops are OpenMP loops. Each step runs on the thread count its size earns: below the
// engine's thresholds (parallelMinMacs / parallelMinElems, common.h) a step runs on the calling
// thread alone, because waking libgomp's passive team costs more than such a step.
#include "plan.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "common.h"

namespace doconv {

namespace {

struct Shape {
  int64_t n = 0, h = 0, w = 0, c = 0;
  int64_t elems() const { return n * h * w * c; }
  bool operator==(const Shape &o) const { return n == o.n && h == o.h && w == o.w && c == o.c; }
  std::string str() const {
    return "[" + std::to_string(n) + ", " + std::to_string(h) + ", " + std::to_string(w) + ", " +
           std::to_string(c) + "]";
  }
};

const char *opName(int64_t code) {
  switch (code) {
    case kPlanConv: return "conv";
    case kPlanPool: return "pool";
    case kPlanGlobalAvgPool: return "globalAvgPool";
    case kPlanDense: return "dense";
    case kPlanActivation: return "activation";
    case kPlanAdd: return "add";
    case kPlanScaleShift: return "scaleShift";
    case kPlanPad: return "pad";
    case kPlanSoftmax: return "softmax";
    case kPlanReshape: return "reshape";
    case kPlanConcat: return "concat";
    default: return "unknown";
  }
}

// A record's number as JS would print it (99, 2.5, NaN).
std::string numberText(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// One record, read field by field; a bad field is an error naming the op and the field.
struct Record {
  const double *f;
  size_t index;

  [[noreturn]] void fail(const std::string &what) const {
    throw std::runtime_error("op " + std::to_string(index) + " (" + opName(code()) + "): " + what);
  }
  int64_t code() const {
    const double v = f[kFCode];
    return v == std::floor(v) && std::abs(v) < 1e9 ? static_cast<int64_t>(v) : -1;
  }
  int64_t whole(int field, const char *name, int64_t min, int64_t max = int64_t(1) << 30) const {
    const double v = f[field];
    if (!(v >= static_cast<double>(min) && v <= static_cast<double>(max) && v == std::floor(v))) {
      fail(std::string(name) + " is " + numberText(v) + ", want a whole number " +
           std::to_string(min) + ".." + std::to_string(max));
    }
    return static_cast<int64_t>(v);
  }
  float number(int field, const char *name) const {
    const double v = f[field];
    if (!std::isfinite(v)) fail(std::string(name) + " is not a finite number");
    return static_cast<float>(v);
  }
};

float activated(int32_t act, float v, float alpha, float beta) {
  switch (act) {
    case kPlanRelu: return v < 0 ? alpha * v : v;
    case kPlanClip: return std::min(std::max(v, alpha), beta);
    case kPlanTanh: return std::tanh(v);
    case kPlanSigmoid: return 1.f / (1.f + std::exp(-v));
    case kPlanElu: return v < 0 ? alpha * std::expm1(v) : v;
    default: return v;
  }
}

dnnl::post_ops actPostOps(int32_t act, float alpha, float beta, bool withSum) {
  dnnl::post_ops ops;
  if (withSum) ops.append_sum(1.f);
  using A = dnnl::algorithm;
  switch (act) {
    case kPlanRelu: ops.append_eltwise(1.f, A::eltwise_relu, alpha, 0.f); break;
    case kPlanClip: ops.append_eltwise(1.f, A::eltwise_clip_v2, alpha, beta); break;
    case kPlanTanh: ops.append_eltwise(1.f, A::eltwise_tanh, 0.f, 0.f); break;
    case kPlanSigmoid: ops.append_eltwise(1.f, A::eltwise_logistic, 0.f, 0.f); break;
    case kPlanElu: ops.append_eltwise(1.f, A::eltwise_elu, alpha, 0.f); break;
    default: break;
  }
  return ops;
}

memory::desc nhwcDesc(const Shape &s) {
  return memory::desc({s.n, s.c, s.h, s.w}, dt::f32, tag::nhwc);
}

// Channels per block of oneDNN's blocked activation layout for this CPU: 16 with AVX-512 (nChw16c),
// else 8 (nChw8c); 0 when DOCONV_PLAN_LAYOUT=nhwc keeps every tensor NHWC.
int64_t channelBlock() {
  static const int64_t v = [] {
    const char *s = std::getenv("DOCONV_PLAN_LAYOUT");
    if (s != nullptr && std::strcmp(s, "nhwc") == 0) return int64_t(0);
    const auto isa = dnnl::get_effective_cpu_isa();
    const bool wide = isa == dnnl::cpu_isa::avx512_core || isa == dnnl::cpu_isa::avx512_core_vnni ||
                      isa == dnnl::cpu_isa::avx512_core_bf16 ||
                      isa == dnnl::cpu_isa::avx512_core_amx;
    return int64_t(wide ? 16 : 8);
  }();
  return v;
}

// A tensor's layout: NHWC, or blocked [n][c / blk][h][w][blk] (channels a multiple of blk).
memory::desc layoutDesc(const Shape &s, int64_t blk) {
  if (blk == 0) return nhwcDesc(s);
  return memory::desc({s.n, s.c, s.h, s.w}, dt::f32, blk == 16 ? tag::nChw16c : tag::nChw8c);
}

// `body(i)` for i in [0, count), on `threads` OpenMP threads when there are more than one.
template <typename F>
void parallelFor(int64_t count, int threads, F body) {
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (int64_t i = 0; i < count; i++) body(i);
}

}  // namespace

// One step of a plan: a primitive with its arguments bound to the plan's buffers, or a loop.
struct PlanStep {
  struct Binding {
    int arg;
    int tensor;
    memory::desc desc;
    int64_t offset = 0;  // floats into the tensor (a half's first row)
  };
  // A conv's top or bottom half of output rows (a row-split plan, below), run by one thread each.
  struct Half {
    dnnl::primitive prim;
    std::vector<Binding> bindings;
    std::unordered_map<int, memory> args;
    std::vector<std::pair<int, int64_t>> inputArgs;  // (arg, offset) bound to the run's input
    int64_t rowsOffset = 0, rowsElems = 0;           // its output rows (for the residual's copy)
  };
  std::string what;
  int threads = 1;
  // A primitive step:
  dnnl::primitive prim;
  std::vector<Binding> bindings;
  std::unordered_map<int, memory> args;
  std::vector<int> inputArgs;  // args bound to the run's input (its address changes per run)
  int sumFrom = -1, sumInto = -1;
  std::vector<Half> halves;  // a row-split plan's conv: its two halves instead of prim
  // A loop step (instead of prim), or work before the primitive (the strided 1×1 gather):
  std::function<void(const InferencePlan &)> loop;
  std::vector<std::unique_ptr<Buffer>> held;  // reordered filters, bias, gather buffer
  // Wall time over every run (for planDescription: where a net's time goes).
  double seconds = 0;
  int64_t runs = 0;
};

namespace {
class SplitHelper;
}  // namespace

// How a plan for batch 1 cuts each conv for two threads (PlanStep::halves).
enum class Split {
  kNone,
  kRows,      // output rows in two: every tensor NHWC (a range of rows is contiguous there)
  kChannels,  // output channel blocks in two: blocked layouts kept (a range of blocks is contiguous)
};

class InferencePlan {
 public:
  std::vector<Shape> shapes;   // per tensor (0: the input)
  std::vector<int> slotOf;     // per tensor: its buffer, -1 the run's input
  std::vector<int64_t> block;  // per tensor: 0 NHWC, else its channel block (layoutDesc)
  std::vector<std::unique_ptr<Buffer>> slots;
  std::vector<PlanStep> steps;
  std::unique_ptr<Buffer> scratch, scratch2;  // scratch2: a split conv's second half's
  memory::desc scratchDesc;
  // Batch 1 on more than one thread: each conv split in two halves, one for each of two threads,
  // which meet at a spinning barrier after every step (one wake-up a run, not one an op).
  Split split = Split::kNone;
  // A batch-1 plan split by channels also holds the net split by rows (byRows), and runs one of
  // three ways: 0 every step on the calling thread, 1 its convs' channel halves on two threads,
  // 2 byRows's row halves on two threads. Which wins depends on the net (a conv of few channel
  // blocks runs its halves slowly; one of few rows too) and on the machine: beside a busy
  // process a helper preempted in the middle of a half holds the run up. So each way's last
  // three run times are kept (their median: one slow run, as the first, which starts the
  // helper thread, does not condemn a way), the fastest way runs, and every 32nd run re-times
  // another. DOCONV_PLAN_BATCH1=one|channels|rows runs one way only.
  PlanPtr byRows;
  double wayTimes[3][3] = {};  // seconds, the last three runs of each way (0: not yet)
  int64_t wayRuns = 0;
  int forcedWay = -1;
  // The second thread of a split plan, started on its first split run (last: it goes first).
  std::unique_ptr<SplitHelper> helper;
  const float *input = nullptr;
  int maxThreads = 1;
  // A batch split across threads (then shapes holds only the whole input and output, and steps
  // is empty): chunks of `chunk` examples, each thread with its own single-threaded plan for a
  // chunk (parts) and for the shorter last chunk (tails, when there is one).
  std::vector<PlanPtr> parts, tails;
  int64_t chunk = 0;
  // The stream of the engine the primitives were made on (the building thread's): a batch share
  // runs on an OpenMP worker, whose own engine the primitives would refuse.
  dnnl::stream stream;

  float *ptr(int t) const {
    const int s = slotOf[t];
    return s < 0 ? const_cast<float *>(input) : static_cast<float *>(slots[s]->data());
  }
};

namespace {

// The calling thread's OpenMP count for a scope: set exactly (a primitive runs with the count it
// was created with), restored after.
class ExactThreads {
 public:
  explicit ExactThreads(int n) : saved_(omp_get_max_threads()) { set(n); }
  ~ExactThreads() { set(saved_); }
  ExactThreads(const ExactThreads &) = delete;
  ExactThreads &operator=(const ExactThreads &) = delete;
  void set(int n) {
    if (n != current_) omp_set_num_threads(n);
    current_ = n;
  }

 private:
  int saved_;
  int current_ = -1;
};

struct Builder {
  const std::vector<PlanWeight> &weights;
  InferencePlan &p;
  std::vector<int> root;  // per tensor: the tensor whose buffer it views

  const PlanWeight &weight(const Record &r, int field, const char *name, int64_t elems) const {
    const int64_t i = r.whole(field, name, 0, static_cast<int64_t>(weights.size()) - 1);
    if (weights[i].elems != elems) {
      r.fail(std::string(name) + " (weights[" + std::to_string(i) + "]) has " +
             std::to_string(weights[i].elems) + " elements, want " + std::to_string(elems));
    }
    return weights[i];
  }
  bool hasField(const Record &r, int field) const { return r.f[field] != -1; }
  int tensor(const Record &r, int field, const char *name, size_t defined) const {
    return static_cast<int>(r.whole(field, name, 0, static_cast<int64_t>(defined) - 1));
  }
  int threadsFor(double work, double min) const {
    return p.split == Split::kNone && work >= min ? p.maxThreads : 1;
  }

  // A copy of a weight the plan owns (the caller's arrays may go after build).
  static std::unique_ptr<Buffer> copyOf(const PlanWeight &w) {
    auto b = std::make_unique<Buffer>(static_cast<size_t>(w.elems) * sizeof(float));
    std::memcpy(b->data(), w.data, static_cast<size_t>(w.elems) * sizeof(float));
    return b;
  }
  // The weight reordered from `user` (its layout in the caller's array) to the primitive's `want`.
  static std::unique_ptr<Buffer> reordered(const PlanWeight &w, const memory::desc &user,
                                           const memory::desc &want) {
    return reorderedAt(w.data, user, want);
  }
  static std::unique_ptr<Buffer> reorderedAt(const float *data, const memory::desc &user,
                                             const memory::desc &want) {
    auto b = std::make_unique<Buffer>(want.get_size());
    auto &e = cpuEngine();
    memory from(user, e, const_cast<float *>(data)), to(want, e, b->data());
    dnnl::reorder(from, to).execute(cpuStream(), from, to);
    cpuStream().wait();
    return b;
  }

  void finishPrimitive(PlanStep &s, const dnnl::primitive_desc_base &pd) {
    if (pd.scratchpad_desc().get_size() > p.scratchDesc.get_size())
      p.scratchDesc = pd.scratchpad_desc();
    s.what += std::string(": ") + pd.impl_info_str();
  }

  Shape conv(const Record &r, PlanStep &s, size_t t) {
    const Shape in = p.shapes[tensor(r, kFIn0, "in0", t)];
    const int64_t kh = r.whole(kFKh, "kh", 1), kw = r.whole(kFKw, "kw", 1);
    const int64_t sh = r.whole(kFSh, "sh", 1), sw = r.whole(kFSw, "sw", 1);
    const int64_t dh = r.whole(kFDh, "dh", 1), dw = r.whole(kFDw, "dw", 1);
    const int64_t pt = r.whole(kFPt, "pt", 0), pb = r.whole(kFPb, "pb", 0);
    const int64_t pl = r.whole(kFPl, "pl", 0), pr = r.whole(kFPr, "pr", 0);
    const int64_t co = r.whole(kFOut, "out channels", 1);
    const int64_t groups = r.whole(kFGroups, "groups", 1);
    if (in.c % groups != 0 || co % groups != 0) {
      r.fail("groups " + std::to_string(groups) + " must divide the input's channels " +
             std::to_string(in.c) + " and the output's " + std::to_string(co));
    }
    const int64_t spanH = in.h + pt + pb - ((kh - 1) * dh + 1);
    const int64_t spanW = in.w + pl + pr - ((kw - 1) * dw + 1);
    if (spanH < 0 || spanW < 0) {
      r.fail("the filter (" + std::to_string(kh) + "x" + std::to_string(kw) +
             ", dilated) is larger than the padded input " + in.str());
    }
    const Shape out{in.n, spanH / sh + 1, spanW / sw + 1, co};
    const int32_t act = static_cast<int32_t>(r.whole(kFAct, "act", 0, kPlanElu));
    const float alpha = r.number(kFAlpha, "alpha"), beta = r.number(kFBeta, "beta");
    const int64_t cig = in.c / groups, cog = co / groups;
    const PlanWeight &filter = weight(r, kFWeight, "filter", kh * kw * cig * co);
    const bool hasBias = hasField(r, kFBias);
    const PlanWeight *bias = hasBias ? &weight(r, kFBias, "bias", co) : nullptr;
    const bool hasSum = hasField(r, kFIn1);
    if (hasSum) {
      const int sum = tensor(r, kFIn1, "in1", t);
      if (!(p.shapes[sum] == out)) {
        r.fail("in1 (the residual added) is " + p.shapes[sum].str() + ", the conv's output " +
               out.str());
      }
      s.sumFrom = sum;
      s.sumInto = static_cast<int>(t);
    }
    s.threads = threadsFor(double(out.elems()) * kh * kw * cig, parallelMinMacs());
    ExactThreads threads(s.threads);

    // oneDNN 2.6's jit_1x1 kernels corrupted the heap on strided 1×1 convs (conv.cc): such a conv
    // runs as the unit-stride 1×1 conv of the pixels it samples, gathered first.
    const bool gather = kh == 1 && kw == 1 && (sh > 1 || sw > 1);
    const int64_t inBlk = p.block[tensor(r, kFIn0, "in0", t)], outBlk = p.block[t];
    Shape src = in;
    int64_t csh = sh, csw = sw, cpt = pt, cpb = pb, cpl = pl, cpr = pr;
    if (gather) {
      src = {in.n, out.h, out.w, in.c};
      csh = csw = 1;
      cpt = cpb = cpl = cpr = 0;
      auto buf = std::make_unique<Buffer>(static_cast<size_t>(src.elems()) * sizeof(float));
      float *dst = static_cast<float *>(buf->data());
      const int in0 = static_cast<int>(r.whole(kFIn0, "in0", 0));
      const int loopThreads = threadsFor(double(src.elems()), double(parallelMinElems()));
      // Pixels of `blk` channels in [n][c / blk][h][w][blk] (NHWC: one block of all channels).
      const int64_t blk = inBlk == 0 ? in.c : inBlk, blocks = in.n * (in.c / blk);
      s.loop = [=](const InferencePlan &plan) {
        const float *x = plan.ptr(in0);
        const size_t row = static_cast<size_t>(blk) * sizeof(float);
        parallelFor(blocks * out.h, loopThreads, [&](int64_t bi) {
          const int64_t b = bi / out.h, i = bi % out.h, y = i * sh - pt;
          for (int64_t j = 0; j < out.w; j++) {
            const int64_t x0 = j * sw - pl;
            float *to = dst + ((b * out.h + i) * out.w + j) * blk;
            if (y < 0 || y >= in.h || x0 < 0 || x0 >= in.w)
              std::memset(to, 0, row);
            else
              std::memcpy(to, x + ((b * in.h + y) * in.w + x0) * blk, row);
          }
        });
      };
      s.held.push_back(std::move(buf));
    }
    // The first conv reads the NHWC input and writes a blocked output: its jit kernel takes the
    // input as NCHW (oneDNN's first-layer path; from NHWC it falls back to a reference kernel), so
    // the input is reordered to NCHW first.
    const bool toNchw = !gather && inBlk == 0 && outBlk != 0;
    const memory::desc srcD = toNchw
                                  ? memory::desc({src.n, src.c, src.h, src.w}, dt::f32, tag::nchw)
                                  : layoutDesc(src, inBlk);
    const memory::desc dstD = layoutDesc(out, outBlk);
    if (toNchw) {
      s.held.push_back(std::make_unique<Buffer>(srcD.get_size()));
      memory from(nhwcDesc(src), cpuEngine(), nullptr),
          to(srcD, cpuEngine(), s.held.back()->data());
      const dnnl::reorder reorder(from, to);
      const int in0 = tensor(r, kFIn0, "in0", t);
      s.loop = [=](const InferencePlan &plan) mutable {
        from.set_data_handle(plan.ptr(in0));
        reorder.execute(plan.stream, from, to);
      };
    }
    const memory::desc biasD({co}, dt::f32, tag::x);
    // TF.js's filter [kh, kw, ci/g, co] (a depthwise [kh, kw, ci, mult] is the same memory with
    // g = ci) as oneDNN's OIHW / GOIHW, by strides.
    const memory::desc userW =
        groups == 1 ? memory::desc({co, cig, kh, kw}, dt::f32, {1, co, kw * cig * co, cig * co})
                    : memory::desc({groups, cog, cig, kh, kw}, dt::f32,
                                   {cog, 1, co, kw * cig * co, cig * co});
    const memory::desc anyW(userW.dims(), dt::f32, tag::any);
    auto attr = userScratchpad();
    attr.set_post_ops(actPostOps(act, alpha, beta, hasSum));
    using CF = dnnl::convolution_forward;
    const memory::dims strides{csh, csw}, dil{dh - 1, dw - 1}, padL{cpt, cpl}, padR{cpb, cpr};
    auto desc =
        hasBias ? CF::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                           srcD, anyW, biasD, dstD, strides, dil, padL, padR)
                : CF::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                           srcD, anyW, dstD, strides, dil, padL, padR);
    CF::primitive_desc pd(desc, attr, cpuEngine());
    s.prim = CF(pd);
    s.held.push_back(reordered(filter, userW, pd.weights_desc()));
    s.args.emplace(DNNL_ARG_WEIGHTS, memory(pd.weights_desc(), cpuEngine(), s.held.back()->data()));
    if (hasBias) {
      s.held.push_back(copyOf(*bias));
      s.args.emplace(DNNL_ARG_BIAS, memory(biasD, cpuEngine(), s.held.back()->data()));
    }
    if (gather || toNchw) {
      s.args.emplace(DNNL_ARG_SRC, memory(srcD, cpuEngine(), s.held.front()->data()));
    } else {
      s.bindings.push_back({DNNL_ARG_SRC, tensor(r, kFIn0, "in0", t), srcD});
    }
    s.bindings.push_back({DNNL_ARG_DST, static_cast<int>(t), dstD});
    finishPrimitive(s, pd);
    if (p.split == Split::kRows && out.h >= 2 && !toNchw) {
      splitRows(s, r, t, src, out, {kh, kw, csh, csw, dh, dw, cpt, cpl, cpr},
                hasBias ? biasD : memory::desc(), attr, userW, pd.weights_desc(), filter, gather);
    }
    if (p.split == Split::kChannels) {
      splitChannels(s, r, t, src, out, {kh, kw, csh, csw, dh, dw, cpt, cpb, cpl, cpr}, groups,
                    inBlk, outBlk, gather || toNchw, toNchw, hasBias, attr, filter, srcD);
    }
    return out;
  }

  // The conv's output channels in two pieces of whole channel blocks, one primitive each over
  // the input channels it reads (all of them; a grouped conv's own groups), for a split plan at
  // batch 1: in the blocked layout [c / blk][h][w][blk] a run of whole blocks is one contiguous
  // range, so each piece reads and writes dense memory and keeps every pixel — the jit kernels
  // block over pixels and output channels, and pieces of few rows ran them slower than one
  // thread did. Leaves the step whole when its output is NHWC or one block.
  void splitChannels(PlanStep &s, const Record &r, size_t t, const Shape &src, const Shape &out,
                     const std::vector<int64_t> &g, int64_t groups, int64_t inBlk, int64_t outBlk,
                     bool ownSrc, bool srcNchw, bool hasBias, const dnnl::primitive_attr &attr,
                     const PlanWeight &filter, const memory::desc &wholeSrcD) {
    if (outBlk == 0 || out.n != 1) return;
    const int64_t cig = src.c / groups, cog = out.c / groups;
    // Groups a unit (the fewest whole groups that start a piece on block boundaries, in and out).
    int64_t unit = 1;
    if (groups > 1) {
      if (inBlk == 0 && !srcNchw) return;  // NHWC: a channel range is not contiguous
      const int64_t inAlign = srcNchw ? 1 : inBlk;
      while (unit <= groups && !((unit * cog) % outBlk == 0 && (unit * cig) % inAlign == 0))
        unit++;
      if (unit > groups || groups % unit != 0) return;
    } else {
      unit = outBlk;  // output channels a unit
    }
    const int64_t units = (groups > 1 ? groups : out.c) / unit;
    if (units < 2) return;
    const int64_t kh = g[0], kw = g[1];
    const memory::dims strides{g[2], g[3]}, dil{g[4] - 1, g[5] - 1}, padL{g[6], g[8]},
        padR{g[7], g[9]};
    std::vector<PlanStep::Half> halves(2);
    const int64_t firstUnits = (units + 1) / 2;
    for (int h = 0; h < 2; h++) {
      const int64_t u0 = h == 0 ? 0 : firstUnits, u1 = h == 0 ? firstUnits : units;
      // This piece's groups (a plain conv: one group of its output channels).
      const int64_t g0 = groups > 1 ? u0 * unit : 0, gn = groups > 1 ? (u1 - u0) * unit : 1;
      const int64_t c0 = groups > 1 ? g0 * cog : u0 * unit;
      const int64_t cn = groups > 1 ? gn * cog : (u1 - u0) * unit;
      const int64_t in0 = g0 * cig, inN = groups > 1 ? gn * cig : src.c;
      const Shape ps{1, src.h, src.w, inN}, po{1, out.h, out.w, cn};
      const memory::desc psD =
          groups == 1 ? wholeSrcD
          : srcNchw ? memory::desc({1, inN, src.h, src.w}, dt::f32, tag::nchw)
              : layoutDesc(ps, inBlk);
      const memory::desc poD = layoutDesc(po, outBlk);
      // TF.js's filter layout, as the whole conv's userW, over this piece's output channels.
      const int64_t co = out.c;
      const memory::desc pieceW =
          groups == 1 ? memory::desc({cn, cig, kh, kw}, dt::f32, {1, co, kw * cig * co, cig * co})
                      : memory::desc({gn, cog, cig, kh, kw}, dt::f32,
                                     {cog, 1, co, kw * cig * co, cig * co});
      const memory::desc anyW(pieceW.dims(), dt::f32, tag::any);
      const memory::desc biasD({cn}, dt::f32, tag::x);
      using CF = dnnl::convolution_forward;
      auto desc =
          hasBias
              ? CF::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                         psD, anyW, biasD, poD, strides, dil, padL, padR)
              : CF::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                         psD, anyW, poD, strides, dil, padL, padR);
      CF::primitive_desc pd(desc, attr, cpuEngine());
      PlanStep::Half &half = halves[h];
      half.prim = CF(pd);
      s.held.push_back(reorderedAt(filter.data + c0, pieceW, pd.weights_desc()));
      half.args.emplace(DNNL_ARG_WEIGHTS,
                        memory(pd.weights_desc(), cpuEngine(), s.held.back()->data()));
      if (hasBias) {
        float *b = static_cast<float *>(s.args.at(DNNL_ARG_BIAS).get_data_handle());
        half.args.emplace(DNNL_ARG_BIAS, memory(biasD, cpuEngine(), b + c0));
      }
      // Blocked or NCHW at batch 1: channel c starts at c·h·w.
      const int64_t srcOffset = in0 * src.h * src.w;
      if (ownSrc) {
        float *own = static_cast<float *>(s.args.at(DNNL_ARG_SRC).get_data_handle());
        half.args.emplace(DNNL_ARG_SRC, memory(psD, cpuEngine(), own + srcOffset));
      } else {
        half.bindings.push_back({DNNL_ARG_SRC, tensor(r, kFIn0, "in0", t), psD, srcOffset});
      }
      half.rowsOffset = c0 * out.h * out.w;
      half.rowsElems = cn * out.h * out.w;
      half.bindings.push_back({DNNL_ARG_DST, static_cast<int>(t), poD, half.rowsOffset});
      if (pd.scratchpad_desc().get_size() > p.scratchDesc.get_size())
        p.scratchDesc = pd.scratchpad_desc();
    }
    s.halves = std::move(halves);
    s.what += " (output channels split in two)";
  }

  // The conv's output rows [0, h/2) and [h/2, h) as two primitives over the input rows each
  // needs (the padding that falls outside them made explicit), for a plan split by rows. Leaves the
  // step whole when a half would read no input row.
  void splitRows(PlanStep &s, const Record &r, size_t t, const Shape &src, const Shape &out,
                 const std::vector<int64_t> &g, const memory::desc &biasD,
                 const dnnl::primitive_attr &attr, const memory::desc &userW,
                 const memory::desc &wholeW, const PlanWeight &filter, bool gathered) {
    const int64_t kh = g[0], csh = g[2], csw = g[3], dh = g[4], dw = g[5], cpt = g[6];
    const int64_t cpl = g[7], cpr = g[8], span = (kh - 1) * dh + 1;
    const int64_t mid = out.h / 2;
    std::vector<PlanStep::Half> halves(2);
    for (int h = 0; h < 2; h++) {
      const int64_t r0 = h == 0 ? 0 : mid, r1 = h == 0 ? mid : out.h;
      const int64_t a = r0 * csh - cpt, b = (r1 - 1) * csh - cpt + span;
      const int64_t i0 = std::max<int64_t>(a, 0), i1 = std::min(b, src.h);
      if (i1 - i0 < 1) return;
      const memory::desc hsD = nhwcDesc({1, i1 - i0, src.w, src.c});
      const memory::desc hoD = nhwcDesc({1, r1 - r0, out.w, out.c});
      const memory::desc anyW(userW.dims(), dt::f32, tag::any);
      using CF = dnnl::convolution_forward;
      const memory::dims strides{csh, csw}, dil{dh - 1, dw - 1}, padL{i0 - a, cpl},
          padR{b - i1, cpr};
      const bool hasBias = biasD.get_size() > 0;
      auto desc =
          hasBias
              ? CF::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                         hsD, anyW, biasD, hoD, strides, dil, padL, padR)
              : CF::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                         hsD, anyW, hoD, strides, dil, padL, padR);
      CF::primitive_desc pd(desc, attr, cpuEngine());
      PlanStep::Half &half = halves[h];
      half.prim = CF(pd);
      if (pd.weights_desc() == wholeW) {
        half.args.emplace(DNNL_ARG_WEIGHTS, s.args.at(DNNL_ARG_WEIGHTS));
      } else {
        s.held.push_back(reordered(filter, userW, pd.weights_desc()));
        half.args.emplace(DNNL_ARG_WEIGHTS,
                          memory(pd.weights_desc(), cpuEngine(), s.held.back()->data()));
      }
      if (hasBias) half.args.emplace(DNNL_ARG_BIAS, s.args.at(DNNL_ARG_BIAS));
      const int64_t srcOffset = i0 * src.w * src.c;
      if (gathered) {
        half.args.emplace(
            DNNL_ARG_SRC,
            memory(hsD, cpuEngine(), static_cast<float *>(s.held.front()->data()) + srcOffset));
      } else {
        half.bindings.push_back({DNNL_ARG_SRC, tensor(r, kFIn0, "in0", t), hsD, srcOffset});
      }
      half.rowsOffset = r0 * out.w * out.c;
      half.rowsElems = (r1 - r0) * out.w * out.c;
      half.bindings.push_back({DNNL_ARG_DST, static_cast<int>(t), hoD, half.rowsOffset});
      if (pd.scratchpad_desc().get_size() > p.scratchDesc.get_size())
        p.scratchDesc = pd.scratchpad_desc();
    }
    s.halves = std::move(halves);
    s.what += " (rows split in two)";
  }

  Shape pool(const Record &r, PlanStep &s, size_t t) {
    const int in0 = tensor(r, kFIn0, "in0", t);
    const Shape in = p.shapes[in0];
    const int64_t kh = r.whole(kFKh, "kh", 1), kw = r.whole(kFKw, "kw", 1);
    const int64_t sh = r.whole(kFSh, "sh", 1), sw = r.whole(kFSw, "sw", 1);
    const int64_t pt = r.whole(kFPt, "pt", 0, kh - 1), pb = r.whole(kFPb, "pb", 0, kh - 1);
    const int64_t pl = r.whole(kFPl, "pl", 0, kw - 1), pr = r.whole(kFPr, "pr", 0, kw - 1);
    const int64_t kind = r.whole(kFExtra0, "pool kind (0 max, 1 average)", 0, 1);
    const int64_t spanH = in.h + pt + pb - kh, spanW = in.w + pl + pr - kw;
    if (spanH < 0 || spanW < 0) r.fail("the window is larger than the padded input " + in.str());
    const Shape out{in.n, spanH / sh + 1, spanW / sw + 1, in.c};
    s.threads = threadsFor(double(out.elems()) * kh * kw, double(parallelMinElems()));
    ExactThreads threads(s.threads);
    const memory::desc srcD = nhwcDesc(in), dstD = nhwcDesc(out);
    using PF = dnnl::pooling_forward;
    PF::desc desc(
        dnnl::prop_kind::forward_inference,
        kind == 0 ? dnnl::algorithm::pooling_max : dnnl::algorithm::pooling_avg_exclude_padding,
        srcD, dstD, {sh, sw}, {kh, kw}, {pt, pl}, {pb, pr});
    PF::primitive_desc pd(desc, userScratchpad(), cpuEngine());
    s.prim = PF(pd);
    s.bindings.push_back({DNNL_ARG_SRC, in0, srcD});
    s.bindings.push_back({DNNL_ARG_DST, static_cast<int>(t), dstD});
    finishPrimitive(s, pd);
    return out;
  }

  Shape dense(const Record &r, PlanStep &s, size_t t) {
    const int in0 = tensor(r, kFIn0, "in0", t);
    const Shape in = p.shapes[in0];
    const int64_t k = in.h * in.w * in.c;
    const int64_t units = r.whole(kFOut, "units", 1);
    const int32_t act = static_cast<int32_t>(r.whole(kFAct, "act", 0, kPlanElu));
    const float alpha = r.number(kFAlpha, "alpha"), beta = r.number(kFBeta, "beta");
    const PlanWeight &kernel = weight(r, kFWeight, "kernel", k * units);
    const bool hasBias = hasField(r, kFBias);
    const PlanWeight *bias = hasBias ? &weight(r, kFBias, "bias", units) : nullptr;
    const Shape out{in.n, 1, 1, units};
    s.threads = threadsFor(double(in.n) * k * units, parallelMinMacs());
    ExactThreads threads(s.threads);
    const memory::desc srcD({in.n, k}, dt::f32, tag::nc), dstD({in.n, units}, dt::f32, tag::nc);
    // TF.js's kernel [k, units] is oneDNN's {units, k} stored input-major (`ba`).
    const memory::desc userW({units, k}, dt::f32, tag::ba), anyW({units, k}, dt::f32, tag::any);
    const memory::desc biasD({units}, dt::f32, tag::x);
    auto attr = userScratchpad();
    attr.set_post_ops(actPostOps(act, alpha, beta, false));
    using IP = dnnl::inner_product_forward;
    auto desc = hasBias ? IP::desc(dnnl::prop_kind::forward_inference, srcD, anyW, biasD, dstD)
                        : IP::desc(dnnl::prop_kind::forward_inference, srcD, anyW, dstD);
    IP::primitive_desc pd(desc, attr, cpuEngine());
    s.prim = IP(pd);
    s.held.push_back(reordered(kernel, userW, pd.weights_desc()));
    s.args.emplace(DNNL_ARG_WEIGHTS, memory(pd.weights_desc(), cpuEngine(), s.held.back()->data()));
    if (hasBias) {
      s.held.push_back(copyOf(*bias));
      s.args.emplace(DNNL_ARG_BIAS, memory(biasD, cpuEngine(), s.held.back()->data()));
    }
    s.bindings.push_back({DNNL_ARG_SRC, in0, srcD});
    s.bindings.push_back({DNNL_ARG_DST, static_cast<int>(t), dstD});
    finishPrimitive(s, pd);
    return out;
  }

  // Element-wise ops: act(x), act(a + b), act(x · scale + shift).
  Shape elementwise(const Record &r, PlanStep &s, size_t t, int64_t code) {
    const int in0 = tensor(r, kFIn0, "in0", t);
    const Shape shape = p.shapes[in0];
    const int32_t act = static_cast<int32_t>(r.whole(kFAct, "act", 0, kPlanElu));
    const float alpha = r.number(kFAlpha, "alpha"), beta = r.number(kFBeta, "beta");
    const int out = static_cast<int>(t);
    const int64_t rows = shape.n * shape.h * shape.w, c = shape.c;
    const int threads = threadsFor(double(shape.elems()), double(parallelMinElems()));
    s.threads = threads;
    if (code == kPlanActivation) {
      s.loop = [=](const InferencePlan &plan) {
        const float *x = plan.ptr(in0);
        float *y = plan.ptr(out);
        parallelFor(rows, threads, [&](int64_t i) {
          for (int64_t j = i * c; j < (i + 1) * c; j++) y[j] = activated(act, x[j], alpha, beta);
        });
      };
    } else if (code == kPlanAdd) {
      const int in1 = tensor(r, kFIn1, "in1", t);
      if (!(p.shapes[in1] == shape))
        r.fail("in1 is " + p.shapes[in1].str() + ", in0 " + shape.str() + " (no broadcasting)");
      s.loop = [=](const InferencePlan &plan) {
        const float *a = plan.ptr(in0), *b = plan.ptr(in1);
        float *y = plan.ptr(out);
        parallelFor(rows, threads, [&](int64_t i) {
          for (int64_t j = i * c; j < (i + 1) * c; j++)
            y[j] = activated(act, a[j] + b[j], alpha, beta);
        });
      };
    } else {
      s.held.push_back(copyOf(weight(r, kFWeight, "scale", c)));
      s.held.push_back(copyOf(weight(r, kFBias, "shift", c)));
      const float *scale = static_cast<const float *>(s.held[0]->data());
      const float *shift = static_cast<const float *>(s.held[1]->data());
      s.loop = [=](const InferencePlan &plan) {
        const float *x = plan.ptr(in0);
        float *y = plan.ptr(out);
        parallelFor(rows, threads, [&](int64_t i) {
          for (int64_t j = 0; j < c; j++)
            y[i * c + j] = activated(act, x[i * c + j] * scale[j] + shift[j], alpha, beta);
        });
      };
    }
    return shape;
  }

  Shape globalAvgPool(const Record &r, PlanStep &s, size_t t) {
    const int in0 = tensor(r, kFIn0, "in0", t);
    const Shape in = p.shapes[in0];
    const int out = static_cast<int>(t);
    const int64_t area = in.h * in.w, c = in.c;
    // x as [n][c / blk][h·w][blk] (NHWC: one block of all channels).
    const int64_t blk = p.block[in0] == 0 ? c : p.block[in0];
    const int threads = threadsFor(double(in.elems()), double(parallelMinElems()));
    s.threads = threads;
    s.loop = [=](const InferencePlan &plan) {
      const float *x = plan.ptr(in0);
      float *y = plan.ptr(out);
      parallelFor(in.n, threads, [&](int64_t n) {
        float *yn = y + n * c;
        std::fill(yn, yn + c, 0.f);
        for (int64_t b = 0; b < c / blk; b++) {
          float *yb = yn + b * blk;
          const float *xb = x + (n * (c / blk) + b) * area * blk;
          for (int64_t a = 0; a < area; a++)
            for (int64_t j = 0; j < blk; j++) yb[j] += xb[a * blk + j];
        }
        const float inv = 1.f / static_cast<float>(area);
        for (int64_t j = 0; j < c; j++) yn[j] *= inv;
      });
    };
    return {in.n, 1, 1, c};
  }

  Shape pad(const Record &r, PlanStep &s, size_t t) {
    const int in0 = tensor(r, kFIn0, "in0", t);
    const Shape in = p.shapes[in0];
    const int64_t pt = r.whole(kFPt, "pt", 0), pb = r.whole(kFPb, "pb", 0);
    const int64_t pl = r.whole(kFPl, "pl", 0), pr = r.whole(kFPr, "pr", 0);
    const Shape o{in.n, in.h + pt + pb, in.w + pl + pr, in.c};
    const int out = static_cast<int>(t);
    const int threads = threadsFor(double(o.elems()), double(parallelMinElems()));
    s.threads = threads;
    s.loop = [=](const InferencePlan &plan) {
      const float *x = plan.ptr(in0);
      float *y = plan.ptr(out);
      parallelFor(o.n * o.h, threads, [&](int64_t ni) {
        const int64_t n = ni / o.h, i = ni % o.h, src = i - pt;
        float *row = y + ni * o.w * o.c;
        if (src < 0 || src >= in.h) {
          std::memset(row, 0, static_cast<size_t>(o.w * o.c) * sizeof(float));
          return;
        }
        std::memset(row, 0, static_cast<size_t>(pl * o.c) * sizeof(float));
        std::memcpy(row + pl * o.c, x + (n * in.h + src) * in.w * in.c,
                    static_cast<size_t>(in.w * in.c) * sizeof(float));
        std::memset(row + (pl + in.w) * o.c, 0, static_cast<size_t>(pr * o.c) * sizeof(float));
      });
    };
    return o;
  }

  Shape softmax(const Record &r, PlanStep &s, size_t t) {
    const int in0 = tensor(r, kFIn0, "in0", t);
    const Shape in = p.shapes[in0];
    const int out = static_cast<int>(t);
    const int64_t rows = in.n * in.h * in.w, c = in.c;
    const int threads = threadsFor(double(in.elems()), double(parallelMinElems()));
    s.threads = threads;
    s.loop = [=](const InferencePlan &plan) {
      const float *x = plan.ptr(in0);
      float *y = plan.ptr(out);
      parallelFor(rows, threads, [&](int64_t i) {
        const float *xi = x + i * c;
        float *yi = y + i * c;
        const float top = *std::max_element(xi, xi + c);
        float sum = 0.f;
        for (int64_t j = 0; j < c; j++) sum += (yi[j] = std::exp(xi[j] - top));
        for (int64_t j = 0; j < c; j++) yi[j] /= sum;
      });
    };
    return in;
  }

  Shape reshape(const Record &r, size_t t) {
    const int in0 = tensor(r, kFIn0, "in0", t);
    const Shape in = p.shapes[in0];
    const Shape o{in.n, r.whole(kFExtra0, "h", 1), r.whole(kFExtra1, "w", 1),
                  r.whole(kFExtra2, "c", 1)};
    if (o.elems() != in.elems()) r.fail("cannot view " + in.str() + " as " + o.str());
    root[t] = root[in0];
    return o;
  }

  Shape concat(const Record &r, PlanStep &s, size_t t) {
    const int in0 = tensor(r, kFIn0, "in0", t), in1 = tensor(r, kFIn1, "in1", t);
    const Shape a = p.shapes[in0], b = p.shapes[in1];
    if (a.n != b.n || a.h != b.h || a.w != b.w)
      r.fail("in0 " + a.str() + " and in1 " + b.str() + " differ outside the channels");
    const Shape o{a.n, a.h, a.w, a.c + b.c};
    const int out = static_cast<int>(t);
    const int threads = threadsFor(double(o.elems()), double(parallelMinElems()));
    s.threads = threads;
    s.loop = [=](const InferencePlan &plan) {
      const float *x0 = plan.ptr(in0), *x1 = plan.ptr(in1);
      float *y = plan.ptr(out);
      parallelFor(a.n * a.h * a.w, threads, [&](int64_t i) {
        std::memcpy(y + i * o.c, x0 + i * a.c, static_cast<size_t>(a.c) * sizeof(float));
        std::memcpy(y + i * o.c + a.c, x1 + i * b.c, static_cast<size_t>(b.c) * sizeof(float));
      });
    };
    return o;
  }

  Shape op(const Record &r, PlanStep &s, size_t t) {
    const int64_t code = r.code();
    s.what = "op " + std::to_string(r.index) + " " + opName(code);
    switch (code) {
      case kPlanConv: return conv(r, s, t);
      case kPlanPool: return pool(r, s, t);
      case kPlanGlobalAvgPool: return globalAvgPool(r, s, t);
      case kPlanDense: return dense(r, s, t);
      case kPlanActivation:
      case kPlanAdd:
      case kPlanScaleShift: return elementwise(r, s, t, code);
      case kPlanPad: return pad(r, s, t);
      case kPlanSoftmax: return softmax(r, s, t);
      case kPlanReshape: return reshape(r, t);
      case kPlanConcat: return concat(r, s, t);
      default: r.fail("unknown op code " + numberText(r.f[kFCode]));
    }
  }

  // The tensors a checked record reads (for liveness): in1 only where the op takes it.
  static std::vector<int> readsOf(const Record &r) {
    std::vector<int> in{static_cast<int>(r.f[kFIn0])};
    const int64_t code = r.code();
    const bool takesIn1 = code == kPlanAdd || code == kPlanConcat || code == kPlanConv;
    if (takesIn1 && r.f[kFIn1] != -1) in.push_back(static_cast<int>(r.f[kFIn1]));
    return in;
  }

  // Buffers by liveness: a tensor takes the smallest free buffer that fits, or a new one; a conv's
  // output takes its residual's buffer when that residual dies there (oneDNN's sum post-op adds
  // into the output in place). The output tensor's buffer lives to the end.
  void assignBuffers(const double *records, size_t count) {
    const size_t tensors = count + 1;
    std::vector<int64_t> lastUse(tensors, -1);
    for (size_t i = 0; i < count; i++)
      for (int in : readsOf({records + i * kPlanFields, i})) lastUse[root[in]] = int64_t(i);
    lastUse[root[count]] = std::numeric_limits<int64_t>::max();
    std::vector<size_t> slotBytes;
    std::vector<int> freeSlots;
    p.slotOf.assign(tensors, -1);
    for (size_t i = 0; i < count; i++) {
      const size_t t = i + 1;
      const Record r{records + i * kPlanFields, i};
      if (root[t] != static_cast<int>(t)) {
        p.slotOf[t] = p.slotOf[root[t]];
        continue;
      }
      const size_t bytes = static_cast<size_t>(p.shapes[t].elems()) * sizeof(float);
      const PlanStep &s = p.steps[i];
      const int sumRoot = s.sumFrom >= 0 ? root[s.sumFrom] : -1;
      if (sumRoot > 0 && lastUse[sumRoot] == int64_t(i) && sumRoot != root[readsOf(r)[0]]) {
        p.slotOf[t] = p.slotOf[sumRoot];
        lastUse[sumRoot] = -1;  // handed over: not freed below
      } else {
        auto best = freeSlots.end();
        for (auto it = freeSlots.begin(); it != freeSlots.end(); ++it) {
          if (slotBytes[*it] >= bytes &&
              (best == freeSlots.end() || slotBytes[*it] < slotBytes[*best]))
            best = it;
        }
        if (best != freeSlots.end()) {
          p.slotOf[t] = *best;
          freeSlots.erase(best);
        } else {
          p.slotOf[t] = static_cast<int>(slotBytes.size());
          slotBytes.push_back(bytes);
        }
      }
      for (int in : readsOf(r)) {
        const int rt = root[in];
        if (rt > 0 && lastUse[rt] == int64_t(i)) {
          freeSlots.push_back(p.slotOf[rt]);
          lastUse[rt] = -1;  // an op reading one tensor twice frees it once
        }
      }
    }
    for (size_t b : slotBytes) p.slots.push_back(std::make_unique<Buffer>(b));
  }
};

}  // namespace

namespace {

// Examples per thread from which a batch is split across threads (each running the whole net on
// its share, on one thread) instead of splitting each op: one wake-up of the team per run instead
// of one per op, and no op too small to share. DOCONV_PLAN_SPLIT_MIN sets it (0: never split).
int64_t splitMinPerThread() {
  static const int64_t v = [] {
    const char *s = std::getenv("DOCONV_PLAN_SPLIT_MIN");
    return s != nullptr && *s != '\0' ? std::atoll(s) : int64_t(4);
  }();
  return v;
}

PlanPtr buildOne(const Shape &input, const double *records, size_t count,
                 const std::vector<PlanWeight> &weights, Split split = Split::kNone);

// The batch in chunks of about a quarter of a thread's share (at least splitMinPerThread()
// examples), handed to the threads as they finish the one before: a thread that another process
// slows takes fewer chunks, where equal shares would wait for it (measured: ResNet-20 batch 64 on
// the shared 2-core VM). Each thread runs its own single-threaded plans.
PlanPtr buildSplit(const Shape &input, const double *records, size_t count,
                   const std::vector<PlanWeight> &weights, int threads) {
  PlanPtr p(new InferencePlan());
  p->maxThreads = threads;
  ExactThreads one(1);
  static const int64_t perThread = [] {
    const char *s = std::getenv("DOCONV_PLAN_CHUNKS");
    return s != nullptr && *s != '\0' ? std::max<int64_t>(1, std::atoll(s)) : int64_t(4);
  }();
  p->chunk =
      std::max(splitMinPerThread(), (input.n + perThread * threads - 1) / (perThread * threads));
  const int64_t tail = input.n % p->chunk;
  for (int i = 0; i < threads; i++) {
    p->parts.push_back(buildOne({p->chunk, input.h, input.w, input.c}, records, count, weights));
    if (tail > 0)
      p->tails.push_back(buildOne({tail, input.h, input.w, input.c}, records, count, weights));
  }
  Shape out = p->parts.front()->shapes.back();
  out.n = input.n;
  p->shapes = {input, out};
  return p;
}

}  // namespace

PlanPtr buildInferencePlan(const int64_t inputShape[4], const double *records, size_t count,
                           const std::vector<PlanWeight> &weights) {
  if (count == 0) throw std::runtime_error("the plan has no ops");
  const Shape input{inputShape[0], inputShape[1], inputShape[2], inputShape[3]};
  if (elemsOf({input.n, input.h, input.w, input.c}) <= 0)
    throw std::runtime_error("input shape " + input.str() + " must have every dimension ≥ 1");
  const int threads = threadCount();
  const int64_t split = splitMinPerThread();
  if (threads > 1 && split > 0 && input.n >= split * threads)
    return buildSplit(input, records, count, weights, threads);
  if (threads > 1 && input.n == 1) {
    PlanPtr p = buildOne(input, records, count, weights, Split::kChannels);
    p->byRows = buildOne(input, records, count, weights, Split::kRows);
    const char *way = std::getenv("DOCONV_PLAN_BATCH1");
    const std::string w = way == nullptr ? "" : way;
    p->forcedWay = w == "one" ? 0 : w == "channels" ? 1 : w == "rows" ? 2 : -1;
    return p;
  }
  return buildOne(input, records, count, weights);
}

namespace {

// Which tensors are kept blocked (channelBlock): a conv's output that only convs and the global
// average pool read — oneDNN's jit convs run faster on blocked activations than on NHWC, and
// nothing in between needs NHWC. A conv reads and writes one layout (a residual added into its
// output too), except the first conv, which reads the NHWC input; anything else stays NHWC.
// Runs before the records are checked: a field that does not look right leaves its tensor NHWC.
std::vector<int64_t> blockedLayouts(const double *records, size_t count) {
  const int64_t blk = channelBlock();
  std::vector<int64_t> block(count + 1, 0);
  if (blk == 0) return block;
  auto field = [&](size_t i, int f) -> int64_t {
    const double v = records[i * kPlanFields + f];
    return v == std::floor(v) && v >= 0 && v < 1e9 ? static_cast<int64_t>(v) : -1;
  };
  auto tensorField = [&](size_t i, int f) -> int64_t {
    const int64_t t = field(i, f);
    return t >= 0 && t <= static_cast<int64_t>(i) ? t : -1;
  };
  std::vector<bool> blocked(count + 1, false), read(count + 1, false);
  for (size_t i = 0; i + 1 < count; i++) {
    const int64_t out = field(i, kFOut);
    blocked[i + 1] = field(i, kFCode) == kPlanConv && out > 0 && out % blk == 0;
  }
  for (size_t i = 0; i < count; i++) {
    const int64_t code = field(i, kFCode);
    const bool takesIn1 = code == kPlanConv || code == kPlanAdd || code == kPlanConcat;
    for (int f : {kFIn0, kFIn1}) {
      if (f == kFIn1 && !takesIn1) continue;
      const int64_t t = tensorField(i, f);
      if (t < 0) continue;
      read[t] = true;
      const bool reads = code == kPlanConv || (code == kPlanGlobalAvgPool && f == kFIn0);
      if (!reads) blocked[t] = false;
    }
  }
  for (size_t t = 0; t <= count; t++) blocked[t] = blocked[t] && read[t];
  for (bool changed = true; changed;) {
    changed = false;
    auto unblock = [&](int64_t t) {
      if (t >= 0 && blocked[t]) blocked[t] = false, changed = true;
    };
    for (size_t i = 0; i < count; i++) {
      if (field(i, kFCode) != kPlanConv) continue;
      const int64_t t = static_cast<int64_t>(i) + 1, src = tensorField(i, kFIn0);
      const int64_t sum = tensorField(i, kFIn1);
      if (sum >= 0 && blocked[sum] != blocked[t]) unblock(sum), unblock(t);
      if (src >= 0 && blocked[src] && !blocked[t]) unblock(src);
      // NHWC in, blocked out: the plan's input only, and not through the strided 1×1 gather.
      const bool strided1x1 = field(i, kFKh) == 1 && field(i, kFKw) == 1 &&
                              (field(i, kFSh) != 1 || field(i, kFSw) != 1);
      if (src >= 0 && !blocked[src] && blocked[t] && (src > 0 || strided1x1)) unblock(t);
    }
  }
  for (size_t t = 0; t <= count; t++) block[t] = blocked[t] ? blk : 0;
  return block;
}

PlanPtr buildOne(const Shape &input, const double *records, size_t count,
                 const std::vector<PlanWeight> &weights, Split split) {
  PlanPtr p(new InferencePlan());
  p->stream = dnnl::stream(cpuEngine());
  p->maxThreads = threadCount();
  p->split = split;
  p->block = split == Split::kRows ? std::vector<int64_t>(count + 1, 0)
                                   : blockedLayouts(records, count);
  p->shapes.push_back(input);
  p->steps.resize(count);
  Builder b{weights, *p, {0}};
  for (size_t i = 0; i < count; i++) {
    const Record r{records + i * kPlanFields, i};
    b.root.push_back(static_cast<int>(i + 1));
    Shape s;
    try {
      s = b.op(r, p->steps[i], i + 1);
    } catch (const dnnl::error &e) {
      r.fail(std::string("oneDNN: ") + e.what());
    }
    if (elemsOf({s.n, s.h, s.w, s.c}) <= 0) r.fail("its output " + s.str() + " has no elements");
    p->shapes.push_back(s);
  }
  b.assignBuffers(records, count);
  p->scratch = std::make_unique<Buffer>(p->scratchDesc.get_size());
  auto &e = cpuEngine();
  for (PlanStep &s : p->steps) {
    for (const auto &bd : s.bindings) {
      const bool isInput = p->slotOf[bd.tensor] < 0;
      s.args[bd.arg] = memory(bd.desc, e, isInput ? nullptr : p->ptr(bd.tensor));
      if (isInput) s.inputArgs.push_back(bd.arg);
    }
    if (s.prim) s.args[DNNL_ARG_SCRATCHPAD] = memory(p->scratchDesc, e, p->scratch->data());
    for (size_t h = 0; h < s.halves.size(); h++) {
      PlanStep::Half &half = s.halves[h];
      for (const auto &bd : half.bindings) {
        const bool isInput = p->slotOf[bd.tensor] < 0;
        half.args[bd.arg] = memory(bd.desc, e, isInput ? nullptr : p->ptr(bd.tensor) + bd.offset);
        if (isInput) half.inputArgs.push_back({bd.arg, bd.offset});
      }
      if (!p->scratch2) p->scratch2 = std::make_unique<Buffer>(p->scratchDesc.get_size());
      half.args[DNNL_ARG_SCRATCHPAD] =
          memory(p->scratchDesc, e, (h == 0 ? p->scratch : p->scratch2)->data());
    }
    s.what += ", " + std::to_string(s.threads) + (s.threads == 1 ? " thread" : " threads");
  }
  return p;
}

}  // namespace

int64_t planInputElems(const InferencePlan &p) { return p.shapes.front().elems(); }
int64_t planOutputElems(const InferencePlan &p) { return p.shapes.back().elems(); }

std::vector<int64_t> planOutputShape(const InferencePlan &p) {
  const Shape &s = p.shapes.back();
  return {s.n, s.h, s.w, s.c};
}

namespace {
// A batch-1 way's run time: the median of its last three (0 until it has three).
double wayTime(const InferencePlan &p, int way) {
  double t[3] = {p.wayTimes[way][0], p.wayTimes[way][1], p.wayTimes[way][2]};
  std::sort(t, t + 3);
  return t[0] == 0 ? 0 : t[1];
}
}  // namespace

std::string planDescription(const InferencePlan &p) {
  if (!p.parts.empty()) {
    return "the batch of " + std::to_string(p.shapes.front().n) + " in chunks of " +
           std::to_string(p.chunk) + ", handed to " + std::to_string(p.parts.size()) +
           " threads as they free up (one thread each); a chunk on the first thread:\n" +
           planDescription(*p.parts.front());
  }
  std::string d;
  if (p.byRows) {
    auto us = [&](int way) {
      const double t = wayTime(p, way);
      return t == 0 ? std::string("not yet timed") : std::to_string(int64_t(1e6 * t)) + " µs";
    };
    d += "batch 1 on two threads, a run (median of the last 3; the fastest way runs, another "
         "every 32nd run): on one thread " + us(0) + ", each conv's output channels split " +
         us(1) + ", each conv's rows split (NHWC) " + us(2) + "; the steps split by channels:\n";
  }
  for (const PlanStep &s : p.steps) {
    if (s.what.empty()) continue;
    d += s.what;
    if (s.runs > 0) d += ", " + std::to_string(int64_t(1e6 * s.seconds / double(s.runs))) + " µs";
    d += "\n";
  }
  return d;
}

int64_t planBytes(const InferencePlan &p) {
  int64_t n = static_cast<int64_t>(p.scratch ? p.scratch->size() : 0);
  for (const auto &part : p.parts) n += planBytes(*part);
  for (const auto &part : p.tails) n += planBytes(*part);
  if (p.byRows) n += planBytes(*p.byRows);
  for (const auto &b : p.slots) n += static_cast<int64_t>(b->size());
  for (const PlanStep &s : p.steps)
    for (const auto &b : s.held) n += static_cast<int64_t>(b->size());
  return n;
}

namespace {

// Spins (yielding past a few thousand turns, in case the awaited thread shares this core) until
// `ready()`.
template <typename Ready>
void spinUntil(Ready ready) {
  for (int spins = 0; !ready(); spins++) {
    if (spins > 4000) std::this_thread::yield();
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
}

// One step on the calling thread: its loop, then its primitive (the residual copied into the
// output first when it is not already there).
void runStep(InferencePlan &p, PlanStep &s, const float *x) {
  if (s.loop) s.loop(p);
  if (!s.prim) return;
  for (int arg : s.inputArgs) s.args.at(arg).set_data_handle(const_cast<float *>(x));
  if (s.sumFrom >= 0 && p.slotOf[s.sumFrom] != p.slotOf[s.sumInto]) {
    std::memcpy(p.ptr(s.sumInto), p.ptr(s.sumFrom),
                static_cast<size_t>(p.shapes[s.sumInto].elems()) * sizeof(float));
  }
  s.prim.execute(p.stream, s.args);
}

void runHalf(InferencePlan &p, PlanStep &s, PlanStep::Half &half, const float *x,
             dnnl::stream &stream) {
  for (const auto &[arg, offset] : half.inputArgs)
    half.args.at(arg).set_data_handle(const_cast<float *>(x) + offset);
  if (s.sumFrom >= 0 && p.slotOf[s.sumFrom] != p.slotOf[s.sumInto]) {
    std::memcpy(p.ptr(s.sumInto) + half.rowsOffset, p.ptr(s.sumFrom) + half.rowsOffset,
                static_cast<size_t>(half.rowsElems) * sizeof(float));
  }
  half.prim.execute(stream, half.args);
  stream.wait();
}

// The second thread of a row-split plan: a thread of its own, not OpenMP's team, so that a run
// never waits for it to wake (150–250 µs on this VM, docs/engine.md#thread-count-by-work) nor to
// leave. The plan's thread opens each conv's halves in turn and takes every half the helper has
// not claimed yet; it waits only for a half the helper is running. A helper that wakes after
// the run ended does nothing.
class SplitHelper {
 public:
  explicit SplitHelper(InferencePlan &p)
      : p_(p), claimed_(p.steps.size()), done_(p.steps.size()), thread_([this] { loop(); }) {}
  ~SplitHelper() {
    {
      std::lock_guard<std::mutex> lock(m_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  SplitHelper(const SplitHelper &) = delete;
  SplitHelper &operator=(const SplitHelper &) = delete;

  // The whole plan, on the calling thread with the helper's help.
  void run(const float *x) {
    const int64_t run = ++runs_;
    x_ = x;
    for (size_t i = 0; i < p_.steps.size(); i++) {
      claimed_[i].store(0, std::memory_order_relaxed);
      done_[i].store(0, std::memory_order_relaxed);
    }
    open_.store(-1, std::memory_order_relaxed);
    gate_.store(run, std::memory_order_release);
    latest_.store(run, std::memory_order_release);
    {
      std::lock_guard<std::mutex> lock(m_);
      wake_ = run;
    }
    cv_.notify_one();
    try {
      steps(x);
    } catch (...) {
      std::lock_guard<std::mutex> lock(m_);
      if (!failed_) failed_ = std::current_exception();
    }
    open_.store(kDone, std::memory_order_release);
    int64_t expected = run;
    if (!gate_.compare_exchange_strong(expected, kClosed))  // the helper is in: let it leave
      spinUntil([&] { return gate_.load(std::memory_order_acquire) == kClosed; });
    std::exception_ptr failed;
    {
      std::lock_guard<std::mutex> lock(m_);
      std::swap(failed, failed_);
    }
    if (failed) std::rethrow_exception(failed);
  }

 private:
  static constexpr int64_t kClosed = -1, kDone = -2, kIn = int64_t(1) << 62;

  void steps(const float *x) {
    for (size_t i = 0; i < p_.steps.size(); i++) {
      PlanStep &s = p_.steps[i];
      const double start = omp_get_wtime();
      if (s.halves.empty()) {
        runStep(p_, s, x);
        p_.stream.wait();
      } else {
        if (s.loop) s.loop(p_);
        open_.store(static_cast<int64_t>(i), std::memory_order_release);
        halves(i, p_.stream);
        const int n = static_cast<int>(s.halves.size());
        spinUntil([&] { return done_[i].load(std::memory_order_acquire) == n; });
      }
      s.seconds += omp_get_wtime() - start;
      s.runs++;
    }
  }

  // Claims and runs halves of step i until none is left.
  void halves(size_t i, dnnl::stream &stream) {
    PlanStep &s = p_.steps[i];
    const int n = static_cast<int>(s.halves.size());
    for (int h; (h = claimed_[i].fetch_add(1, std::memory_order_acq_rel)) < n;) {
      try {
        runHalf(p_, s, s.halves[static_cast<size_t>(h)], x_, stream);
      } catch (...) {  // counted as done (no thread waits forever); the run rethrows it
        std::lock_guard<std::mutex> lock(m_);
        if (!failed_) failed_ = std::current_exception();
      }
      done_[i].fetch_add(1, std::memory_order_release);
    }
  }

  void loop() {
    omp_set_num_threads(1);
    dnnl::stream stream(p_.stream.get_engine());
    int64_t seen = 0;
    for (;;) {
      // Runs back to back find the helper awake: it spins up to 300 µs before it sleeps.
      const double until = omp_get_wtime() + 300e-6;
      while (latest_.load(std::memory_order_acquire) <= seen && omp_get_wtime() < until) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
      }
      if (latest_.load(std::memory_order_acquire) > seen) {
        seen = latest_.load(std::memory_order_acquire);
      } else {
        std::unique_lock<std::mutex> lock(m_);
        cv_.wait(lock, [&] { return stop_ || wake_ > seen; });
        if (stop_) return;
        seen = wake_;
      }
      int64_t expected = seen;
      if (!gate_.compare_exchange_strong(expected, seen | kIn)) continue;  // that run is over
      int64_t next = 0;
      for (int spins = 0;;) {
        const int64_t open = open_.load(std::memory_order_acquire);
        if (open == kDone) break;
        if (open >= next) {
          halves(static_cast<size_t>(open), stream);
          next = open + 1;
          spins = 0;
          continue;
        }
        if (++spins > 4000) std::this_thread::yield();
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
      }
      gate_.store(kClosed, std::memory_order_release);
    }
  }

  InferencePlan &p_;
  std::vector<std::atomic<int>> claimed_, done_;
  std::atomic<int64_t> gate_{kClosed}, open_{-1};
  const float *x_ = nullptr;
  int64_t runs_ = 0;
  std::mutex m_;
  std::condition_variable cv_;
  bool stop_ = false;
  int64_t wake_ = 0;
  std::atomic<int64_t> latest_{0};  // wake_, read without the lock while spinning
  std::exception_ptr failed_;
  std::thread thread_;  // last: starts once the rest is built
};

// Every step on the calling thread (with the team its size earns), then the output copied out.
void runSteps(InferencePlan &p, const float *x, float *y) {
  p.input = x;
  ExactThreads threads(p.maxThreads);
  for (size_t i = 0; i < p.steps.size(); i++) {
    PlanStep &s = p.steps[i];
    const double start = omp_get_wtime();
    threads.set(s.threads);
    runStep(p, s, x);
    s.seconds += omp_get_wtime() - start;
    s.runs++;
  }
  p.stream.wait();
  std::memcpy(y, p.ptr(static_cast<int>(p.shapes.size()) - 1),
              static_cast<size_t>(planOutputElems(p)) * sizeof(float));
  p.input = nullptr;
}

// A split plan's run: its convs' halves shared with its helper thread.
void runSplit(InferencePlan &p, const float *x, float *y) {
  p.input = x;
  if (!p.helper) p.helper = std::make_unique<SplitHelper>(p);
  p.helper->run(x);
  std::memcpy(y, p.ptr(static_cast<int>(p.shapes.size()) - 1),
              static_cast<size_t>(planOutputElems(p)) * sizeof(float));
  p.input = nullptr;
}

}  // namespace

void runInferencePlan(InferencePlan &p, const float *x, float *y) {
  if (!p.parts.empty()) {
    const int64_t n = p.shapes.front().n, chunks = (n + p.chunk - 1) / p.chunk;
    const int64_t inPer = p.shapes.front().elems() / n, outPer = p.shapes.back().elems() / n;
    const int threads = static_cast<int>(p.parts.size());
    std::vector<std::exception_ptr> failed(static_cast<size_t>(chunks));  // none may leave
#pragma omp parallel num_threads(threads)
    {
      const int me = omp_get_thread_num();
#pragma omp for schedule(dynamic, 1)
      for (int64_t k = 0; k < chunks; k++) {
        const int64_t first = k * p.chunk;
        InferencePlan &part = first + p.chunk > n ? *p.tails[me] : *p.parts[me];
        try {
          runInferencePlan(part, x + first * inPer, y + first * outPer);
        } catch (...) {
          failed[k] = std::current_exception();
        }
      }
    }
    for (auto &e : failed)
      if (e) std::rethrow_exception(e);
    return;
  }
  if (!p.byRows) {
    runSteps(p, x, y);
    return;
  }
  const int64_t n = p.wayRuns++;
  int way = p.forcedWay;
  if (way < 0 && n < 9) {
    way = static_cast<int>(n % 3);  // every way, in turn, to start with
  } else if (way < 0) {
    way = 0;
    for (int w = 1; w < 3; w++)
      if (wayTime(p, w) < wayTime(p, way)) way = w;
    if (n % 32 == 0) way = (way + 1 + static_cast<int>(n / 32 % 2)) % 3;
  }
  const double begin = omp_get_wtime();
  if (way == 2)
    runSplit(*p.byRows, x, y);
  else if (way == 1)
    runSplit(p, x, y);
  else
    runSteps(p, x, y);
  double *times = p.wayTimes[way];
  times[0] = times[1], times[1] = times[2], times[2] = omp_get_wtime() - begin;
}

void PlanDeleter::operator()(InferencePlan *p) const { delete p; }

}  // namespace doconv
