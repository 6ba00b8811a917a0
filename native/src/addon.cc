// Node-API glue: every kernel takes a heap (the wasm heap's ArrayBuffer, or null), an Int32Array
// geometry and its operands, so no tensor is copied. An operand is either a Float32Array (or an
// ArrayBuffer) whose memory the kernel reads or writes in place — the doconv-native backend's
// tensors — or a byte offset into the heap (the wasm backend's tensors). One function resolves
// every operand (operandRegion), bounds-checked against its array or the heap. The JS side
// (src/engine/native/) allocates outputs first and only then reads the heap buffer: wasm memory
// growth detaches the old ArrayBuffer, so no pointer is ever kept across calls.
#include <node_api.h>

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "batchNormRelu.h"
#include "common.h"
#include "compose.h"
#include "conv.h"
#include "eltwise.h"
#include "expLog.h"
#include "matmul.h"
#include "optimizer.h"
#include "plan.h"
#include "resize.h"
#include "softmax.h"

namespace {

using namespace doconv;

struct JsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void check(napi_env env, napi_status st, const char *what) {
  if (st != napi_ok) throw JsError(std::string("Node-API call failed: ") + what);
}

// The most arguments an export takes (batchNormReluGradInput: 15).
constexpr size_t kMaxArgs = 16;

struct Args {
  napi_value v[kMaxArgs];
  size_t n = kMaxArgs;
};

Args args(napi_env env, napi_callback_info info, size_t want, const char *kernel) {
  if (want > kMaxArgs) {
    throw JsError(std::string(kernel) + ": takes " + std::to_string(want) +
                  " arguments, more than the addon reads (" + std::to_string(kMaxArgs) + ")");
  }
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

// The heap argument: the wasm memory's ArrayBuffer, or null/undefined when every operand is an
// array.
Heap heapOf(napi_env env, napi_value v, const char *kernel) {
  napi_valuetype t;
  check(env, napi_typeof(env, v, &t), "typeof");
  if (t == napi_null || t == napi_undefined) return {nullptr, 0};
  bool isAb = false;
  check(env, napi_is_arraybuffer(env, v, &isAb), "is_arraybuffer");
  if (!isAb) {
    throw JsError(std::string(kernel) + ": heap must be an ArrayBuffer (the wasm memory) or null");
  }
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
  if (isTa)
    check(env, napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr),
          "typedarray_info");
  constexpr size_t fields = sizeof(G) / sizeof(int32_t);
  if (!isTa || type != napi_int32_array || length != fields) {
    throw JsError(std::string(kernel) + ": geometry must be an Int32Array of " +
                  std::to_string(fields) + " fields");
  }
  G g;
  std::memcpy(&g, data, sizeof g);
  return g;
}

double doubleOf(napi_env env, napi_value v) {
  double x;
  check(env, napi_get_value_double(env, v, &x), "get_value_double (expected a number)");
  return x;
}

// A whole number from 0 to 2^53 read from a double (a JS number or a Float64Array entry), or an
// error naming it: NaN, ±Infinity, fractions and negatives are refused, never read as 0 or cut.
int64_t wholeOf(double x, const char *kernel, const char *arg) {
  if (!(x >= 0 && x <= 9007199254740992.0 && x == std::floor(x))) {
    throw JsError(std::string(kernel) + ": " + arg + " must be a whole number ≥ 0, got " +
                  (std::isnan(x) ? std::string("NaN") : std::to_string(x)));
  }
  return static_cast<int64_t>(x);
}

// A float32 region of the heap, bounds- and alignment-checked: a wrong offset must be an error
// naming the kernel and the argument, never a write past the tensor. `offset` is a byte offset
// (a JS number); elems ≤ kMaxElems, so offset + elems·4 < 2^55 cannot wrap.
float *heapRegion(const Heap &h, double offset, int64_t elems, const char *kernel,
                  const char *arg) {
  if (h.base == nullptr) {
    throw JsError(std::string(kernel) + ": " + arg +
                  " is a heap byte offset but no heap was given");
  }
  const int64_t at = wholeOf(offset, kernel, (std::string(arg) + "'s byte offset").c_str());
  if (elems < 0 || elems > kMaxElems || at % 4 != 0 ||
      static_cast<uint64_t>(at) + static_cast<uint64_t>(elems) * 4 > h.bytes) {
    throw JsError(std::string(kernel) + ": " + arg + " at byte offset " + std::to_string(at) +
                  " with " + std::to_string(elems) + " float32 elements is outside the heap (" +
                  std::to_string(h.bytes) + " bytes)");
  }
  return reinterpret_cast<float *>(h.base + at);
}

// The one operand resolution of every kernel: `v` is a Float32Array or an ArrayBuffer (its memory,
// in place) or a byte offset into the heap, and must hold at least `elems` float32 values.
float *operandRegion(napi_env env, const Heap &h, napi_value v, int64_t elems, const char *kernel,
                     const char *arg) {
  if (elems < 0 || elems > kMaxElems) {
    throw JsError(std::string(kernel) + ": " + arg + " has " + std::to_string(elems) +
                  " elements, outside 0.." + std::to_string(kMaxElems));
  }
  bool isTa = false, isAb = false;
  check(env, napi_is_typedarray(env, v, &isTa), "is_typedarray");
  void *data = nullptr;
  size_t bytes = 0;
  if (isTa) {
    napi_typedarray_type type;
    size_t length;
    check(env, napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr),
          "typedarray_info");
    if (type != napi_float32_array) {
      throw JsError(std::string(kernel) + ": " + arg +
                    " must be a Float32Array (or a heap byte offset)");
    }
    bytes = length * 4;
  } else {
    check(env, napi_is_arraybuffer(env, v, &isAb), "is_arraybuffer");
    if (!isAb) {
      napi_valuetype t;
      check(env, napi_typeof(env, v, &t), "typeof");
      if (t != napi_number) {
        throw JsError(std::string(kernel) + ": " + arg +
                      " must be a Float32Array, an ArrayBuffer or a heap byte offset");
      }
      return heapRegion(h, doubleOf(env, v), elems, kernel, arg);
    }
    check(env, napi_get_arraybuffer_info(env, v, &data, &bytes), "get_arraybuffer_info");
  }
  if (static_cast<uint64_t>(elems) * 4 > bytes) {
    throw JsError(std::string(kernel) + ": " + arg + " needs " + std::to_string(elems) +
                  " float32 elements but its array holds " + std::to_string(bytes / 4));
  }
  if (reinterpret_cast<uintptr_t>(data) % alignof(float) != 0) {
    throw JsError(std::string(kernel) + ": " + arg + "'s memory is not 4-byte aligned");
  }
  return static_cast<float *>(data);
}

