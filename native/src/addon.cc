// Node-API glue: every kernel takes the wasm heap's ArrayBuffer, an Int32Array geometry and byte
// offsets into the heap, so no tensor is copied. The JS side (src/engine/native/) allocates outputs
// through the wasm backend first and only then reads the heap buffer: memory growth detaches the
// old ArrayBuffer, so no pointer is ever kept across calls.
#include <node_api.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "common.h"
#include "compose.h"
#include "conv.h"
#include "eltwise.h"
#include "matmul.h"

namespace {

using namespace doconv;

struct JsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void check(napi_env env, napi_status st, const char *what) {
  if (st != napi_ok) throw JsError(std::string("Node-API call failed: ") + what);
}

struct Args {
  napi_value v[12];
  size_t n = 12;
};

Args args(napi_env env, napi_callback_info info, size_t want, const char *kernel) {
  Args a;
  check(env, napi_get_cb_info(env, info, &a.n, a.v, nullptr, nullptr), "get_cb_info");
  if (a.n < want) {
    throw JsError(std::string(kernel) + ": expected " + std::to_string(want) + " arguments, got " +
                  std::to_string(a.n));
  }
  return a;
}

struct Heap {
  uint8_t *base;
  size_t bytes;
};

Heap heapOf(napi_env env, napi_value v, const char *kernel) {
  bool isAb = false;
  check(env, napi_is_arraybuffer(env, v, &isAb), "is_arraybuffer");
  if (!isAb) throw JsError(std::string(kernel) + ": heap must be an ArrayBuffer (the wasm memory)");
  void *data;
  size_t len;
  check(env, napi_get_arraybuffer_info(env, v, &data, &len), "get_arraybuffer_info");
  return {static_cast<uint8_t *>(data), len};
}

template <typename G>
G geomOf(napi_env env, napi_value v, const char *kernel) {
  bool isTa = false;
  check(env, napi_is_typedarray(env, v, &isTa), "is_typedarray");
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (isTa) check(env, napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr), "typedarray_info");
  constexpr size_t fields = sizeof(G) / sizeof(int32_t);
  if (!isTa || type != napi_int32_array || length != fields) {
    throw JsError(std::string(kernel) + ": geometry must be an Int32Array of " +
                  std::to_string(fields) + " fields");
  }
  G g;
  std::memcpy(&g, data, sizeof g);
  return g;
}

int64_t intOf(napi_env env, napi_value v) {
  int64_t x;
  check(env, napi_get_value_int64(env, v, &x), "get_value_int64 (expected a number)");
  return x;
}

double doubleOf(napi_env env, napi_value v) {
  double x;
  check(env, napi_get_value_double(env, v, &x), "get_value_double (expected a number)");
  return x;
}

// A float32 region of the heap, bounds- and alignment-checked: a wrong offset must be an error
// naming the kernel and the argument, never a write past the tensor.
float *region(const Heap &h, int64_t offset, int64_t elems, const char *kernel, const char *arg) {
  if (offset < 0 || offset % 4 != 0 || elems < 0 ||
      static_cast<uint64_t>(offset) + static_cast<uint64_t>(elems) * 4 > h.bytes) {
    throw JsError(std::string(kernel) + ": " + arg + " at byte offset " + std::to_string(offset) +
                  " with " + std::to_string(elems) + " float32 elements is outside the heap (" +
                  std::to_string(h.bytes) + " bytes)");
  }
  return reinterpret_cast<float *>(h.base + offset);
}

void checkConv(const ConvGeom &g, const char *kernel) {
  std::string p = convGeomProblem(g);
  if (!p.empty()) throw JsError(std::string(kernel) + ": bad geometry: " + p);
}

