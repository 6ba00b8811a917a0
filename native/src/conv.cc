// Layouts: activations stay NHWC (the wasm heap's layout), so no activation is reordered: oneDNN
// 2.6 runs NHWC convs with its AVX-512 kernels (brgconv forward, jit backward), faster than blocked
// nChw16c buffers plus the reorders at the boundary (results/README.md#engine-notes). Filters
// (small) are left to oneDNN (`any`) and reordered from TF.js's HWIO on each call: explicit hwio
// descriptors make it fall back to gemm:jit. DOCONV_NATIVE_LAYOUT=blocked lets oneDNN pick
// activation layouts too, for comparison.
#include "conv.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <unordered_map>

#include "common.h"

namespace doconv {

namespace {

memory::dims dimsOf(std::initializer_list<int64_t> v) { return memory::dims(v); }

memory::desc nhwc(int n, int h, int w, int c) {
  return memory::desc(dimsOf({n, c, h, w}), dt::f32, tag::nhwc);
}

// TF.js's filter [kh, kw, ci/g, co] as oneDNN's logical OIHW (GOIHW with groups): strides only.
memory::desc tfFilter(const ConvGeom &g) {
  const int64_t cig = g.ci / g.groups, co = g.co, cog = g.co / g.groups;
  if (g.groups == 1) {
    return memory::desc(dimsOf({co, cig, g.kh, g.kw}), dt::f32,
                        dimsOf({1, co, g.kw * cig * co, cig * co}));
  }
  return memory::desc(dimsOf({g.groups, cog, cig, g.kh, g.kw}), dt::f32,
                      dimsOf({cog, 1, co, g.kw * cig * co, cig * co}));
}

memory::desc anyLike(const memory::desc &d) { return memory::desc(d.dims(), dt::f32, tag::any); }

bool activationsInNhwc() {
  static const bool v = [] {
    const char *s = std::getenv("DOCONV_NATIVE_LAYOUT");
    return s == nullptr || std::strcmp(s, "blocked") != 0;
  }();
  return v;
}

// An activation's descriptor for a primitive: the heap's NHWC, or oneDNN's choice when blocked.
memory::desc activationDesc(const memory::desc &heap) {
  return activationsInNhwc() ? heap : anyLike(heap);
}

// One tensor at a primitive's boundary: its NHWC/HWIO form on the heap and, when oneDNN chose
// another layout, a cached blocked buffer and the reorder between the two. A small tensor (a
// filter) is reordered on the calling thread alone: a parallel reorder of a few thousand floats
// wakes the sleeping team for ~0.2 ms of waiting, the copy itself takes µs.
struct Port {
  memory::desc user, prim;
  std::unique_ptr<dnnl::reorder> in, out;  // user→prim, prim→user
  std::unique_ptr<Buffer> buf;
  bool small = false;  // reorders on one thread

