#include "common.h"

#include <omp.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

namespace doconv {

std::atomic<int64_t> liveBytes{0};
std::atomic<int64_t> liveBuffers{0};
static thread_local int64_t entriesHere = 0;

dnnl::engine &cpuEngine() {
  static thread_local dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

dnnl::stream &cpuStream() {
  static thread_local dnnl::stream s(cpuEngine());
  return s;
}

Buffer::Buffer(size_t bytes) : bytes_(bytes) {
  if (bytes == 0) return;
  size_t rounded = (bytes + 63) / 64 * 64;
  ptr_ = std::aligned_alloc(64, rounded);
  if (ptr_ == nullptr) throw std::bad_alloc();
  liveBytes += static_cast<int64_t>(bytes_);
  liveBuffers += 1;
}

Buffer::~Buffer() {
  if (ptr_ == nullptr) return;
  std::free(ptr_);
  liveBytes -= static_cast<int64_t>(bytes_);
  liveBuffers -= 1;
}

std::string makeKey(const char *op, const int32_t *values, size_t n) {
  std::string key(op);
  key.push_back(':');
  key.append(reinterpret_cast<const char *>(values), n * sizeof(int32_t));
  int t = threadCount();
  key.append(reinterpret_cast<const char *>(&t), sizeof t);
  return key;
}

int64_t elemsOf(std::initializer_list<int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) return -1;
    if (d == 0) n = 0;
  }
  if (n == 0) return 0;
  for (int64_t d : dims) {
    if (d > kMaxElems / n) return -1;
    n *= d;
  }
  return n;
}

namespace {

// Does libgomp put a waiting thread to sleep at once? The addon loads it with
// OMP_WAIT_POLICY=passive unless the user set a policy (src/engine/native/nativeAddon.ts).
bool teamSleeps() {
  const char *policy = std::getenv("OMP_WAIT_POLICY");
  const char *spins = std::getenv("GOMP_SPINCOUNT");
  if (spins != nullptr) return std::strtoll(spins, nullptr, 10) < 1000;
  return policy != nullptr &&
         (std::strcmp(policy, "passive") == 0 || std::strcmp(policy, "PASSIVE") == 0);
}

// Measured on the 2-core VM (docs/engine.md#thread-count-by-work): with sleeping waits a parallel
// region costs ~150-250 µs more than the same op on one thread (the sleeping vCPU has to be woken),
// so one thread wins up to ~16 M multiply-adds and ~1 M elements; a spinning team answers in tens
// of µs and pays from ~4 M and ~32 K. Read when the addon loads, after nativeAddon.ts has set the
// policy (libgomp reads it then too).
const bool kTeamSleeps = teamSleeps();
std::atomic<int64_t> minElems{kTeamSleeps ? int64_t(1) << 20 : int64_t(1) << 15};
std::atomic<double> minMacs{kTeamSleeps ? double(1 << 24) : double(1 << 22)};

}  // namespace

int64_t parallelMinElems() { return minElems.load(std::memory_order_relaxed); }
double parallelMinMacs() { return minMacs.load(std::memory_order_relaxed); }
void setParallelMin(int64_t elems, double macs) {
  minElems = elems;
  minMacs = macs;
}

int threadCount() { return omp_get_max_threads(); }

// omp_set_num_threads sets the calling thread's ICV only: each Node worker thread sets its own.
void setThreadCount(int n) { omp_set_num_threads(n); }

ThreadLimit::ThreadLimit(int n) : saved_(threadCount()) {
  if (n < saved_) setThreadCount(n);
}
ThreadLimit::~ThreadLimit() {
  if (threadCount() != saved_) setThreadCount(saved_);
}

static std::vector<void (*)()> &clearers() {
  static std::vector<void (*)()> fns;
  return fns;
}
void registerCacheClear(void (*fn)()) { clearers().push_back(fn); }
void clearCaches() {
  for (auto fn : clearers()) fn();
}
int64_t cacheEntries() { return entriesHere; }

dnnl::primitive_attr userScratchpad() {
  dnnl::primitive_attr a;
  a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return a;
}

void Scratchpad::init(const memory::desc &d) {
  desc = d;
  buf = d.get_size() > 0 ? std::make_unique<Buffer>(d.get_size()) : nullptr;
}

memory Scratchpad::arg() const { return memory(desc, cpuEngine(), buf ? buf->data() : nullptr); }
void countEntry(int delta) { entriesHere += delta; }

}  // namespace doconv
