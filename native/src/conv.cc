// Layouts: activations stay NHWC (the wasm heap's layout), so no activation is reordered; oneDNN
// 2.6 runs NHWC convs with its AVX-512 kernels (brgconv forward, jit backward), measured 190–215 ms
// CPU per ResNet-20 step (fwd+bwd, batch 128, one thread) against 220–240 ms with blocked nChw16c
// buffers plus the reorders at the boundary. Filters (small) are left to oneDNN (`any`) and
// reordered from TF.js's HWIO on each call: explicit hwio descriptors make it fall back to gemm:jit.
// DOCONV_NATIVE_LAYOUT=blocked lets oneDNN pick activation layouts too, for comparison.
#include "conv.h"

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

memory::desc anyLike(const memory::desc &d) {
  return memory::desc(d.dims(), dt::f32, tag::any);
}

bool activationsInNhwc() {
  static const bool v = [] {
    const char *s = std::getenv("DOCONV_NATIVE_LAYOUT");
    return s == nullptr || std::strcmp(s, "blocked") != 0;
  }();
  return v;
}

// One tensor at a primitive's boundary: its NHWC/HWIO form on the heap and, when oneDNN chose
// another layout, a cached blocked buffer and the reorder between the two.
struct Port {
  memory::desc user, prim;
  std::unique_ptr<dnnl::reorder> in, out;  // user→prim, prim→user
  std::unique_ptr<Buffer> buf;