  void init(const memory::desc &u, const memory::desc &p, bool isInput) {
    user = u;
    prim = p;
    if (u == p) return;
    buf = std::make_unique<Buffer>(p.get_size());
    small = int64_t(p.get_size() / sizeof(float)) < parallelMinElems();
    onItsThreads([&] {
      auto &e = cpuEngine();
      if (isInput) {
        in = std::make_unique<dnnl::reorder>(dnnl::reorder::primitive_desc(e, u, e, p));
      } else {
        out = std::make_unique<dnnl::reorder>(dnnl::reorder::primitive_desc(e, p, e, u));
      }
    });
  }
  // The memory the primitive reads: the heap itself, or the blocked copy made now.
  memory input(const void *heapPtr) const {
    auto &e = cpuEngine();
    memory u(user, e, const_cast<void *>(heapPtr));
    if (!in) return u;
    memory p(prim, e, buf->data());
    run(*in, u, p);
    return p;
  }
  // The memory the primitive writes (call flush after it ran).
  memory output(void *heapPtr) const {
    auto &e = cpuEngine();
    return out ? memory(prim, e, buf->data()) : memory(user, e, heapPtr);
  }
  // `f` on the calling thread alone for a small tensor, else on the caller's team as set.
  template <typename F>
  void onItsThreads(F f) const {
    if (!small) return f();
    ExactThreads one(1);
    f();
  }
  void run(const dnnl::reorder &r, memory &from, memory &to) const {
    onItsThreads([&] { r.execute(cpuStream(), from, to); });
  }
  void flush(memory written, void *heapPtr) const {
    if (!out) return;
    memory u(user, cpuEngine(), heapPtr);
    run(*out, written, u);
  }
};

dnnl::post_ops activationPostOps(int32_t act, float alpha) {
  dnnl::post_ops ops;
  using A = dnnl::algorithm;
  switch (act) {
    case kLinear: break;
    case kRelu: ops.append_eltwise(1.f, A::eltwise_relu, 0.f, 0.f); break;
    case kRelu6: ops.append_eltwise(1.f, A::eltwise_clip_v2, 0.f, 6.f); break;
    case kLeakyRelu: ops.append_eltwise(1.f, A::eltwise_relu, alpha, 0.f); break;
    case kElu: ops.append_eltwise(1.f, A::eltwise_elu, 1.f, 0.f); break;
    case kSigmoid: ops.append_eltwise(1.f, A::eltwise_logistic, 0.f, 0.f); break;
    default: throw std::runtime_error("unknown activation code " + std::to_string(act));
  }
  return ops;
}

struct Descs {
  memory::desc src, wei, dst, bias;
  memory::dims strides, dilates, padL, padR;
};

Descs descsOf(const ConvGeom &g) {
  Descs d;
  d.src = nhwc(g.n, g.h, g.w, g.ci);
  d.dst = nhwc(g.n, g.oh, g.ow, g.co);
  d.wei = tfFilter(g);
  d.bias = memory::desc(dimsOf({g.co}), dt::f32, tag::x);
  d.strides = dimsOf({g.sh, g.sw});
  d.dilates = dimsOf({g.dh - 1, g.dw - 1});
  d.padL = dimsOf({g.pt, g.pl});
  d.padR = dimsOf({g.pb, g.pr});
  return d;
}

dnnl::convolution_forward::primitive_desc forwardPd(const ConvGeom &g, const Descs &d, float alpha,
                                                    bool withActivation) {
  auto src = activationDesc(d.src);
  auto dst = activationDesc(d.dst);
  auto wei = anyLike(d.wei);
  auto attr = userScratchpad();
  if (withActivation) attr.set_post_ops(activationPostOps(g.act, alpha));
  using CF = dnnl::convolution_forward;
  auto desc = g.hasBias
                  ? CF::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                             src, wei, d.bias, dst, d.strides, d.dilates, d.padL, d.padR)
                  : CF::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                             src, wei, dst, d.strides, d.dilates, d.padL, d.padR);
  return CF::primitive_desc(desc, attr, cpuEngine());
}

// Backward data or weights (`Pass`): the same descriptors in the same order, with the forward
// primitive as oneDNN's hint.
template <typename Pass>
typename Pass::primitive_desc backwardPd(const ConvGeom &g, const Descs &d) {
  auto hint = forwardPd(g, d, 0.f, false);
  typename Pass::desc desc(dnnl::algorithm::convolution_direct, activationDesc(d.src),
                           anyLike(d.wei), activationDesc(d.dst), d.strides, d.dilates, d.padL,
                           d.padR);
  return typename Pass::primitive_desc(desc, userScratchpad(), cpuEngine(), hint);
}

// A cached primitive of one pass: besides its ports (in the subclass), its scratchpad (user mode,
// so the buffer is ours and counted) and the implementation oneDNN picked.
template <typename P>
struct Entry {
  using Prim = P;
  P prim;
  Scratchpad scratch;
  std::string impl;
};