napi_value undefinedValue(napi_env env) {
  napi_value u;
  check(env, napi_get_undefined(env, &u), "get_undefined");
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
                      std::to_string(static_cast<int>(e.status)) + ")")
                         .c_str());
  } catch (const std::exception &e) {
    napi_throw_error(env, nullptr, (std::string(kernel) + ": " + e.what()).c_str());
  }
  return nullptr;
}

// The geometry argument, checked by `problem` (empty when consistent).
template <typename G>
G checkedGeom(napi_env env, napi_value v, const char *kernel, std::string (*problem)(const G &)) {
  auto g = geomOf<G>(env, v, kernel);
  std::string p = problem(g);
  if (!p.empty()) throw JsError(std::string(kernel) + ": bad geometry: " + p);
  return g;
}

// One call of a heap kernel `kernel(heap, geom, ...)`, its heap and geometry already checked; the
// export reads the remaining arguments through it, by position, in the order it checks them.
template <typename G>
struct HeapCall {
  napi_env env;
  const char *kernel;
  Args a;
  Heap h;
  G g;

  float *region(size_t i, int64_t elems, const char *name) const {
    return operandRegion(env, h, a.v[i], elems, kernel, name);
  }
  // null, undefined or -1: none (nullptr); else region(i, ...)
  float *optionalRegion(size_t i, int64_t elems, const char *name) const {
    napi_valuetype t;
    check(env, napi_typeof(env, a.v[i], &t), "typeof");
    if (t == napi_null || t == napi_undefined) return nullptr;
    if (t == napi_number && doubleOf(env, a.v[i]) == -1) return nullptr;
    return region(i, elems, name);
  }
  double number(size_t i) const { return doubleOf(env, a.v[i]); }
};

// What every heap kernel does first (the arguments, the heap, the geometry) around `body`, which
// takes the HeapCall and runs the kernel; the export returns undefined.
template <typename G, typename F>
napi_value heapKernel(napi_env env, napi_callback_info info, const char *kernel, size_t argc,
                      std::string (*problem)(const G &), F body) {
  return guarded(env, kernel, [&] {
    Args a = args(env, info, argc, kernel);
    Heap h = heapOf(env, a.v[0], kernel);
    G g = checkedGeom<G>(env, a.v[1], kernel, problem);
    body(HeapCall<G>{env, kernel, a, h, g});
    return undefinedValue(env);
  });
}

// convForward(heap, geom, x, filter, bias (-1: none), y, alpha)
napi_value ConvForward(napi_env env, napi_callback_info info) {
  return heapKernel<ConvGeom>(
      env, info, "native convForward", 7, convGeomProblem, [](const auto &c) {
        const float *x = c.region(2, convInputElems(c.g), "x");
        const float *w = c.region(3, convFilterElems(c.g), "filter");
        const float *b = c.g.hasBias ? c.region(4, c.g.co, "bias") : nullptr;
        float *y = c.region(5, convOutputElems(c.g), "y");
        convForward(c.g, x, w, b, y, static_cast<float>(c.number(6)));
      });
}

// convBackwardData(heap, geom, dy, filter, dx)
napi_value ConvBackwardData(napi_env env, napi_callback_info info) {
  return heapKernel<ConvGeom>(
      env, info, "native convBackwardData", 5, convGeomProblem, [](const auto &c) {
        const float *dy = c.region(2, convOutputElems(c.g), "dy");
        const float *w = c.region(3, convFilterElems(c.g), "filter");
        convBackwardData(c.g, dy, w, c.region(4, convInputElems(c.g), "dx"));
      });
}

// convBackwardWeights(heap, geom, x, dy, dw)
napi_value ConvBackwardWeights(napi_env env, napi_callback_info info) {
  return heapKernel<ConvGeom>(
      env, info, "native convBackwardWeights", 5, convGeomProblem, [](const auto &c) {
        const float *x = c.region(2, convInputElems(c.g), "x");
        const float *dy = c.region(3, convOutputElems(c.g), "dy");
        convBackwardWeights(c.g, x, dy, c.region(4, convFilterElems(c.g), "dw"));
      });
}

// matMul(heap, geom, a, b, y)
napi_value MatMul(napi_env env, napi_callback_info info) {
  return heapKernel<MatMulGeom>(env, info, "native matMul", 5, matMulGeomProblem,
                                [](const auto &c) {
                                  const float *a = c.region(2, matMulAElems(c.g), "a");
                                  const float *b = c.region(3, matMulBElems(c.g), "b");
                                  matMul(c.g, a, b, c.region(4, matMulYElems(c.g), "y"));
                                });
}

// binary(heap, geom, a, b, y)
napi_value Binary(napi_env env, napi_callback_info info) {
  return heapKernel<BinaryGeom>(
      env, info, "native binary", 5, binaryGeomProblem, [](const auto &c) {
        const float *a = c.region(2, operandElems(c.g.aMode, c.g), "a");
        const float *b = c.region(3, operandElems(c.g.bMode, c.g), "b");
        binary(c.g, a, b, c.region(4, int64_t(c.g.rows) * c.g.channels, "y"));
      });
}

// unary(heap, geom, x, y, alpha)
napi_value Unary(napi_env env, napi_callback_info info) {
  return heapKernel<UnaryGeom>(env, info, "native unary", 5, unaryGeomProblem, [](const auto &c) {
    const float *x = c.region(2, c.g.size, "x");
    float *y = c.region(3, c.g.size, "y");
    unary(c.g, x, y, static_cast<float>(c.number(4)));
  });
}

// reduceRows(heap, geom, x, y, scale)
napi_value ReduceRows(napi_env env, napi_callback_info info) {
  return heapKernel<ReduceGeom>(env, info, "native reduceRows", 5, reduceGeomProblem,
                                [](const auto &c) {
                                  const int64_t outer = c.g.outer;
                                  const float *x = c.region(2, outer * c.g.rows * c.g.inner, "x");
                                  float *y = c.region(3, outer * c.g.inner, "y");
                                  reduceRows(c.g, x, y, c.number(4));
                                });
}

