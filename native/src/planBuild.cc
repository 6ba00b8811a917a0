// The inference plan (plan.h) built: records checked and sized, buffers assigned by liveness, one
// step per op. Convs and dense layers are oneDNN primitives (forward_inference, filters reordered
// once at build), with bias, activation and a residual add (the `sum` post-op, written into the
// residual's own buffer when nothing else reads it) fused; the small remaining ops are OpenMP
// loops. Each step runs on the thread count its size earns: below the engine's thresholds
// (parallelMinMacs / parallelMinElems, common.h) a step runs on the calling thread alone, because
// waking libgomp's passive team costs more than such a step. Convs are in planConv.cc.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "planParts.h"

namespace doconv {

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

std::string numberText(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

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

memory::desc layoutDesc(const Shape &s, int64_t blk) {
  if (blk == 0) return nhwcDesc(s);
  return memory::desc({s.n, s.c, s.h, s.w}, dt::f32, blk == 16 ? tag::nChw16c : tag::nChw8c);
}

Shape PlanBuilder::pool(const Record &r, PlanStep &s, size_t t) {
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
      kind == 0 ? dnnl::algorithm::pooling_max : dnnl::algorithm::pooling_avg_exclude_padding, srcD,
      dstD, {sh, sw}, {kh, kw}, {pt, pl}, {pb, pr});
  PF::primitive_desc pd(desc, userScratchpad(), cpuEngine());
  s.prim = PF(pd);
  s.bindings.push_back({DNNL_ARG_SRC, in0, srcD});
  s.bindings.push_back({DNNL_ARG_DST, static_cast<int>(t), dstD});
  finishPrimitive(s, pd);
  return out;
}

Shape PlanBuilder::dense(const Record &r, PlanStep &s, size_t t) {
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
Shape PlanBuilder::elementwise(const Record &r, PlanStep &s, size_t t, int64_t code) {
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

Shape PlanBuilder::globalAvgPool(const Record &r, PlanStep &s, size_t t) {
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

Shape PlanBuilder::pad(const Record &r, PlanStep &s, size_t t) {
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

Shape PlanBuilder::softmax(const Record &r, PlanStep &s, size_t t) {
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

Shape PlanBuilder::reshape(const Record &r, size_t t) {
  const int in0 = tensor(r, kFIn0, "in0", t);
  const Shape in = p.shapes[in0];
  const Shape o{in.n, r.whole(kFExtra0, "h", 1), r.whole(kFExtra1, "w", 1),
                r.whole(kFExtra2, "c", 1)};
  if (o.elems() != in.elems()) r.fail("cannot view " + in.str() + " as " + o.str());
  root[t] = root[in0];
  return o;
}

Shape PlanBuilder::concat(const Record &r, PlanStep &s, size_t t) {
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

Shape PlanBuilder::op(const Record &r, PlanStep &s, size_t t) {
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
std::vector<int> PlanBuilder::readsOf(const Record &r) {
  std::vector<int> in{static_cast<int>(r.f[kFIn0])};
  const int64_t code = r.code();
  const bool takesIn1 = code == kPlanAdd || code == kPlanConcat || code == kPlanConv;
  if (takesIn1 && r.f[kFIn1] != -1) in.push_back(static_cast<int>(r.f[kFIn1]));
  return in;
}

// Buffers by liveness: a tensor takes the smallest free buffer that fits, or a new one; a conv's
// output takes its residual's buffer when that residual dies there (oneDNN's sum post-op adds
// into the output in place). The output tensor's buffer lives to the end.
void PlanBuilder::assignBuffers(const double *records, size_t count) {
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
  p->block =
      split == Split::kRows ? std::vector<int64_t>(count + 1, 0) : blockedLayouts(records, count);
  p->shapes.push_back(input);
  p->steps.resize(count);
  PlanBuilder b{weights, *p, {0}};
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

}  // namespace doconv