napi_value undefinedValue(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

// Runs `body`, turning C++ and oneDNN exceptions into JS errors that name the kernel.
template <typename F>
napi_value guarded(napi_env env, const char *kernel, F body) {
  try {
    return body();
  } catch (const JsError &e) {
    napi_throw_error(env, nullptr, e.what());
  } catch (const dnnl::error &e) {
    napi_throw_error(env, nullptr,
                     (std::string(kernel) + ": oneDNN: " + e.what() + " (status " +
                      std::to_string(static_cast<int>(e.status)) + ")").c_str());
  } catch (const std::exception &e) {
    napi_throw_error(env, nullptr, (std::string(kernel) + ": " + e.what()).c_str());
  }
  return nullptr;
}

// convForward(heap, geom, x, filter, bias (-1: none), y, alpha)
napi_value ConvForward(napi_env env, napi_callback_info info) {
  const char *K = "native convForward";
  return guarded(env, K, [&] {
    Args a = args(env, info, 7, K);
    Heap h = heapOf(env, a.v[0], K);
    auto g = geomOf<ConvGeom>(env, a.v[1], K);
    checkConv(g, K);
    const float *x = region(h, intOf(env, a.v[2]), convInputElems(g), K, "x");
    const float *w = region(h, intOf(env, a.v[3]), convFilterElems(g), K, "filter");
    const float *b = g.hasBias ? region(h, intOf(env, a.v[4]), g.co, K, "bias") : nullptr;
    float *y = region(h, intOf(env, a.v[5]), convOutputElems(g), K, "y");
    convForward(g, x, w, b, y, static_cast<float>(doubleOf(env, a.v[6])));
    return undefinedValue(env);
  });
}

// convBackwardData(heap, geom, dy, filter, dx)
napi_value ConvBackwardData(napi_env env, napi_callback_info info) {
  const char *K = "native convBackwardData";
  return guarded(env, K, [&] {
    Args a = args(env, info, 5, K);
    Heap h = heapOf(env, a.v[0], K);
    auto g = geomOf<ConvGeom>(env, a.v[1], K);
    checkConv(g, K);
    const float *dy = region(h, intOf(env, a.v[2]), convOutputElems(g), K, "dy");
    const float *w = region(h, intOf(env, a.v[3]), convFilterElems(g), K, "filter");
    float *dx = region(h, intOf(env, a.v[4]), convInputElems(g), K, "dx");
    convBackwardData(g, dy, w, dx);
    return undefinedValue(env);
  });
}

// convBackwardWeights(heap, geom, x, dy, dw)
napi_value ConvBackwardWeights(napi_env env, napi_callback_info info) {
  const char *K = "native convBackwardWeights";
  return guarded(env, K, [&] {
    Args a = args(env, info, 5, K);
    Heap h = heapOf(env, a.v[0], K);
    auto g = geomOf<ConvGeom>(env, a.v[1], K);
    checkConv(g, K);
    const float *x = region(h, intOf(env, a.v[2]), convInputElems(g), K, "x");
    const float *dy = region(h, intOf(env, a.v[3]), convOutputElems(g), K, "dy");
    float *dw = region(h, intOf(env, a.v[4]), convFilterElems(g), K, "dw");
    convBackwardWeights(g, x, dy, dw);
    return undefinedValue(env);
  });
}

// matMul(heap, geom, a, b, y)
napi_value MatMul(napi_env env, napi_callback_info info) {
  const char *K = "native matMul";
  return guarded(env, K, [&] {
    Args a = args(env, info, 5, K);
    Heap h = heapOf(env, a.v[0], K);
    auto g = geomOf<MatMulGeom>(env, a.v[1], K);
    std::string p = matMulGeomProblem(g);
    if (!p.empty()) throw JsError(std::string(K) + ": bad geometry: " + p);
    const float *x = region(h, intOf(env, a.v[2]), int64_t(g.aBatch) * g.m * g.k, K, "a");
    const float *w = region(h, intOf(env, a.v[3]), int64_t(g.bBatch) * g.k * g.n, K, "b");
    float *y = region(h, intOf(env, a.v[4]), int64_t(g.batch) * g.m * g.n, K, "y");
    matMul(g, x, w, y);
    return undefinedValue(env);
  });
}

// The geometry argument, checked by `problem` (empty when consistent).
template <typename G>
G checkedGeom(napi_env env, napi_value v, const char *kernel, std::string (*problem)(const G &)) {
  auto g = geomOf<G>(env, v, kernel);
  std::string p = problem(g);
  if (!p.empty()) throw JsError(std::string(kernel) + ": bad geometry: " + p);
  return g;
}

// binary(heap, geom, a, b, y)
napi_value Binary(napi_env env, napi_callback_info info) {
  const char *K = "native binary";
  return guarded(env, K, [&] {
    Args a = args(env, info, 5, K);
    Heap h = heapOf(env, a.v[0], K);
    auto g = checkedGeom<BinaryGeom>(env, a.v[1], K, binaryGeomProblem);
    const float *x = region(h, intOf(env, a.v[2]), operandElems(g.aMode, g), K, "a");
    const float *w = region(h, intOf(env, a.v[3]), operandElems(g.bMode, g), K, "b");
    float *y = region(h, intOf(env, a.v[4]), int64_t(g.rows) * g.channels, K, "y");
    binary(g, x, w, y);
    return undefinedValue(env);
  });
}

// unary(heap, geom, x, y, alpha)
napi_value Unary(napi_env env, napi_callback_info info) {
  const char *K = "native unary";
  return guarded(env, K, [&] {
    Args a = args(env, info, 5, K);
    Heap h = heapOf(env, a.v[0], K);
    auto g = checkedGeom<UnaryGeom>(env, a.v[1], K, unaryGeomProblem);
    const float *x = region(h, intOf(env, a.v[2]), g.size, K, "x");
    float *y = region(h, intOf(env, a.v[3]), g.size, K, "y");
    unary(g, x, y, static_cast<float>(doubleOf(env, a.v[4])));
    return undefinedValue(env);
  });
}

// reduceRows(heap, geom, x, y, scale)
napi_value ReduceRows(napi_env env, napi_callback_info info) {
  const char *K = "native reduceRows";
  return guarded(env, K, [&] {
    Args a = args(env, info, 5, K);
    Heap h = heapOf(env, a.v[0], K);
    auto g = checkedGeom<ReduceGeom>(env, a.v[1], K, reduceGeomProblem);
    const float *x = region(h, intOf(env, a.v[2]), int64_t(g.rows) * g.inner, K, "x");
    float *y = region(h, intOf(env, a.v[3]), g.inner, K, "y");
    reduceRows(g, x, y, doubleOf(env, a.v[4]));
    return undefinedValue(env);
  });
}

// tile(heap, geom, x, y)
napi_value Tile(napi_env env, napi_callback_info info) {
  const char *K = "native tile";
  return guarded(env, K, [&] {
    Args a = args(env, info, 4, K);
    Heap h = heapOf(env, a.v[0], K);
    auto g = checkedGeom<TileGeom>(env, a.v[1], K, tileGeomProblem);
    const float *x = region(h, intOf(env, a.v[2]), g.block, K, "x");
    float *y = region(h, intOf(env, a.v[3]), int64_t(g.block) * g.repeats, K, "y");
    tile(g, x, y);
    return undefinedValue(env);
  });
}

// batchNorm(heap, geom, x, mean, variance, scale (-1: none), offset (-1: none), y, epsilon)
napi_value BatchNorm(napi_env env, napi_callback_info info) {
  const char *K = "native batchNorm";
  return guarded(env, K, [&] {
    Args a = args(env, info, 9, K);
    Heap h = heapOf(env, a.v[0], K);
    auto g = checkedGeom<BatchNormGeom>(env, a.v[1], K, batchNormGeomProblem);
    const int64_t n = int64_t(g.rows) * g.channels;
    const float *x = region(h, intOf(env, a.v[2]), n, K, "x");
    const float *mean = region(h, intOf(env, a.v[3]), g.channels, K, "mean");
    const float *var = region(h, intOf(env, a.v[4]), g.channels, K, "variance");
    const float *scale = g.hasScale ? region(h, intOf(env, a.v[5]), g.channels, K, "scale") : nullptr;
    const float *offset = g.hasOffset ? region(h, intOf(env, a.v[6]), g.channels, K, "offset") : nullptr;
    float *y = region(h, intOf(env, a.v[7]), n, K, "y");
    batchNorm(g, x, mean, var, scale, offset, y, static_cast<float>(doubleOf(env, a.v[8])));
    return undefinedValue(env);
  });
}

// compose(heap, geom, dHat, w, k)
napi_value Compose(napi_env env, napi_callback_info info) {
  const char *K = "native compose";
  return guarded(env, K, [&] {
    Args a = args(env, info, 5, K);
    Heap h = heapOf(env, a.v[0], K);
    auto g = checkedGeom<ComposeGeom>(env, a.v[1], K, composeGeomProblem);
    const float *d = region(h, intOf(env, a.v[2]), composeDElems(g), K, "dHat");
    const float *w = region(h, intOf(env, a.v[3]), composeWElems(g), K, "weight");
    float *k = region(h, intOf(env, a.v[4]), composeKElems(g), K, "kernel");
    compose(g, d, w, k);
    return undefinedValue(env);
  });
}

// composeGrad(heap, geom, dK, dHat, w, dDHat, dW)
napi_value ComposeGrad(napi_env env, napi_callback_info info) {
  const char *K = "native composeGrad";
  return guarded(env, K, [&] {
    Args a = args(env, info, 7, K);
    Heap h = heapOf(env, a.v[0], K);
    auto g = checkedGeom<ComposeGeom>(env, a.v[1], K, composeGeomProblem);
    const float *dk = region(h, intOf(env, a.v[2]), composeKElems(g), K, "dy");
    const float *d = region(h, intOf(env, a.v[3]), composeDElems(g), K, "dHat");
    const float *w = region(h, intOf(env, a.v[4]), composeWElems(g), K, "weight");
    float *dd = region(h, intOf(env, a.v[5]), composeDElems(g), K, "dDHat");
    float *dw = region(h, intOf(env, a.v[6]), composeWElems(g), K, "dWeight");
    composeGrad(g, dk, d, w, dd, dw);
    return undefinedValue(env);
  });
}

// The parts of a concat or split: geom Int32Array [outer, inner_0 … inner_{k-1}], offsets a
// Float64Array of k byte offsets (heap offsets may pass 2³¹).
struct Blocks {
  int64_t outer;
  std::vector<int64_t> inner;
  std::vector<int64_t> offsets;
};

Blocks blocksOf(napi_env env, napi_value geomV, napi_value offsetsV, const char *kernel) {
  auto typed = [&](napi_value v, napi_typedarray_type want, const char *what) {
    bool isTa = false;
    check(env, napi_is_typedarray(env, v, &isTa), "is_typedarray");
    napi_typedarray_type type;
    size_t length = 0;
    void *data = nullptr;
    if (isTa) check(env, napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr), "typedarray_info");
    if (!isTa || type != want) throw JsError(std::string(kernel) + ": " + what);
    return std::make_pair(data, length);
  };
  auto [g, gn] = typed(geomV, napi_int32_array, "geometry must be an Int32Array [outer, inner…]");
  auto [o, on] = typed(offsetsV, napi_float64_array, "offsets must be a Float64Array");
  if (gn < 2 || on != gn - 1) {
    throw JsError(std::string(kernel) + ": geometry has " + std::to_string(gn) + " fields for " +
                  std::to_string(on) + " offsets (want 1 + parts fields, parts ≥ 1)");
  }
  const int32_t *gi = static_cast<const int32_t *>(g);
  const double *od = static_cast<const double *>(o);
  Blocks b{gi[0], {}, {}};
  if (b.outer < 1) throw JsError(std::string(kernel) + ": bad geometry: outer must be ≥ 1");
  for (size_t i = 1; i < gn; i++) {
    if (gi[i] < 0) throw JsError(std::string(kernel) + ": bad geometry: a part's block is negative");
    b.inner.push_back(gi[i]);
    b.offsets.push_back(static_cast<int64_t>(od[i - 1]));
  }
  return b;
}