struct FwdEntry : Entry<dnnl::convolution_forward> {
  Port src, wei, dst;
  memory::desc bias;
};

struct BwdDataEntry : Entry<dnnl::convolution_backward_data> {
  Port diffDst, wei, diffSrc;
};

struct BwdWeightsEntry : Entry<dnnl::convolution_backward_weights> {
  Port src, diffDst, diffWei;
};

const bool registered = PrimitiveCache<FwdEntry>::registerClear() &&
                        PrimitiveCache<BwdDataEntry>::registerClear() &&
                        PrimitiveCache<BwdWeightsEntry>::registerClear();

std::string keyOf(const char *op, const ConvGeom &g, float alpha) {
  int32_t v[kConvGeomFields + 1];
  std::memcpy(v, &g, sizeof g);
  std::memcpy(&v[kConvGeomFields], &alpha, sizeof alpha);
  return makeKey(op, v, kConvGeomFields + 1);
}

// The entry E of pass `op` for (g, alpha), made on a miss: `pdOf(descs)` gives the primitive
// descriptor, `connect(entry, descs, pd)` sets up the entry's ports.
template <typename E, typename PdOf, typename Connect>
E &cachedEntry(const char *op, const ConvGeom &g, float alpha, PdOf pdOf, Connect connect) {
  return PrimitiveCache<E>::get(keyOf(op, g, alpha), [&] {
    Descs d = descsOf(g);
    auto pd = pdOf(d);
    auto e = std::make_unique<E>();
    e->prim = decltype(e->prim)(pd);
    connect(*e, d, pd);
    e->scratch.init(pd.scratchpad_desc());
    e->impl = pd.impl_info_str();
    return e;
  });
}

FwdEntry &fwdEntry(const ConvGeom &g, float alpha) {
  auto pdOf = [&](const Descs &d) { return forwardPd(g, d, alpha, true); };
  auto connect = [](FwdEntry &e, const Descs &d, const auto &pd) {
    e.src.init(d.src, pd.src_desc(), true);
    e.wei.init(d.wei, pd.weights_desc(), true);
    e.dst.init(d.dst, pd.dst_desc(), false);
    e.bias = d.bias;
  };
  return cachedEntry<FwdEntry>("fwd", g, alpha, pdOf, connect);
}

// The backward passes take no bias or activation: with those fields zeroed, one cache entry serves
// every forward epilogue.
template <typename E, typename Connect>
E &backwardEntry(const char *op, const ConvGeom &g0, Connect connect) {
  ConvGeom g = g0;
  g.hasBias = 0;
  g.act = 0;
  auto pdOf = [&](const Descs &d) { return backwardPd<typename E::Prim>(g, d); };
  return cachedEntry<E>(op, g, 0.f, pdOf, connect);
}

BwdDataEntry &bwdDataEntry(const ConvGeom &g) {
  return backwardEntry<BwdDataEntry>("bwd_data", g, [](auto &e, const Descs &d, const auto &pd) {
    e.diffDst.init(d.dst, pd.diff_dst_desc(), true);
    e.wei.init(d.wei, pd.weights_desc(), true);
    e.diffSrc.init(d.src, pd.diff_src_desc(), false);
  });
}

BwdWeightsEntry &bwdWeightsEntry(const ConvGeom &g) {
  return backwardEntry<BwdWeightsEntry>("bwd_weights", g,
                                        [](auto &e, const Descs &d, const auto &pd) {
                                          e.src.init(d.src, pd.src_desc(), true);
                                          e.diffDst.init(d.dst, pd.diff_dst_desc(), true);
                                          e.diffWei.init(d.wei, pd.diff_weights_desc(), false);
                                        });
}

using ArgMap = std::unordered_map<int, memory>;

// A tensor on the heap at a primitive's boundary: its DNNL_ARG_*, its port and where it is.
struct Input {
  int arg;
  const Port &port;
  const void *heapPtr;
};
struct Output {
  int arg;
  const Port &port;
  void *heapPtr;
};