  void init(const memory::desc &u, const memory::desc &p, bool isInput) {
    user = u;
    prim = p;
    if (u == p) return;
    buf = std::make_unique<Buffer>(p.get_size());
    auto &e = cpuEngine();
    if (isInput) {
      in = std::make_unique<dnnl::reorder>(dnnl::reorder::primitive_desc(e, u, e, p));
    } else {
      out = std::make_unique<dnnl::reorder>(dnnl::reorder::primitive_desc(e, p, e, u));
    }
  }
  // The memory the primitive reads: the heap itself, or the blocked copy made now.
  memory input(const void *heapPtr) const {
    auto &e = cpuEngine();
    memory u(user, e, const_cast<void *>(heapPtr));
    if (!in) return u;
    memory p(prim, e, buf->data());
    in->execute(cpuStream(), u, p);
    return p;
  }
  // The memory the primitive writes (call flush after it ran).
  memory output(void *heapPtr) const {
    auto &e = cpuEngine();
    return out ? memory(prim, e, buf->data()) : memory(user, e, heapPtr);
  }
  void flush(memory written, void *heapPtr) const {
    if (!out) return;
    memory u(user, cpuEngine(), heapPtr);
    out->execute(cpuStream(), written, u);
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

dnnl::primitive_attr userScratchpad() {
  dnnl::primitive_attr a;
  a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return a;
}

dnnl::convolution_forward::primitive_desc forwardPd(const ConvGeom &g, const Descs &d,
                                                    float alpha, bool withActivation) {
  const bool nhwcActs = activationsInNhwc();
  auto src = nhwcActs ? d.src : anyLike(d.src);
  auto dst = nhwcActs ? d.dst : anyLike(d.dst);
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

struct FwdEntry {
  dnnl::convolution_forward prim;
  Port src, wei, dst;
  memory::desc bias;
  std::unique_ptr<Buffer> scratch;
  memory::desc scratchDesc;
  std::string impl;
};

struct BwdDataEntry {
  dnnl::convolution_backward_data prim;
  Port diffDst, wei, diffSrc;
  std::unique_ptr<Buffer> scratch;
  memory::desc scratchDesc;
  std::string impl;
};

struct BwdWeightsEntry {
  dnnl::convolution_backward_weights prim;
  Port src, diffDst, diffWei;
  std::unique_ptr<Buffer> scratch;
  memory::desc scratchDesc;
  std::string impl;
};

template <typename E>
using Cache = std::unordered_map<std::string, std::unique_ptr<E>>;

thread_local Cache<FwdEntry> fwdCache;
thread_local Cache<BwdDataEntry> bwdDataCache;
thread_local Cache<BwdWeightsEntry> bwdWeightsCache;

void clearConvCaches() {
  countEntry(-static_cast<int>(fwdCache.size() + bwdDataCache.size() + bwdWeightsCache.size()));
  fwdCache.clear();
  bwdDataCache.clear();
  bwdWeightsCache.clear();
}
const bool registered = (registerCacheClear(&clearConvCaches), true);

std::string keyOf(const char *op, const ConvGeom &g, float alpha) {
  int32_t v[kConvGeomFields + 1];
  std::memcpy(v, &g, sizeof g);
  std::memcpy(&v[kConvGeomFields], &alpha, sizeof alpha);
  return makeKey(op, v, kConvGeomFields + 1);
}

std::unique_ptr<Buffer> scratchFor(const memory::desc &d) {
  return d.get_size() > 0 ? std::make_unique<Buffer>(d.get_size()) : nullptr;
}

memory scratchMem(const memory::desc &d, const std::unique_ptr<Buffer> &b) {
  return memory(d, cpuEngine(), b ? b->data() : nullptr);
}

FwdEntry &fwdEntry(const ConvGeom &g, float alpha) {
  auto key = keyOf("fwd", g, alpha);
  auto it = fwdCache.find(key);
  if (it != fwdCache.end()) return *it->second;
  Descs d = descsOf(g);
  auto pd = forwardPd(g, d, alpha, true);
  auto e = std::make_unique<FwdEntry>();
  e->prim = dnnl::convolution_forward(pd);
  e->src.init(d.src, pd.src_desc(), true);
  e->wei.init(d.wei, pd.weights_desc(), true);
  e->dst.init(d.dst, pd.dst_desc(), false);
  e->bias = d.bias;
  e->scratchDesc = pd.scratchpad_desc();
  e->scratch = scratchFor(e->scratchDesc);
  e->impl = pd.impl_info_str();
  countEntry(1);
  return *fwdCache.emplace(key, std::move(e)).first->second;
}

BwdDataEntry &bwdDataEntry(const ConvGeom &g0) {
  ConvGeom g = g0;
  g.hasBias = 0;
  g.act = 0;
  auto key = keyOf("bwd_data", g, 0.f);
  auto it = bwdDataCache.find(key);
  if (it != bwdDataCache.end()) return *it->second;
  Descs d = descsOf(g);
  auto hint = forwardPd(g, d, 0.f, false);
  const bool nhwcActs = activationsInNhwc();
  using BD = dnnl::convolution_backward_data;
  BD::desc desc(dnnl::algorithm::convolution_direct, nhwcActs ? d.src : anyLike(d.src),
                anyLike(d.wei), nhwcActs ? d.dst : anyLike(d.dst), d.strides, d.dilates, d.padL,
                d.padR);
  BD::primitive_desc pd(desc, userScratchpad(), cpuEngine(), hint);
  auto e = std::make_unique<BwdDataEntry>();
  e->prim = BD(pd);
  e->diffDst.init(d.dst, pd.diff_dst_desc(), true);
  e->wei.init(d.wei, pd.weights_desc(), true);
  e->diffSrc.init(d.src, pd.diff_src_desc(), false);
  e->scratchDesc = pd.scratchpad_desc();
  e->scratch = scratchFor(e->scratchDesc);
  e->impl = pd.impl_info_str();
  countEntry(1);
  return *bwdDataCache.emplace(key, std::move(e)).first->second;
}

BwdWeightsEntry &bwdWeightsEntry(const ConvGeom &g0) {
  ConvGeom g = g0;
  g.hasBias = 0;
  g.act = 0;
  auto key = keyOf("bwd_weights", g, 0.f);
  auto it = bwdWeightsCache.find(key);
  if (it != bwdWeightsCache.end()) return *it->second;
  Descs d = descsOf(g);
  auto hint = forwardPd(g, d, 0.f, false);
  const bool nhwcActs = activationsInNhwc();
  using BW = dnnl::convolution_backward_weights;
  BW::desc desc(dnnl::algorithm::convolution_direct, nhwcActs ? d.src : anyLike(d.src),
                anyLike(d.wei), nhwcActs ? d.dst : anyLike(d.dst), d.strides, d.dilates, d.padL,
                d.padR);
  BW::primitive_desc pd(desc, userScratchpad(), cpuEngine(), hint);
  auto e = std::make_unique<BwdWeightsEntry>();
  e->prim = BW(pd);
  e->src.init(d.src, pd.src_desc(), true);
  e->diffDst.init(d.dst, pd.diff_dst_desc(), true);
  e->diffWei.init(d.wei, pd.diff_weights_desc(), false);
  e->scratchDesc = pd.scratchpad_desc();
  e->scratch = scratchFor(e->scratchDesc);
  e->impl = pd.impl_info_str();
  countEntry(1);
  return *bwdWeightsCache.emplace(key, std::move(e)).first->second;
}

// oneDNN 2.6's jit_1x1 kernels run a strided 1×1 conv by first copying the input to unit stride
// ("rtus") in scratch memory; with two threads its backward-weights pass corrupted the process heap
// (glibc aborts in about half of 3 000-call runs of x [3,8,8,3], strides [1,2]; never with stride 1
// or one thread). Such convs are small (ResNet shortcuts): they run on one thread, every pass.
int threadsFor(const ConvGeom &g) {
  const bool stridedOneByOne = g.kh == 1 && g.kw == 1 && (g.sh > 1 || g.sw > 1);
  return stridedOneByOne ? 1 : threadCount();
}

}  // namespace

int64_t convInputElems(const ConvGeom &g) { return int64_t(g.n) * g.h * g.w * g.ci; }
int64_t convOutputElems(const ConvGeom &g) { return int64_t(g.n) * g.oh * g.ow * g.co; }
int64_t convFilterElems(const ConvGeom &g) {
  return int64_t(g.kh) * g.kw * (g.groups > 0 ? g.ci / g.groups : 0) * g.co;
}

std::string convGeomProblem(const ConvGeom &g) {
  const int32_t *v = reinterpret_cast<const int32_t *>(&g);
  for (int i = 0; i < 17; i++) {
    if (v[i] < (i >= 13 ? 0 : 1)) return "field " + std::to_string(i) + " is " + std::to_string(v[i]);
  }
  if (g.groups < 1 || g.ci % g.groups != 0 || g.co % g.groups != 0) {
    return "groups " + std::to_string(g.groups) + " must divide ci " + std::to_string(g.ci) +
           " and co " + std::to_string(g.co);
  }
  auto outLen = [](int64_t in, int64_t k, int64_t s, int64_t d, int64_t p0, int64_t p1) {
    return (in + p0 + p1 - ((k - 1) * d + 1)) / s + 1;
  };
  if (outLen(g.h, g.kh, g.sh, g.dh, g.pt, g.pb) != g.oh ||
      outLen(g.w, g.kw, g.sw, g.dw, g.pl, g.pr) != g.ow) {
    return "output " + std::to_string(g.oh) + "x" + std::to_string(g.ow) +
           " does not follow from input, filter, strides, dilations and padding";
  }
  return "";
}

void convForward(const ConvGeom &g, const float *x, const float *w, const float *bias, float *y,
                 float alpha) {
  ThreadLimit limit(threadsFor(g));
  auto &e = fwdEntry(g, alpha);
  auto &s = cpuStream();
  memory src = e.src.input(x);
  memory wei = e.wei.input(w);
  memory dst = e.dst.output(y);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src},
                                       {DNNL_ARG_WEIGHTS, wei},
                                       {DNNL_ARG_DST, dst},
                                       {DNNL_ARG_SCRATCHPAD, scratchMem(e.scratchDesc, e.scratch)}};
  if (g.hasBias) args.emplace(DNNL_ARG_BIAS, memory(e.bias, cpuEngine(), const_cast<float *>(bias)));
  e.prim.execute(s, args);
  e.dst.flush(dst, y);
  s.wait();
}

