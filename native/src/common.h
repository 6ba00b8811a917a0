// Shared pieces of the native engine: per-thread oneDNN engine/stream, a byte counter over every
// buffer the addon allocates (tests check it stays flat), and primitive-cache keys.
//
// Everything here is per calling thread (thread_local): Node worker threads each load the addon
// and become OpenMP masters of their own, so nothing is shared and no locks are needed.
#pragma once

#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>

#if !defined(DNNL_VERSION_MAJOR) || DNNL_VERSION_MAJOR != 2
#error \
    "doconv's native engine supports oneDNN 2.x (Debian/Ubuntu libdnnl-dev 2.x); oneDNN 3.x changed the C++ API"
#endif

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <unordered_map>

namespace doconv {

using dnnl::memory;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

dnnl::engine &cpuEngine();
dnnl::stream &cpuStream();

// Bytes currently held in Buffers, over all threads (atomic: workers allocate concurrently).
extern std::atomic<int64_t> liveBytes;
extern std::atomic<int64_t> liveBuffers;

// A 64-byte aligned scratch buffer owned by a cached primitive (blocked copies, scratchpads).
class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(size_t bytes);
  ~Buffer();
  Buffer(const Buffer &) = delete;
  Buffer &operator=(const Buffer &) = delete;
  void *data() const { return ptr_; }
  size_t size() const { return bytes_; }

 private:
  void *ptr_ = nullptr;
  size_t bytes_ = 0;
};

// A cache key: the op name and every integer the primitive depends on, plus the thread count
// (oneDNN's jit kernels fix their work split when the primitive is created).
std::string makeKey(const char *op, const int32_t *values, size_t n);

// Thread count oneDNN uses for primitives created / run on this thread.
int threadCount();
void setThreadCount(int n);

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

// Below this much work an op runs on the calling thread alone: waking OpenMP's team costs more
// than the second thread saves. Elements for element-wise loops (eltwise.cc, optimizer.cc),
// multiply-adds for convs and matmuls. Both depend on how the team waits (common.cc).
int64_t parallelMinElems();
double parallelMinMacs();
// Process-wide (tests force the parallel paths on small shapes; bench/ A/Bs the thresholds).
void setParallelMin(int64_t elems, double macs);

// The most elements one tensor may have (2^48 float32s is 1 PiB): geometry checks refuse larger
// counts, so every element count and byte size past them fits int64 without wrapping.
constexpr int64_t kMaxElems = int64_t(1) << 48;

// The product of non-negative dimensions, or -1 when a factor is negative or the product passes
// kMaxElems (checked step by step: int32 fields multiplied in int64 can wrap).
int64_t elemsOf(std::initializer_list<int64_t> dims);

// Runs a scope with at most `n` threads (restoring the count after): small ops lose more waking a
// team than they gain from it.
class ThreadLimit {
 public:
  explicit ThreadLimit(int n);
  ~ThreadLimit();
  ThreadLimit(const ThreadLimit &) = delete;
  ThreadLimit &operator=(const ThreadLimit &) = delete;

 private:
  int saved_;
};

// Cached primitives per thread; entries live until clearCaches() on that thread.
void registerCacheClear(void (*fn)());
void clearCaches();
int64_t cacheEntries();
void countEntry(int delta);

// A primitive attribute asking for a user scratchpad (the buffer is ours, counted in liveBytes).
dnnl::primitive_attr userScratchpad();

// A cached primitive's user-mode scratchpad: its descriptor and buffer (none when it needs none).
struct Scratchpad {
  memory::desc desc;
  std::unique_ptr<Buffer> buf;

  void init(const memory::desc &d);
  memory arg() const;  // the DNNL_ARG_SCRATCHPAD memory
};

// The per-thread primitive cache conv.cc and matmul.cc share: entries of type E by key (makeKey),
// made by `make()` on a miss and counted in cacheEntries(). Each entry type registers clear()
// once at load (`const bool registered = PrimitiveCache<E>::registerClear();`), so that
// clearCaches() empties it on the calling thread.
template <typename E>
class PrimitiveCache {
 public:
  template <typename Make>
  static E &get(const std::string &key, Make make) {
    auto &m = entries();
    auto it = m.find(key);
    if (it != m.end()) return *it->second;
    std::unique_ptr<E> e = make();
    countEntry(1);
    return *m.emplace(key, std::move(e)).first->second;
  }
  static void clear() {
    countEntry(-static_cast<int>(entries().size()));
    entries().clear();
  }
  static bool registerClear() {
    registerCacheClear(&clear);
    return true;
  }

 private:
  static std::unordered_map<std::string, std::unique_ptr<E>> &entries() {
    static thread_local std::unordered_map<std::string, std::unique_ptr<E>> m;
    return m;
  }
};

}  // namespace doconv