// Runs an entry's primitive: inputs read through their ports (copied into the primitive's layout
// when it differs), the output written through its port and copied back to the heap.
template <typename E>
void run(const E &e, std::initializer_list<Input> inputs, const Output &out, ArgMap args = {}) {
  auto &s = cpuStream();
  for (const Input &in : inputs) args.emplace(in.arg, in.port.input(in.heapPtr));
  memory written = out.port.output(out.heapPtr);
  args.emplace(out.arg, written);
  args.emplace(DNNL_ARG_SCRATCHPAD, e.scratch.arg());
  e.prim.execute(s, args);
  out.port.flush(written, out.heapPtr);
  s.wait();
}

// oneDNN 2.6's jit_1x1 kernels run a strided 1×1 conv by first copying the input to unit stride
// ("rtus") in scratch memory, and that corrupted the process heap: glibc aborts ("corrupted
// double-linked list") in test/engine/nativeKernels.test.ts and in 2 000-call loops of x [3,8,8,3]
// with strides 2, on one thread as on two. So such a conv never reaches jit_1x1 strided: it is
// the unit-stride, unpadded 1×1 conv of the input pixels it samples, gathered here (and the
// backward-data result scattered back). They are small (ResNet shortcuts) and stay on one thread,
// as before, so their results do not depend on the thread count.
bool stridedOneByOne(const ConvGeom &g) { return g.kh == 1 && g.kw == 1 && (g.sh > 1 || g.sw > 1); }

// The same conv over the sampled pixels: input oh×ow, unit strides, no padding.
ConvGeom sampled(const ConvGeom &g) {
  ConvGeom s = g;
  s.h = g.oh;
  s.w = g.ow;
  s.sh = s.sw = s.dh = s.dw = 1;
  s.pt = s.pb = s.pl = s.pr = 0;
  return s;
}

// Calls f(sample index, input pixel index or -1 for padding) for every output position.
template <typename F>
void forEachSample(const ConvGeom &g, F f) {
  int64_t at = 0;
  for (int64_t n = 0; n < g.n; n++) {
    for (int64_t i = 0; i < g.oh; i++) {
      const int64_t r = i * g.sh - g.pt;
      for (int64_t j = 0; j < g.ow; j++, at++) {
        const int64_t c = j * g.sw - g.pl;
        const bool inside = r >= 0 && r < g.h && c >= 0 && c < g.w;
        f(at, inside ? (n * g.h + r) * g.w + c : -1);
      }
    }
  }
}

// x's sampled pixels (zeros where they fall in the padding), [n, oh, ow, ci].
std::unique_ptr<Buffer> gatherSamples(const ConvGeom &g, const float *x) {
  const size_t row = static_cast<size_t>(g.ci) * sizeof(float);
  auto buf = std::make_unique<Buffer>(static_cast<size_t>(convOutputElems(g) / g.co) * row);
  float *out = static_cast<float *>(buf->data());
  forEachSample(g, [&](int64_t at, int64_t pixel) {
    if (pixel < 0)
      std::memset(out + at * g.ci, 0, row);
    else
      std::memcpy(out + at * g.ci, x + pixel * g.ci, row);
  });
  return buf;
}

}  // namespace

int64_t convInputElems(const ConvGeom &g) { return elemsOf({g.n, g.h, g.w, g.ci}); }
int64_t convOutputElems(const ConvGeom &g) { return elemsOf({g.n, g.oh, g.ow, g.co}); }
int64_t convFilterElems(const ConvGeom &g) {
  return elemsOf({g.kh, g.kw, g.groups > 0 ? g.ci / g.groups : -1, g.co});
}