void convBackwardData(const ConvGeom &g, const float *dy, const float *w, float *dx) {
  ThreadLimit limit(threadsFor(g));
  auto &e = bwdDataEntry(g);
  auto &s = cpuStream();
  memory ddst = e.diffDst.input(dy);
  memory wei = e.wei.input(w);
  memory dsrc = e.diffSrc.output(dx);
  e.prim.execute(s, {{DNNL_ARG_DIFF_DST, ddst},
                     {DNNL_ARG_WEIGHTS, wei},
                     {DNNL_ARG_DIFF_SRC, dsrc},
                     {DNNL_ARG_SCRATCHPAD, scratchMem(e.scratchDesc, e.scratch)}});
  e.diffSrc.flush(dsrc, dx);
  s.wait();
}

void convBackwardWeights(const ConvGeom &g, const float *x, const float *dy, float *dw) {
  ThreadLimit limit(threadsFor(g));
  auto &e = bwdWeightsEntry(g);
  auto &s = cpuStream();
  memory src = e.src.input(x);
  memory ddst = e.diffDst.input(dy);
  memory dwei = e.diffWei.output(dw);
  e.prim.execute(s, {{DNNL_ARG_SRC, src},
                     {DNNL_ARG_DIFF_DST, ddst},
                     {DNNL_ARG_DIFF_WEIGHTS, dwei},
                     {DNNL_ARG_SCRATCHPAD, scratchMem(e.scratchDesc, e.scratch)}});
  e.diffWei.flush(dwei, dw);
  s.wait();
}

std::string convImplInfo(const ConvGeom &g, const std::string &pass) {
  ThreadLimit limit(threadsFor(g));
  if (pass == "fwd") return fwdEntry(g, 0.f).impl;
  if (pass == "bwd_data") return bwdDataEntry(g).impl;
  if (pass == "bwd_weights") return bwdWeightsEntry(g).impl;
  throw std::runtime_error("unknown pass '" + pass + "'");
}

}  // namespace doconv