// maxRows(heap, geom, x, y)
napi_value MaxRows(napi_env env, napi_callback_info info) {
  return heapKernel<ReduceGeom>(env, info, "native maxRows", 4, reduceGeomProblem,
                                [](const auto &c) {
                                  if (c.g.rows < 1)
                                    throw JsError("native maxRows: rows must be ≥ 1");
                                  const int64_t outer = c.g.outer;
                                  const float *x = c.region(2, outer * c.g.rows * c.g.inner, "x");
                                  maxRows(c.g, x, c.region(3, outer * c.g.inner, "y"));
                                });
}

// resizeBilinear(heap, geom, x, y)
napi_value ResizeBilinear(napi_env env, napi_callback_info info) {
  return heapKernel<ResizeGeom>(env, info, "native resizeBilinear", 4, resizeGeomProblem,
                                [](const auto &c) {
                                  const float *x = c.region(2, resizeInElems(c.g), "images");
                                  resizeBilinear(c.g, x, c.region(3, resizeOutElems(c.g), "y"));
                                });
}

// resizeBilinearGrad(heap, geom, dy, dx)
napi_value ResizeBilinearGrad(napi_env env, napi_callback_info info) {
  return heapKernel<ResizeGeom>(
      env, info, "native resizeBilinearGrad", 4, resizeGeomProblem, [](const auto &c) {
        const float *dy = c.region(2, resizeOutElems(c.g), "dy");
        resizeBilinearGrad(c.g, dy, c.region(3, resizeInElems(c.g), "dx"));
      });
}

// softmaxCrossEntropy(heap, geom, labels, logits, loss, softmax)
napi_value SoftmaxCrossEntropy(napi_env env, napi_callback_info info) {
  return heapKernel<SoftmaxGeom>(
      env, info, "native softmaxCrossEntropy", 6, softmaxGeomProblem, [](const auto &c) {
        const int64_t n = softmaxElems(c.g);
        const float *labels = c.region(2, n, "labels");
        const float *logits = c.region(3, n, "logits");
        float *loss = c.region(4, c.g.rows, "loss");
        softmaxCrossEntropy(c.g, labels, logits, loss, c.region(5, n, "softmax"));
      });
}

// softmax(heap, geom, logits, y)
napi_value Softmax(napi_env env, napi_callback_info info) {
  return heapKernel<SoftmaxGeom>(env, info, "native softmax", 4, softmaxGeomProblem,
                                 [](const auto &c) {
                                   const int64_t n = softmaxElems(c.g);
                                   const float *logits = c.region(2, n, "logits");
                                   softmaxRows(c.g, logits, c.region(3, n, "y"));
                                 });
}

// softmaxCrossEntropyGrad(heap, geom, dy, softmax, labels, dLogits)
napi_value SoftmaxCrossEntropyGrad(napi_env env, napi_callback_info info) {
  return heapKernel<SoftmaxGeom>(
      env, info, "native softmaxCrossEntropyGrad", 6, softmaxGeomProblem, [](const auto &c) {
        const int64_t n = softmaxElems(c.g);
        const float *dy = c.region(2, c.g.rows, "dy");
        const float *softmax = c.region(3, n, "softmax");
        const float *labels = c.region(4, n, "labels");
        softmaxCrossEntropyGrad(c.g, dy, softmax, labels, c.region(5, n, "dLogits"));
      });
}

// tile(heap, geom, x, y)
napi_value Tile(napi_env env, napi_callback_info info) {
  return heapKernel<TileGeom>(env, info, "native tile", 4, tileGeomProblem, [](const auto &c) {
    const int64_t outer = c.g.outer;
    const float *x = c.region(2, outer * c.g.block, "x");
    tile(c.g, x, c.region(3, outer * c.g.block * c.g.repeats, "y"));
  });
}

// batchNorm(heap, geom, x, mean, variance, scale (-1: none), offset (-1: none), y, epsilon)
napi_value BatchNorm(napi_env env, napi_callback_info info) {
  return heapKernel<BatchNormGeom>(
      env, info, "native batchNorm", 9, batchNormGeomProblem, [](const auto &c) {
        const int64_t n = int64_t(c.g.rows) * c.g.channels, ch = c.g.channels;
        const float *x = c.region(2, n, "x");
        const float *mean = c.region(3, ch, "mean");
        const float *var = c.region(4, ch, "variance");
        const float *scale = c.g.hasScale ? c.region(5, ch, "scale") : nullptr;
        const float *offset = c.g.hasOffset ? c.region(6, ch, "offset") : nullptr;
        float *y = c.region(7, n, "y");
        batchNorm(c.g, x, mean, var, scale, offset, y, static_cast<float>(c.number(8)));
      });
}

// reluGrad(heap, geom, dy, x, dx)
napi_value ReluGrad(napi_env env, napi_callback_info info) {
  return heapKernel<ReluGradGeom>(env, info, "native reluGrad", 5, reluGradGeomProblem,
                                  [](const auto &c) {
                                    const float *dy = c.region(2, c.g.size, "dy");
                                    const float *x = c.region(3, c.g.size, "x");
                                    reluGrad(c.g, dy, x, c.region(4, c.g.size, "dx"));
                                  });
}

// addRelu(heap, geom, a, b, y)
napi_value AddRelu(napi_env env, napi_callback_info info) {
  return heapKernel<ReluGradGeom>(env, info, "native addRelu", 5, reluGradGeomProblem,
                                  [](const auto &c) {
                                    const float *a = c.region(2, c.g.size, "a");
                                    const float *b = c.region(3, c.g.size, "b");
                                    addRelu(c.g, a, b, c.region(4, c.g.size, "y"));
                                  });
}

// clip(heap, geom, x, y, lo, hi)
napi_value Clip(napi_env env, napi_callback_info info) {
  return heapKernel<ClipGeom>(env, info, "native clip", 6, clipGeomProblem, [](const auto &c) {
    const float *x = c.region(2, c.g.size, "x");
    float *y = c.region(3, c.g.size, "y");
    clip(c.g, x, y, static_cast<float>(c.number(4)), static_cast<float>(c.number(5)));
  });
}

// clipGrad(heap, geom, dy, x, dx, lo, hi)
napi_value ClipGrad(napi_env env, napi_callback_info info) {
  return heapKernel<ClipGeom>(env, info, "native clipGrad", 7, clipGeomProblem, [](const auto &c) {
    const float *dy = c.region(2, c.g.size, "dy");
    const float *x = c.region(3, c.g.size, "x");
    float *dx = c.region(4, c.g.size, "dx");
    clipGrad(c.g, dy, x, dx, static_cast<float>(c.number(5)), static_cast<float>(c.number(6)));
  });
}

