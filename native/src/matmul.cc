// oneDNN's matmul with strided (transposed) operand descriptors, cached per shape and thread.
// Why: DO-Conv's kernel composition is a batch of small products ([C, M·N, dMul]·[C, dMul, F]) on
// every step, which XNNPACK runs one small GEMM at a time.
#include "matmul.h"

#include <cstring>
#include <memory>
#include <unordered_map>

#include "common.h"

namespace doconv {

namespace {

struct MatMulEntry {
  dnnl::matmul prim;
  memory::desc a, b, y;
  Scratchpad scratch;
};

const bool registered = PrimitiveCache<MatMulEntry>::registerClear();

memory::desc operand(int64_t batch, int64_t rows, int64_t cols, bool transposed) {
  // Logical [batch, rows, cols]; stored row-major as [batch, rows, cols] or [batch, cols, rows].
  memory::dims strides =
      transposed ? memory::dims{rows * cols, 1, rows} : memory::dims{rows * cols, cols, 1};
  return memory::desc({batch, rows, cols}, dt::f32, strides);
}

MatMulEntry &entry(const MatMulGeom &g) {
  auto key = makeKey("matmul", reinterpret_cast<const int32_t *>(&g), sizeof g / sizeof(int32_t));
  return PrimitiveCache<MatMulEntry>::get(key, [&] {
    auto e = std::make_unique<MatMulEntry>();
    e->a = operand(g.aBatch, g.m, g.k, g.transA != 0);
    e->b = operand(g.bBatch, g.k, g.n, g.transB != 0);
    e->y = memory::desc({g.batch, g.m, g.n}, dt::f32, tag::abc);
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(e->a, e->b, e->y), userScratchpad(),
                                    cpuEngine());
    e->prim = dnnl::matmul(pd);
    e->scratch.init(pd.scratchpad_desc());
    return e;
  });
}

}  // namespace

int64_t matMulAElems(const MatMulGeom &g) { return elemsOf({g.aBatch, g.m, g.k}); }
int64_t matMulBElems(const MatMulGeom &g) { return elemsOf({g.bBatch, g.k, g.n}); }
int64_t matMulYElems(const MatMulGeom &g) { return elemsOf({g.batch, g.m, g.n}); }

std::string matMulGeomProblem(const MatMulGeom &g) {
  // Sizes may be 0: an empty inner dimension k gives zeros, as TF.js's cpu backend computes.
  if (g.batch < 0 || g.m < 0 || g.k < 0 || g.n < 0) return "batch, m, k and n must be ≥ 0";
  if ((g.aBatch != 1 && g.aBatch != g.batch) || (g.bBatch != 1 && g.bBatch != g.batch)) {
    return "operand batches must be 1 or " + std::to_string(g.batch);
  }
  if (matMulAElems(g) < 0 || matMulBElems(g) < 0 || matMulYElems(g) < 0) {
    return "an operand has more than 2^48 elements";
  }
  return "";
}

void matMul(const MatMulGeom &g, const float *a, const float *b, float *y) {
  const int64_t outElems = matMulYElems(g);
  if (outElems == 0) return;
  if (g.k == 0) {
    std::memset(y, 0, static_cast<size_t>(outElems) * sizeof(float));
    return;
  }
  // DO-Conv's compositions are ~10⁵–10⁶ multiply-adds: one thread runs them faster than two
  // (results/README.md#engine-notes). The limit is part of the cache key.
  const double macs = double(g.batch) * g.m * g.k * g.n;
  ThreadLimit limit(macs < parallelMinMacs() ? 1 : threadCount());
  auto &e = entry(g);
  auto &eng = cpuEngine();
  auto &s = cpuStream();
  e.prim.execute(s, {{DNNL_ARG_SRC, memory(e.a, eng, const_cast<float *>(a))},
                     {DNNL_ARG_WEIGHTS, memory(e.b, eng, const_cast<float *>(b))},
                     {DNNL_ARG_DST, memory(e.y, eng, y)},
                     {DNNL_ARG_SCRATCHPAD, e.scratch.arg()}});
  s.wait();
}

}  // namespace doconv