std::string convGeomProblem(const ConvGeom &g) {
  // Sizes may be 0 (an empty batch, no channels, a 'valid' filter larger than the input): the
  // passes then write zeros or nothing, as TF.js's cpu backend computes them.
  struct Field {
    const char *name;
    int32_t value, min;
  };
  const Field fields[] = {{"n", g.n, 0},   {"h", g.h, 0},          {"w", g.w, 0},   {"ci", g.ci, 0},
                          {"oh", g.oh, 0}, {"ow", g.ow, 0},        {"co", g.co, 0}, {"kh", g.kh, 1},
                          {"kw", g.kw, 1}, {"sh", g.sh, 1},        {"sw", g.sw, 1}, {"dh", g.dh, 1},
                          {"dw", g.dw, 1}, {"pt", g.pt, 0},        {"pb", g.pb, 0}, {"pl", g.pl, 0},
                          {"pr", g.pr, 0}, {"groups", g.groups, 1}};
  for (const Field &f : fields) {
    if (f.value < f.min) {
      return std::string(f.name) + " is " + std::to_string(f.value) + " (must be ≥ " +
             std::to_string(f.min) + ")";
    }
  }
  if (g.hasBias != 0 && g.hasBias != 1) return "hasBias is " + std::to_string(g.hasBias);
  if (g.act < kLinear || g.act > kSigmoid)
    return "unknown activation code " + std::to_string(g.act);
  if (g.ci % g.groups != 0 || g.co % g.groups != 0) {
    return "groups " + std::to_string(g.groups) + " must divide ci " + std::to_string(g.ci) +
           " and co " + std::to_string(g.co);
  }
  auto outLen = [](int64_t in, int64_t k, int64_t s, int64_t d, int64_t p0, int64_t p1) {
    // floor division, as oneDNN sizes the output (an input shorter than the filter gives 0)
    const int64_t span = in + p0 + p1 - ((k - 1) * d + 1);
    return span < 0 ? 0 : span / s + 1;
  };
  if (outLen(g.h, g.kh, g.sh, g.dh, g.pt, g.pb) != g.oh ||
      outLen(g.w, g.kw, g.sw, g.dw, g.pl, g.pr) != g.ow) {
    return "output " + std::to_string(g.oh) + "x" + std::to_string(g.ow) +
           " does not follow from input, filter, strides, dilations and padding";
  }
  if (convInputElems(g) < 0 || convOutputElems(g) < 0 || convFilterElems(g) < 0) {
    return "a tensor has more than 2^48 elements";
  }
  return "";
}

namespace {

// Degenerate convs (a tensor with no elements) that oneDNN is not asked to run: the result is
// the value of an empty sum, as TF.js's cpu backend computes it.
bool hasNoTerms(const ConvGeom &g) { return convInputElems(g) == 0 || convFilterElems(g) == 0; }

float activated(int32_t act, float v, float alpha) {
  switch (act) {
    case kRelu: return v < 0 ? 0.f : v;
    case kRelu6: return std::min(std::max(v, 0.f), 6.f);
    case kLeakyRelu: return v < 0 ? alpha * v : v;
    case kElu: return v < 0 ? std::expm1(v) : v;
    case kSigmoid: return 1.f / (1.f + std::exp(-v));
    default: return v;
  }
}

// y[.., c] = act(bias[c]) (or act(0)) for every output position: a conv whose sums are empty.
void fillEmptySums(const ConvGeom &g, const float *bias, float *y, float alpha) {
  const int64_t positions = convOutputElems(g) / g.co;
  for (int64_t c = 0; c < g.co; c++) {
    const float v = activated(g.act, g.hasBias ? bias[c] : 0.f, alpha);
    for (int64_t p = 0; p < positions; p++) y[p * g.co + c] = v;
  }
}

void zero(float *p, int64_t elems) {
  std::memset(p, 0, static_cast<size_t>(elems) * sizeof(float));
}

// Multiply-adds of one pass (forward, backward data and backward weights cost the same).
double convMacs(const ConvGeom &g) {
  return double(convOutputElems(g)) * (g.ci / g.groups) * g.kh * g.kw;
}

// Small convs run on the calling thread alone (parallelMinMacs, common.h). Set before the cache
// lookup: the thread count is part of the key.
int convThreads(const ConvGeom &g) { return convMacs(g) < parallelMinMacs() ? 1 : threadCount(); }

}  // namespace