// batchNormGradSums(heap, geom, dy, x, mean, sumDy, sumDyXc)
napi_value BatchNormGradSums(napi_env env, napi_callback_info info) {
  return heapKernel<ChannelSumsGeom>(
      env, info, "native batchNormGradSums", 7, channelSumsGeomProblem, [](const auto &c) {
        const int64_t n = int64_t(c.g.rows) * c.g.channels, ch = c.g.channels;
        const float *dy = c.region(2, n, "dy");
        const float *x = c.region(3, n, "x");
        const float *mean = c.region(4, ch, "mean");
        batchNormGradSums(c.g, dy, x, mean, c.region(5, ch, "sumDy"), c.region(6, ch, "sumDyXc"));
      });
}

// boxCopy(heap, geom, big, small): Slice (small = box of big) or PadV2's copy (box of big = small)
napi_value BoxCopy(napi_env env, napi_callback_info info) {
  return heapKernel<BoxGeom>(env, info, "native boxCopy", 4, boxGeomProblem, [](const auto &c) {
    float *big = c.region(2, boxBigElems(c.g), "big");
    boxCopy(c.g, big, c.region(3, boxElems(c.g), "small"));
  });
}

// maxPool(heap, geom, x, y)
napi_value MaxPool(napi_env env, napi_callback_info info) {
  return heapKernel<PoolGeom>(env, info, "native maxPool", 4, poolGeomProblem, [](const auto &c) {
    const float *x = c.region(2, poolInElems(c.g), "x");
    maxPool(c.g, x, c.region(3, poolOutElems(c.g), "y"));
  });
}

// maxPoolGrad(heap, geom, x, dy, dx)
napi_value MaxPoolGrad(napi_env env, napi_callback_info info) {
  return heapKernel<PoolGeom>(env, info, "native maxPoolGrad", 5, poolGeomProblem,
                              [](const auto &c) {
                                const float *x = c.region(2, poolInElems(c.g), "x");
                                const float *dy = c.region(3, poolOutElems(c.g), "dy");
                                maxPoolGrad(c.g, x, dy, c.region(4, poolInElems(c.g), "dx"));
                              });
}

// batchNormStats(heap, geom, x, mean, variance)
napi_value BatchNormStats(napi_env env, napi_callback_info info) {
  return heapKernel<ChannelSumsGeom>(
      env, info, "native batchNormStats", 5, channelSumsGeomProblem, [](const auto &c) {
        const int64_t n = int64_t(c.g.rows) * c.g.channels, ch = c.g.channels;
        const float *x = c.region(2, n, "x");
        batchNormStats(c.g, x, c.region(3, ch, "mean"), c.region(4, ch, "variance"));
      });
}

// batchNormTrainGradInput(heap, geom, dy, x, mean, variance, scale (-1: none), sumDy, sumDyXc,
// dMean, dVariance, dx, epsilon)
napi_value BatchNormTrainGradInput(napi_env env, napi_callback_info info) {
  return heapKernel<BatchNormGradGeom>(
      env, info, "native batchNormTrainGradInput", 13, batchNormGradGeomProblem, [](const auto &c) {
        const int64_t n = int64_t(c.g.rows) * c.g.channels, ch = c.g.channels;
        const float *dy = c.region(2, n, "dy");
        const float *x = c.region(3, n, "x");
        const float *mean = c.region(4, ch, "mean");
        const float *var = c.region(5, ch, "variance");
        const float *scale = c.g.hasScale ? c.region(6, ch, "scale") : nullptr;
        const float *sumDy = c.region(7, ch, "sumDy");
        const float *sumDyXc = c.region(8, ch, "sumDyXc");
        const float *dMean = c.region(9, ch, "dMean");
        const float *dVariance = c.region(10, ch, "dVariance");
        float *dx = c.region(11, n, "dx");
        batchNormTrainGradInput(c.g, dy, x, mean, var, scale, sumDy, sumDyXc, dMean, dVariance, dx,
                                static_cast<float>(c.number(12)));
      });
}

// BatchNorm then ReLU (cap: +∞, or 6 for ReLU6) in training, batchNormRelu.h. Operands in the
// order mean, variance, scale, offset after x (and dy); epsilon and cap last.
struct BatchNormReluOperands {
  const float *mean, *variance, *scale, *offset;
};

template <typename Call>
BatchNormReluOperands perChannel(const Call &c, size_t first) {
  const int64_t ch = c.g.channels;
  return {c.region(first, ch, "mean"), c.region(first + 1, ch, "variance"),
          c.region(first + 2, ch, "scale"), c.region(first + 3, ch, "offset")};
}

// batchNormRelu(heap, geom, x, mean, variance, scale, offset, z, epsilon, cap)
napi_value BatchNormRelu(napi_env env, napi_callback_info info) {
  return heapKernel<BatchNormReluGeom>(
      env, info, "native batchNormRelu", 10, batchNormReluGeomProblem, [](const auto &c) {
        const int64_t n = int64_t(c.g.rows) * c.g.channels;
        const float *x = c.region(2, n, "x");
        const BatchNormReluOperands p = perChannel(c, 3);
        batchNormRelu(c.g, x, p.mean, p.variance, p.scale, p.offset, c.region(7, n, "z"),
                      static_cast<float>(c.number(8)), static_cast<float>(c.number(9)));
      });
}

// batchNormReluGradSums(heap, geom, dy, x, mean, variance, scale, offset, sumDy, sumDyXc,
// epsilon, cap)
napi_value BatchNormReluGradSums(napi_env env, napi_callback_info info) {
  return heapKernel<BatchNormReluGeom>(
      env, info, "native batchNormReluGradSums", 12, batchNormReluGeomProblem, [](const auto &c) {
        const int64_t n = int64_t(c.g.rows) * c.g.channels, ch = c.g.channels;
        const float *dy = c.region(2, n, "dy");
        const float *x = c.region(3, n, "x");
        const BatchNormReluOperands p = perChannel(c, 4);
        batchNormReluGradSums(c.g, dy, x, p.mean, p.variance, p.scale, p.offset,
                              c.region(8, ch, "sumDy"), c.region(9, ch, "sumDyXc"),
                              static_cast<float>(c.number(10)), static_cast<float>(c.number(11)));
      });
}