// concat(heap, geom, partOffsets, y)
napi_value Concat(napi_env env, napi_callback_info info) {
  const char *K = "native concat";
  return guarded(env, K, [&] {
    Args a = args(env, info, 4, K);
    Heap h = heapOf(env, a.v[0], K);
    Blocks b = blocksOf(env, a.v[1], a.v[2], K);
    std::vector<const float *> src;
    int64_t row = 0;
    for (size_t i = 0; i < b.inner.size(); i++) {
      src.push_back(region(h, b.offsets[i], b.outer * b.inner[i], K, "a part"));
      row += b.inner[i];
    }
    float *y = region(h, intOf(env, a.v[3]), b.outer * row, K, "y");
    concatBlocks(b.outer, b.inner.data(), static_cast<int>(src.size()), src.data(), y);
    return undefinedValue(env);
  });
}

// split(heap, geom, x, partOffsets)
napi_value Split(napi_env env, napi_callback_info info) {
  const char *K = "native split";
  return guarded(env, K, [&] {
    Args a = args(env, info, 4, K);
    Heap h = heapOf(env, a.v[0], K);
    Blocks b = blocksOf(env, a.v[1], a.v[3], K);
    std::vector<float *> dst;
    int64_t row = 0;
    for (size_t i = 0; i < b.inner.size(); i++) {
      dst.push_back(region(h, b.offsets[i], b.outer * b.inner[i], K, "a part"));
      row += b.inner[i];
    }
    const float *x = region(h, intOf(env, a.v[2]), b.outer * row, K, "x");
    splitBlocks(b.outer, b.inner.data(), static_cast<int>(dst.size()), x, dst.data());
    return undefinedValue(env);
  });
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  const char *K = "native setThreads";
  return guarded(env, K, [&] {
    Args a = args(env, info, 1, K);
    int64_t n = intOf(env, a.v[0]);
    if (n < 1 || n > 1024) throw JsError(std::string(K) + ": threads must be 1..1024, got " + std::to_string(n));
    setThreadCount(static_cast<int>(n));
    return undefinedValue(env);
  });
}

