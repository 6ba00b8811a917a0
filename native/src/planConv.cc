// The inference plan's convs (planParts.h): oneDNN forward_inference primitives with bias,
// activation and residual sum fused, and their two halves for a batch of 1 on two threads.
#include <algorithm>
#include <cstring>

#include "planParts.h"

namespace doconv {

namespace {

using CF = dnnl::convolution_forward;

// TF.js's filter [kh, kw, ci/g, co] (a depthwise [kh, kw, ci, mult] is the same memory with
// g = ci) as oneDNN's OIHW / GOIHW, by strides: its first `count` output channels (groups 1) or
// groups (else) of a conv with `co` output channels in all (a half starts at an offset).
memory::desc tfjsFilterDesc(int64_t count, int64_t groups, int64_t cig, int64_t co, int64_t kh,
                            int64_t kw) {
  if (groups == 1)
    return memory::desc({count, cig, kh, kw}, dt::f32, {1, co, kw * cig * co, cig * co});
  const int64_t cog = co / groups;
  return memory::desc({count, cog, cig, kh, kw}, dt::f32, {cog, 1, co, kw * cig * co, cig * co});
}

// A forward_inference conv with weights of `filter`'s dims in the layout oneDNN picks, and a bias
// when `bias` is not empty.
CF::primitive_desc convInference(const memory::desc &src, const memory::desc &filter,
                                 const memory::desc &bias, const memory::desc &dst,
                                 const memory::dims &strides, const memory::dims &dil,
                                 const memory::dims &padL, const memory::dims &padR,
                                 const dnnl::primitive_attr &attr) {
  const memory::desc anyW(filter.dims(), dt::f32, tag::any);
  const auto kind = dnnl::prop_kind::forward_inference;
  const auto algo = dnnl::algorithm::convolution_direct;
  const CF::desc desc = bias.get_size() > 0
                            ? CF::desc(kind, algo, src, anyW, bias, dst, strides, dil, padL, padR)
                            : CF::desc(kind, algo, src, anyW, dst, strides, dil, padL, padR);
  return CF::primitive_desc(desc, attr, cpuEngine());
}

}  // namespace

Shape PlanBuilder::conv(const Record &r, PlanStep &s, size_t t) {
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
  const memory::desc srcD = toNchw ? memory::desc({src.n, src.c, src.h, src.w}, dt::f32, tag::nchw)
                                   : layoutDesc(src, inBlk);
  const memory::desc dstD = layoutDesc(out, outBlk);
  if (toNchw) {
    s.held.push_back(std::make_unique<Buffer>(srcD.get_size()));
    memory from(nhwcDesc(src), cpuEngine(), nullptr), to(srcD, cpuEngine(), s.held.back()->data());
    const dnnl::reorder reorder(from, to);
    const int in0 = tensor(r, kFIn0, "in0", t);
    s.loop = [=](const InferencePlan &plan) mutable {
      from.set_data_handle(plan.ptr(in0));
      reorder.execute(plan.stream, from, to);
    };
  }
  const memory::desc biasD({co}, dt::f32, tag::x);
  const memory::desc userW = tfjsFilterDesc(groups == 1 ? co : groups, groups, cig, co, kh, kw);
  auto attr = userScratchpad();
  attr.set_post_ops(actPostOps(act, alpha, beta, hasSum));
  const memory::dims strides{csh, csw}, dil{dh - 1, dw - 1}, padL{cpt, cpl}, padR{cpb, cpr};
  const CF::primitive_desc pd = convInference(srcD, userW, hasBias ? biasD : memory::desc(), dstD,
                                              strides, dil, padL, padR, attr);
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
    splitChannels(s, r, t, src, out, {kh, kw, csh, csw, dh, dw, cpt, cpb, cpl, cpr}, groups, inBlk,
                  outBlk, gather || toNchw, toNchw, hasBias, attr, filter, srcD);
  }
  return out;
}