// batchNormReluGradInput(heap, geom, dy, x, mean, variance, scale, offset, sumDy, sumDyXc, dMean,
// dVariance, dx, epsilon, cap)
napi_value BatchNormReluGradInput(napi_env env, napi_callback_info info) {
  return heapKernel<BatchNormReluGeom>(
      env, info, "native batchNormReluGradInput", 15, batchNormReluGeomProblem, [](const auto &c) {
        const int64_t n = int64_t(c.g.rows) * c.g.channels, ch = c.g.channels;
        const float *dy = c.region(2, n, "dy");
        const float *x = c.region(3, n, "x");
        const BatchNormReluOperands p = perChannel(c, 4);
        const float *sumDy = c.region(8, ch, "sumDy");
        const float *sumDyXc = c.region(9, ch, "sumDyXc");
        const float *dMean = c.region(10, ch, "dMean");
        const float *dVariance = c.region(11, ch, "dVariance");
        batchNormReluGradInput(c.g, dy, x, p.mean, p.variance, p.scale, p.offset, sumDy, sumDyXc,
                               dMean, dVariance, c.region(12, n, "dx"),
                               static_cast<float>(c.number(13)), static_cast<float>(c.number(14)));
      });
}

// compose(heap, geom, d, dDiag (-1: the identity pattern, compose.h), w, k)
napi_value Compose(napi_env env, napi_callback_info info) {
  return heapKernel<ComposeGeom>(
      env, info, "native compose", 6, composeGeomProblem, [](const auto &c) {
        const float *d = c.region(2, composeDElems(c.g), "d");
        const float *diag = c.optionalRegion(3, composeDElems(c.g), "dDiag");
        const float *w = c.region(4, composeWElems(c.g), "weight");
        compose(c.g, d, diag, w, c.region(5, composeKElems(c.g), "kernel"));
      });
}

// composeGrad(heap, geom, dK, d, dDiag (-1: the identity pattern), w, dD, dW)
napi_value ComposeGrad(napi_env env, napi_callback_info info) {
  return heapKernel<ComposeGeom>(
      env, info, "native composeGrad", 8, composeGeomProblem, [](const auto &c) {
        const float *dk = c.region(2, composeKElems(c.g), "dy");
        const float *d = c.region(3, composeDElems(c.g), "d");
        const float *diag = c.optionalRegion(4, composeDElems(c.g), "dDiag");
        const float *w = c.region(5, composeWElems(c.g), "weight");
        float *dd = c.region(6, composeDElems(c.g), "dD");
        composeGrad(c.g, dk, d, diag, w, dd, c.region(7, composeWElems(c.g), "dWeight"));
      });
}

// composedConvForward(heap, geom, x, d, dDiag (-1: the identity pattern), w, bias (-1: none), y,
// alpha)
napi_value ComposedConvForward(napi_env env, napi_callback_info info) {
  return heapKernel<ComposedConvGeom>(
      env, info, "native composedConvForward", 9, composedConvGeomProblem, [](const auto &c) {
        const ConvGeom &cg = c.g.conv;
        const float *x = c.region(2, convInputElems(cg), "x");
        const float *d = c.region(3, composeDElems(c.g.compose), "d");
        const float *diag = c.optionalRegion(4, composeDElems(c.g.compose), "dDiag");
        const float *w = c.region(5, composeWElems(c.g.compose), "weight");
        const float *b = cg.hasBias ? c.region(6, cg.co, "bias") : nullptr;
        float *y = c.region(7, convOutputElems(cg), "y");
        composedConvForward(c.g, x, d, diag, w, b, y, static_cast<float>(c.number(8)));
      });
}

// composedConvBackwardData(heap, geom, dy, d, dDiag (-1: the identity pattern), w, dx)
napi_value ComposedConvBackwardData(napi_env env, napi_callback_info info) {
  return heapKernel<ComposedConvGeom>(
      env, info, "native composedConvBackwardData", 7, composedConvGeomProblem, [](const auto &c) {
        const ConvGeom &cg = c.g.conv;
        const float *dy = c.region(2, convOutputElems(cg), "dy");
        const float *d = c.region(3, composeDElems(c.g.compose), "d");
        const float *diag = c.optionalRegion(4, composeDElems(c.g.compose), "dDiag");
        const float *w = c.region(5, composeWElems(c.g.compose), "weight");
        composedConvBackwardData(c.g, dy, d, diag, w, c.region(6, convInputElems(cg), "dx"));
      });
}

// composedConvBackwardWeights(heap, geom, x, dy, d, dDiag (-1: the identity pattern), w, dD, dW)
napi_value ComposedConvBackwardWeights(napi_env env, napi_callback_info info) {
  return heapKernel<ComposedConvGeom>(
      env, info, "native composedConvBackwardWeights", 9, composedConvGeomProblem,
      [](const auto &c) {
        const ConvGeom &cg = c.g.conv;
        const float *x = c.region(2, convInputElems(cg), "x");
        const float *dy = c.region(3, convOutputElems(cg), "dy");
        const float *d = c.region(4, composeDElems(c.g.compose), "d");
        const float *diag = c.optionalRegion(5, composeDElems(c.g.compose), "dDiag");
        const float *w = c.region(6, composeWElems(c.g.compose), "weight");
        float *dd = c.region(7, composeDElems(c.g.compose), "dD");
        float *dw = c.region(8, composeWElems(c.g.compose), "dWeight");
        composedConvBackwardWeights(c.g, x, dy, d, diag, w, dd, dw);
      });
}

// A typed array argument of type `want` (data, length), or an error naming the kernel and `what`.
std::pair<void *, size_t> typedArrayOf(napi_env env, napi_value v, napi_typedarray_type want,
                                       const char *kernel, const char *what) {
  bool isTa = false;
  check(env, napi_is_typedarray(env, v, &isTa), "is_typedarray");
  napi_typedarray_type type;
  size_t length = 0;
  void *data = nullptr;
  if (isTa)
    check(env, napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr),
          "typedarray_info");
  if (!isTa || type != want) throw JsError(std::string(kernel) + ": " + what);
  return {data, length};
}

// Several operands in one argument: a Float64Array of heap byte offsets (they may pass 2³¹), or a
// JS Array of Float32Arrays / ArrayBuffers.
struct OperandList {
  napi_value array = nullptr;
  const double *offsets = nullptr;
  size_t length = 0;
};