void convForward(const ConvGeom &g, const float *x, const float *w, const float *bias, float *y,
                 float alpha) {
  if (convOutputElems(g) == 0) return;
  if (hasNoTerms(g)) return fillEmptySums(g, bias, y, alpha);
  if (stridedOneByOne(g)) {
    ThreadLimit one(1);
    auto xs = gatherSamples(g, x);
    return convForward(sampled(g), static_cast<const float *>(xs->data()), w, bias, y, alpha);
  }
  ThreadLimit limit(convThreads(g));
  auto &e = fwdEntry(g, alpha);
  ArgMap extra;
  if (g.hasBias)
    extra.emplace(DNNL_ARG_BIAS, memory(e.bias, cpuEngine(), const_cast<float *>(bias)));
  run(e, {{DNNL_ARG_SRC, e.src, x}, {DNNL_ARG_WEIGHTS, e.wei, w}}, {DNNL_ARG_DST, e.dst, y}, extra);
}

void convBackwardData(const ConvGeom &g, const float *dy, const float *w, float *dx) {
  if (convInputElems(g) == 0) return;
  if (convOutputElems(g) == 0 || convFilterElems(g) == 0) return zero(dx, convInputElems(g));
  if (stridedOneByOne(g)) {
    ThreadLimit one(1);
    // dx is zero except at the sampled pixels, which get the unit-stride conv's gradient.
    Buffer dxs(static_cast<size_t>(convOutputElems(g) / g.co * g.ci) * sizeof(float));
    float *samples = static_cast<float *>(dxs.data());
    convBackwardData(sampled(g), dy, w, samples);
    zero(dx, convInputElems(g));
    const size_t row = static_cast<size_t>(g.ci) * sizeof(float);
    forEachSample(g, [&](int64_t at, int64_t pixel) {
      if (pixel >= 0) std::memcpy(dx + pixel * g.ci, samples + at * g.ci, row);
    });
    return;
  }
  ThreadLimit limit(convThreads(g));
  auto &e = bwdDataEntry(g);
  run(e, {{DNNL_ARG_DIFF_DST, e.diffDst, dy}, {DNNL_ARG_WEIGHTS, e.wei, w}},
      {DNNL_ARG_DIFF_SRC, e.diffSrc, dx});
}

void convBackwardWeights(const ConvGeom &g, const float *x, const float *dy, float *dw) {
  if (convFilterElems(g) == 0) return;
  if (convOutputElems(g) == 0 || convInputElems(g) == 0) return zero(dw, convFilterElems(g));
  if (stridedOneByOne(g)) {
    ThreadLimit one(1);
    auto xs = gatherSamples(g, x);
    return convBackwardWeights(sampled(g), static_cast<const float *>(xs->data()), dy, dw);
  }
  ThreadLimit limit(convThreads(g));
  auto &e = bwdWeightsEntry(g);
  run(e, {{DNNL_ARG_SRC, e.src, x}, {DNNL_ARG_DIFF_DST, e.diffDst, dy}},
      {DNNL_ARG_DIFF_WEIGHTS, e.diffWei, dw});
}

std::string convImplInfo(const ConvGeom &g0, const std::string &pass) {
  ThreadLimit limit(stridedOneByOne(g0) ? 1 : convThreads(g0));
  const ConvGeom g = stridedOneByOne(g0) ? sampled(g0) : g0;
  if (pass == "fwd") return fwdEntry(g, 0.f).impl;
  if (pass == "bwd_data") return bwdDataEntry(g).impl;
  if (pass == "bwd_weights") return bwdWeightsEntry(g).impl;
  throw std::runtime_error("unknown pass '" + pass + "'");
}

}  // namespace doconv