// The conv's output channels in two pieces of whole channel blocks, one primitive each over
// the input channels it reads (all of them; a grouped conv's own groups), for a plan split by
// channels at batch 1: in the blocked layout [c / blk][h][w][blk] a run of whole blocks is one
// contiguous range, so each piece reads and writes dense memory in the layout the jit kernels
// run fastest on, and keeps every pixel (a row half of a 4×4 map leaves them 8). Leaves the step
// whole when its output is NHWC or one block.
void PlanBuilder::splitChannels(PlanStep &s, const Record &r, size_t t, const Shape &src,
                                const Shape &out, const std::vector<int64_t> &g, int64_t groups,
                                int64_t inBlk, int64_t outBlk, bool ownSrc, bool srcNchw,
                                bool hasBias, const dnnl::primitive_attr &attr,
                                const PlanWeight &filter, const memory::desc &wholeSrcD) {
  if (outBlk == 0 || out.n != 1) return;
  const int64_t cig = src.c / groups, cog = out.c / groups;
  // Groups a unit (the fewest whole groups that start a piece on block boundaries, in and out).
  int64_t unit = 1;
  if (groups > 1) {
    if (inBlk == 0 && !srcNchw) return;  // NHWC: a channel range is not contiguous
    const int64_t inAlign = srcNchw ? 1 : inBlk;
    while (unit <= groups && !((unit * cog) % outBlk == 0 && (unit * cig) % inAlign == 0)) unit++;
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
    const memory::desc psD = groups == 1 ? wholeSrcD
                             : srcNchw   ? memory::desc({1, inN, src.h, src.w}, dt::f32, tag::nchw)
                                         : layoutDesc(ps, inBlk);
    const memory::desc poD = layoutDesc(po, outBlk);
    const memory::desc pieceW = tfjsFilterDesc(groups == 1 ? cn : gn, groups, cig, out.c, kh, kw);
    const memory::desc biasD({cn}, dt::f32, tag::x);
    const CF::primitive_desc pd = convInference(psD, pieceW, hasBias ? biasD : memory::desc(), poD,
                                                strides, dil, padL, padR, attr);
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
    half.outOffset = c0 * out.h * out.w;
    half.outElems = cn * out.h * out.w;
    half.bindings.push_back({DNNL_ARG_DST, static_cast<int>(t), poD, half.outOffset});
    if (pd.scratchpad_desc().get_size() > p.scratchDesc.get_size())
      p.scratchDesc = pd.scratchpad_desc();
  }
  s.halves = std::move(halves);
  s.what += " (output channels split in two)";
}

// The conv's output rows [0, h/2) and [h/2, h) as two primitives over the input rows each
// needs (the padding that falls outside them made explicit), for a plan split by rows. Leaves the
// step whole when a half would read no input row.
void PlanBuilder::splitRows(PlanStep &s, const Record &r, size_t t, const Shape &src,
                            const Shape &out, const std::vector<int64_t> &g,
                            const memory::desc &biasD, const dnnl::primitive_attr &attr,
                            const memory::desc &userW, const memory::desc &wholeW,
                            const PlanWeight &filter, bool gathered) {
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
    const memory::dims strides{csh, csw}, dil{dh - 1, dw - 1}, padL{i0 - a, cpl}, padR{b - i1, cpr};
    const bool hasBias = biasD.get_size() > 0;
    const CF::primitive_desc pd =
        convInference(hsD, userW, biasD, hoD, strides, dil, padL, padR, attr);
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
    half.outOffset = r0 * out.w * out.c;
    half.outElems = (r1 - r0) * out.w * out.c;
    half.bindings.push_back({DNNL_ARG_DST, static_cast<int>(t), hoD, half.outOffset});
    if (pd.scratchpad_desc().get_size() > p.scratchDesc.get_size())
      p.scratchDesc = pd.scratchpad_desc();
  }
  s.halves = std::move(halves);
  s.what += " (rows split in two)";
}

}  // namespace doconv