OperandList operandListOf(napi_env env, napi_value v, const char *kernel, const char *what) {
  bool isArray = false;
  check(env, napi_is_array(env, v, &isArray), "is_array");
  if (isArray) {
    uint32_t n;
    check(env, napi_get_array_length(env, v, &n), "get_array_length");
    return {v, nullptr, n};
  }
  auto [data, length] =
      typedArrayOf(env, v, napi_float64_array, kernel,
                   (std::string(what) +
                    " must be a Float64Array of heap byte offsets or an Array of Float32Arrays")
                       .c_str());
  return {nullptr, static_cast<const double *>(data), length};
}

// Operand i of a list, resolved and checked as operandRegion does.
float *listRegion(napi_env env, const Heap &h, const OperandList &l, size_t i, int64_t elems,
                  const char *kernel, const char *arg) {
  if (l.offsets != nullptr) return heapRegion(h, l.offsets[i], elems, kernel, arg);
  napi_value e;
  check(env, napi_get_element(env, l.array, static_cast<uint32_t>(i), &e), "get_element");
  return operandRegion(env, h, e, elems, kernel, arg);
}

// The parts of a concat or split: geom Int32Array [outer, inner_0 … inner_{k-1}] and k operands.
struct Blocks {
  int64_t outer;
  std::vector<int64_t> inner;
  OperandList parts;
};

Blocks blocksOf(napi_env env, napi_value geomV, napi_value partsV, const char *kernel) {
  auto [g, gn] = typedArrayOf(env, geomV, napi_int32_array, kernel,
                              "geometry must be an Int32Array [outer, inner…]");
  OperandList parts = operandListOf(env, partsV, kernel, "parts");
  if (gn < 2 || parts.length != gn - 1) {
    throw JsError(std::string(kernel) + ": geometry has " + std::to_string(gn) + " fields for " +
                  std::to_string(parts.length) + " parts (want 1 + parts fields, parts ≥ 1)");
  }
  const int32_t *gi = static_cast<const int32_t *>(g);
  Blocks b{gi[0], {}, parts};
  if (b.outer < 0) throw JsError(std::string(kernel) + ": bad geometry: outer must be ≥ 0");
  for (size_t i = 1; i < gn; i++) {
    if (gi[i] < 0)
      throw JsError(std::string(kernel) + ": bad geometry: a part's block is negative");
    b.inner.push_back(gi[i]);
  }
  return b;
}

// The parts' regions (checked) and the joined tensor's row length.
std::pair<std::vector<float *>, int64_t> partRegions(napi_env env, const Heap &h, const Blocks &b,
                                                     const char *kernel) {
  std::vector<float *> parts;
  int64_t row = 0;
  for (size_t i = 0; i < b.inner.size(); i++) {
    parts.push_back(listRegion(env, h, b.parts, i, b.outer * b.inner[i], kernel, "a part"));
    row += b.inner[i];
  }
  return {parts, row};
}

// concat(heap, geom, parts, y)
napi_value Concat(napi_env env, napi_callback_info info) {
  const char *K = "native concat";
  return guarded(env, K, [&] {
    Args a = args(env, info, 4, K);
    Heap h = heapOf(env, a.v[0], K);
    Blocks b = blocksOf(env, a.v[1], a.v[2], K);
    auto [parts, row] = partRegions(env, h, b, K);
    std::vector<const float *> src(parts.begin(), parts.end());
    float *y = operandRegion(env, h, a.v[3], b.outer * row, K, "y");
    concatBlocks(b.outer, b.inner.data(), static_cast<int>(src.size()), src.data(), y);
    return undefinedValue(env);
  });
}

// split(heap, geom, x, parts)
napi_value Split(napi_env env, napi_callback_info info) {
  const char *K = "native split";
  return guarded(env, K, [&] {
    Args a = args(env, info, 4, K);
    Heap h = heapOf(env, a.v[0], K);
    Blocks b = blocksOf(env, a.v[1], a.v[3], K);
    auto [dst, row] = partRegions(env, h, b, K);
    const float *x = operandRegion(env, h, a.v[2], b.outer * row, K, "x");
    splitBlocks(b.outer, b.inner.data(), static_cast<int>(dst.size()), x, dst.data());
    return undefinedValue(env);
  });
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  const char *K = "native setThreads";
  return guarded(env, K, [&] {
    Args a = args(env, info, 1, K);
    const double n = doubleOf(env, a.v[0]);
    if (!(n >= 1 && n <= 1024 && n == std::floor(n))) {
      throw JsError(std::string(K) + ": threads must be 1..1024, got " +
                    (std::isnan(n) ? std::string("NaN") : std::to_string(n)));
    }
    setThreadCount(static_cast<int>(n));
    return undefinedValue(env);
  });
}

napi_value numberValue(napi_env env, double x);

// setParallelMin(elements, multiplyAdds): the work below which ops run on one thread (common.h).
napi_value SetParallelMin(napi_env env, napi_callback_info info) {
  const char *K = "native setParallelMin";
  return guarded(env, K, [&] {
    Args a = args(env, info, 2, K);
    const double elems = doubleOf(env, a.v[0]), macs = doubleOf(env, a.v[1]);
    for (auto [name, v] : {std::pair{"elements", elems}, std::pair{"multiplyAdds", macs}}) {
      if (!(v >= 0 && v <= 9007199254740991.0 && v == std::floor(v))) {
        throw JsError(std::string(K) + ": " + name + " must be an integer 0..2^53-1, got " +
                      (std::isnan(v) ? std::string("NaN") : std::to_string(v)));
      }
    }
    setParallelMin(static_cast<int64_t>(elems), macs);
    return undefinedValue(env);
  });
}

// [elements, multiplyAdds]
napi_value GetParallelMin(napi_env env, napi_callback_info) {
  return guarded(env, "native getParallelMin", [&] {
    napi_value arr;
    check(env, napi_create_array_with_length(env, 2, &arr), "create_array");
    check(env, napi_set_element(env, arr, 0, numberValue(env, double(parallelMinElems()))),
          "set_element");
    check(env, napi_set_element(env, arr, 1, numberValue(env, parallelMinMacs())), "set_element");
    return arr;
  });
}

napi_value numberValue(napi_env env, double x) {
  napi_value v;
  check(env, napi_create_double(env, x, &v), "create_double");
  return v;
}

napi_value stringValue(napi_env env, const std::string &s) {
  napi_value v;
  check(env, napi_create_string_utf8(env, s.c_str(), s.size(), &v), "create_string_utf8");
  return v;
}

napi_value GetThreads(napi_env env, napi_callback_info) {
  return guarded(env, "native getThreads", [&] { return numberValue(env, threadCount()); });
}