napi_value numberValue(napi_env env, double x) {
  napi_value v;
  napi_create_double(env, x, &v);
  return v;
}

napi_value GetThreads(napi_env env, napi_callback_info) { return numberValue(env, threadCount()); }

// {liveBytes, liveBuffers, cacheEntries}: buffers over the whole process, cache of this thread.
napi_value Stats(napi_env env, napi_callback_info) {
  napi_value o;
  napi_create_object(env, &o);
  napi_set_named_property(env, o, "liveBytes", numberValue(env, static_cast<double>(liveBytes.load())));
  napi_set_named_property(env, o, "liveBuffers", numberValue(env, static_cast<double>(liveBuffers.load())));
  napi_set_named_property(env, o, "cacheEntries", numberValue(env, static_cast<double>(cacheEntries())));
  return o;
}

napi_value ClearCache(napi_env env, napi_callback_info) {
  clearCaches();
  return undefinedValue(env);
}

// convImplInfo(geom, pass): the implementation oneDNN picked, e.g. "jit:avx512_core".
napi_value ConvImplInfo(napi_env env, napi_callback_info info) {
  const char *K = "native convImplInfo";
  return guarded(env, K, [&] {
    Args a = args(env, info, 2, K);
    auto g = geomOf<ConvGeom>(env, a.v[0], K);
    checkConv(g, K);
    char pass[32];
    size_t len;
    check(env, napi_get_value_string_utf8(env, a.v[1], pass, sizeof pass, &len), "pass string");
    napi_value s;
    std::string impl = convImplInfo(g, pass);
    napi_create_string_utf8(env, impl.c_str(), impl.size(), &s);
    return s;
  });
}

napi_value Version(napi_env env, napi_callback_info) {
  const dnnl_version_t *v = dnnl_version();
  std::string s = std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
  napi_value str;
  napi_create_string_utf8(env, s.c_str(), s.size(), &str);
  return str;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"convForward", nullptr, ConvForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"convBackwardData", nullptr, ConvBackwardData, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"convBackwardWeights", nullptr, ConvBackwardWeights, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"matMul", nullptr, MatMul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"compose", nullptr, Compose, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"composeGrad", nullptr, ComposeGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"concat", nullptr, Concat, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"split", nullptr, Split, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"binary", nullptr, Binary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"unary", nullptr, Unary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"reduceRows", nullptr, ReduceRows, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"tile", nullptr, Tile, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNorm", nullptr, BatchNorm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"getThreads", nullptr, GetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"stats", nullptr, Stats, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"clearCache", nullptr, ClearCache, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"convImplInfo", nullptr, ConvImplInfo, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"oneDnnVersion", nullptr, Version, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