// {liveBytes, liveBuffers, cacheEntries}: buffers over the whole process, cache of this thread.
napi_value Stats(napi_env env, napi_callback_info) {
  return guarded(env, "native stats", [&] {
    napi_value o;
    check(env, napi_create_object(env, &o), "create_object");
    const std::pair<const char *, int64_t> fields[] = {{"liveBytes", liveBytes.load()},
                                                       {"liveBuffers", liveBuffers.load()},
                                                       {"cacheEntries", cacheEntries()}};
    for (const auto &[name, value] : fields) {
      check(env,
            napi_set_named_property(env, o, name, numberValue(env, static_cast<double>(value))),
            "set_named_property");
    }
    return o;
  });
}

// optimizerStep(heap, kind, sizes, operands, params): every variable's update (optimizer.h).
// sizes a Float64Array of n element counts, operands n · k operands (an OperandList),
// params a Float64Array; every region is checked before anything is written.
napi_value OptimizerStep(napi_env env, napi_callback_info info) {
  const char *K = "native optimizerStep";
  return guarded(env, K, [&] {
    Args a = args(env, info, 5, K);
    Heap h = heapOf(env, a.v[0], K);
    const int64_t kind = wholeOf(doubleOf(env, a.v[1]), K, "kind");
    const int k = optimizerOperands(static_cast<int32_t>(kind));
    if (k == 0) throw JsError(std::string(K) + ": unknown optimizer kind " + std::to_string(kind));
    auto [s, n] = typedArrayOf(env, a.v[2], napi_float64_array, K, "sizes must be a Float64Array");
    OperandList o = operandListOf(env, a.v[3], K, "operands");
    const size_t on = o.length;
    auto [p, pn] =
        typedArrayOf(env, a.v[4], napi_float64_array, K, "params must be a Float64Array");
    if (on != n * k || pn != static_cast<size_t>(optimizerParams(static_cast<int32_t>(kind)))) {
      throw JsError(std::string(K) + ": " + std::to_string(n) + " variables need " +
                    std::to_string(n * k) + " operands and " +
                    std::to_string(optimizerParams(static_cast<int32_t>(kind))) + " params, got " +
                    std::to_string(on) + " and " + std::to_string(pn));
    }
    const double *sizes = static_cast<const double *>(s);
    std::vector<int64_t> elems(n);
    std::vector<float *> operands(n * k);
    for (size_t i = 0; i < n; i++) {
      elems[i] = wholeOf(sizes[i], K, "a variable's size");
      for (int j = 0; j < k; j++) {
        const char *what = j == 1       ? "a gradient"
                           : j == k - 1 ? "a new value"
                           : j == 0     ? "a variable"
                                        : "a slot";
        operands[i * k + j] = listRegion(env, h, o, i * k + j, elems[i], K, what);
      }
    }
    optimizerStep(static_cast<int32_t>(kind), operands, elems, static_cast<const double *>(p));
    return undefinedValue(env);
  });
}

// ---- Inference plans (plan.h): created once, run in one call each, freed by freeInferencePlan
// or, failing that, by the garbage collector's finalizer.

// The plan behind an external: null once freed. Type-tagged, so another addon's external (or a
// forged object) is refused instead of dereferenced.
struct PlanHolder {
  PlanPtr plan;
};
const napi_type_tag kPlanTag = {0x6a1f3c2d9e8b4f01ULL, 0x9d0c7b5e3a214c88ULL};

void finalizePlan(napi_env, void *data, void *) { delete static_cast<PlanHolder *>(data); }

PlanHolder &holderOf(napi_env env, napi_value v, const char *kernel) {
  napi_valuetype t;
  check(env, napi_typeof(env, v, &t), "typeof");
  bool tagged = false;
  if (t == napi_external) check(env, napi_check_object_type_tag(env, v, &kPlanTag, &tagged), "tag");
  if (!tagged)
    throw JsError(std::string(kernel) + ": plan must be a handle from createInferencePlan");
  void *data;
  check(env, napi_get_value_external(env, v, &data), "get_value_external");
  return *static_cast<PlanHolder *>(data);
}

InferencePlan &livePlan(napi_env env, napi_value v, const char *kernel) {
  PlanHolder &h = holderOf(env, v, kernel);
  if (!h.plan) throw JsError(std::string(kernel) + ": the plan was freed (freeInferencePlan)");
  return *h.plan;
}

// createInferencePlan(inputShape Float64Array [n, h, w, c], records Float64Array (24 fields an
// op, plan.h), weights Array of Float32Arrays) → plan handle. The weights are copied.
napi_value CreateInferencePlan(napi_env env, napi_callback_info info) {
  const char *K = "native createInferencePlan";
  return guarded(env, K, [&] {
    Args a = args(env, info, 3, K);
    auto [sd, sn] = typedArrayOf(env, a.v[0], napi_float64_array, K,
                                 "inputShape must be a Float64Array [n, h, w, c]");
    if (sn != 4) throw JsError(std::string(K) + ": inputShape must have 4 entries [n, h, w, c]");
    int64_t shape[4];
    for (int i = 0; i < 4; i++)
      shape[i] = wholeOf(static_cast<const double *>(sd)[i], K, "an inputShape entry");
    auto [rd, rn] =
        typedArrayOf(env, a.v[1], napi_float64_array, K, "records must be a Float64Array");
    if (rn % kPlanFields != 0) {
      throw JsError(std::string(K) + ": records has " + std::to_string(rn) +
                    " numbers, not a multiple of " + std::to_string(kPlanFields));
    }
    bool isArray = false;
    check(env, napi_is_array(env, a.v[2], &isArray), "is_array");
    if (!isArray) throw JsError(std::string(K) + ": weights must be an Array of Float32Arrays");
    uint32_t wn;
    check(env, napi_get_array_length(env, a.v[2], &wn), "get_array_length");
    std::vector<PlanWeight> weights;
    for (uint32_t i = 0; i < wn; i++) {
      napi_value e;
      check(env, napi_get_element(env, a.v[2], i, &e), "get_element");
      const std::string what = "weights[" + std::to_string(i) + "] must be a Float32Array";
      auto [wd, wl] = typedArrayOf(env, e, napi_float32_array, K, what.c_str());
      weights.push_back({static_cast<const float *>(wd), static_cast<int64_t>(wl)});
    }
    auto holder = std::make_unique<PlanHolder>();
    holder->plan =
        buildInferencePlan(shape, static_cast<const double *>(rd), rn / kPlanFields, weights);
    napi_value out;
    check(env, napi_create_external(env, holder.get(), finalizePlan, nullptr, &out),
          "create_external");
    holder.release();  // the finalizer owns it now
    check(env, napi_type_tag_object(env, out, &kPlanTag), "type_tag_object");
    return out;
  });
}

// runInferencePlan(plan, x Float32Array, y Float32Array): y = the net's output for x.
napi_value RunInferencePlan(napi_env env, napi_callback_info info) {
  const char *K = "native runInferencePlan";
  return guarded(env, K, [&] {
    Args a = args(env, info, 3, K);
    InferencePlan &p = livePlan(env, a.v[0], K);
    const Heap none{nullptr, 0};
    const float *x = operandRegion(env, none, a.v[1], planInputElems(p), K, "x");
    float *y = operandRegion(env, none, a.v[2], planOutputElems(p), K, "y");
    runInferencePlan(p, x, y);
    return undefinedValue(env);
  });
}

// inferencePlanInfo(plan) → {outputShape: [n, h, w, c], bytes, steps: one line per step}.
napi_value InferencePlanInfo(napi_env env, napi_callback_info info) {
  const char *K = "native inferencePlanInfo";
  return guarded(env, K, [&] {
    Args a = args(env, info, 1, K);
    const InferencePlan &p = livePlan(env, a.v[0], K);
    napi_value o, shape;
    check(env, napi_create_object(env, &o), "create_object");
    check(env, napi_create_array(env, &shape), "create_array");
    const auto dims = planOutputShape(p);
    for (uint32_t i = 0; i < dims.size(); i++)
      check(env, napi_set_element(env, shape, i, numberValue(env, double(dims[i]))), "set_element");
    check(env, napi_set_named_property(env, o, "outputShape", shape), "set_named_property");
    check(env, napi_set_named_property(env, o, "bytes", numberValue(env, double(planBytes(p)))),
          "set_named_property");
    check(env, napi_set_named_property(env, o, "steps", stringValue(env, planDescription(p))),
          "set_named_property");
    return o;
  });
}

// freeInferencePlan(plan): frees its buffers now (idempotent; the finalizer frees the rest).
napi_value FreeInferencePlan(napi_env env, napi_callback_info info) {
  const char *K = "native freeInferencePlan";
  return guarded(env, K, [&] {
    Args a = args(env, info, 1, K);
    holderOf(env, a.v[0], K).plan.reset();
    return undefinedValue(env);
  });
}

napi_value ClearCache(napi_env env, napi_callback_info) {
  return guarded(env, "native clearCache", [&] {
    clearCaches();
    return undefinedValue(env);
  });
}

// convImplInfo(geom, pass): the implementation oneDNN picked, e.g. "jit:avx512_core".
napi_value ConvImplInfo(napi_env env, napi_callback_info info) {
  const char *K = "native convImplInfo";
  return guarded(env, K, [&] {
    Args a = args(env, info, 2, K);
    auto g = checkedGeom<ConvGeom>(env, a.v[0], K, convGeomProblem);
    char pass[32];
    size_t len;
    check(env, napi_get_value_string_utf8(env, a.v[1], pass, sizeof pass, &len), "pass string");
    return stringValue(env, convImplInfo(g, pass));
  });
}

napi_value Version(napi_env env, napi_callback_info) {
  return guarded(env, "native oneDnnVersion", [&] {
    const dnnl_version_t *v = dnnl_version();
    return stringValue(env, std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                                std::to_string(v->patch));
  });
}

napi_property_descriptor method(const char *name, napi_callback fn) {
  return {name, nullptr, fn, nullptr, nullptr, nullptr, napi_default, nullptr};
}

napi_value Init(napi_env env, napi_value exports) {
  // The composition kernels build D_diag's identity pattern when given none (compose.h): what the
  // JS side checks, as a checkout's older build needs the tensor.
  napi_value identityDiag = nullptr;
  napi_get_boolean(env, true, &identityDiag);
  napi_property_descriptor props[] = {
      {"composeIdentityDiag", nullptr, nullptr, nullptr, nullptr, identityDiag, napi_enumerable,
       nullptr},
      method("convForward", ConvForward),
      method("convBackwardData", ConvBackwardData),
      method("convBackwardWeights", ConvBackwardWeights),
      method("matMul", MatMul),
      method("compose", Compose),
      method("composeGrad", ComposeGrad),
      method("composedConvForward", ComposedConvForward),
      method("composedConvBackwardData", ComposedConvBackwardData),
      method("composedConvBackwardWeights", ComposedConvBackwardWeights),
      method("optimizerStep", OptimizerStep),
      method("concat", Concat),
      method("reluGrad", ReluGrad),
      method("addRelu", AddRelu),
      method("clip", Clip),
      method("clipGrad", ClipGrad),
      method("batchNormGradSums", BatchNormGradSums),
      method("batchNormStats", BatchNormStats),
      method("boxCopy", BoxCopy),
      method("maxPool", MaxPool),
      method("maxPoolGrad", MaxPoolGrad),
      method("batchNormTrainGradInput", BatchNormTrainGradInput),
      method("split", Split),
      method("binary", Binary),
      method("unary", Unary),
      method("reduceRows", ReduceRows),
      method("tile", Tile),
      method("maxRows", MaxRows),
      method("softmaxCrossEntropy", SoftmaxCrossEntropy),
      method("softmax", Softmax),
      method("softmaxCrossEntropyGrad", SoftmaxCrossEntropyGrad),
      method("resizeBilinear", ResizeBilinear),
      method("resizeBilinearGrad", ResizeBilinearGrad),
      method("batchNorm", BatchNorm),
      method("batchNormRelu", BatchNormRelu),
      method("batchNormReluGradSums", BatchNormReluGradSums),
      method("batchNormReluGradInput", BatchNormReluGradInput),
      method("setThreads", SetThreads),
      method("getThreads", GetThreads),
      method("setParallelMin", SetParallelMin),
      method("getParallelMin", GetParallelMin),
      method("stats", Stats),
      method("clearCache", ClearCache),
      method("convImplInfo", ConvImplInfo),
      method("oneDnnVersion", Version),
      method("createInferencePlan", CreateInferencePlan),
      method("runInferencePlan", RunInferencePlan),
      method("inferencePlanInfo", InferencePlanInfo),
      method("freeInferencePlan", FreeInferencePlan),
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) {
    napi_throw_error(env, nullptr, "doconv native: could not define the addon's functions");
    return nullptr;
  }
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
