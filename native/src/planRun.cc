// Running an inference plan (planParts.h): step by step on the calling thread, split with a helper
// thread at batch 1, or batch chunks across threads; and its description.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

#include "planParts.h"

namespace doconv {

namespace {
// A batch-1 way's run time: the median of its last three (0 until it has three).
double wayTime(const InferencePlan &p, int way) {
  const double *t = p.wayTimes[way];
  const int n = static_cast<int>(std::min<int64_t>(p.wayTimed[way], kWayWindow));
  return n == 0 ? 0 : *std::min_element(t, t + n);
}
// The way whose least time is lowest (the first on a tie).
int fastestWay(const InferencePlan &p) {
  int way = 0;
  for (int w = 1; w < 3; w++)
    if (wayTime(p, w) < wayTime(p, way)) way = w;
  return way;
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
    d += "batch 1 on two threads, a run (the least of the last 8 timed; the fastest way runs, "
         "another is re-timed every 64 runs): on one thread " +
         us(0) + ", each conv's output channels split " + us(1) +
         ", each conv's rows split (NHWC) " + us(2) + "; the steps split by channels:\n";
  }
  for (const PlanStep &s : p.steps) {
    if (s.what.empty()) continue;
    d += s.what;
    if (s.runs > 0) d += ", " + std::to_string(int64_t(1e6 * s.seconds / double(s.runs))) + " µs";
    d += "\n";
  }
  return d;
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
    std::memcpy(p.ptr(s.sumInto) + half.outOffset, p.ptr(s.sumFrom) + half.outOffset,
                static_cast<size_t>(half.outElems) * sizeof(float));
  }
  half.prim.execute(stream, half.args);
  stream.wait();
}

}  // namespace

// The second thread of a split plan: a thread of its own, not OpenMP's team, so that a run
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

InferencePlan::InferencePlan() = default;
InferencePlan::~InferencePlan() = default;

namespace {

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
  // Ways are timed in bursts of kBurst runs, the first left out: a split way's helper thread
  // sleeps after 300 µs without a run, so the first run of a burst wakes it and pays for that,
  // as a caller's first run after a pause does; runs back to back find it awake.
  constexpr int64_t kBurst = 4, kRetimeEvery = 64;
  const int64_t n = p.wayRuns++;
  int way = p.forcedWay;
  bool timed = true;
  constexpr int64_t kExplore = 6 * kBurst;  // every way in turn, twice (the first: cold buffers)
  if (way < 0 && n < kExplore) {
    way = static_cast<int>(n / kBurst % 3);
    timed = n % kBurst != 0;
  } else if (way < 0) {
    const int64_t k = (n - kExplore) % kRetimeEvery;
    if (k == 0) {  // a burst of another way, the two others in turn
      const int best = fastestWay(p);
      p.retimeWay = (best + 1 + static_cast<int>((n - kExplore) / kRetimeEvery % 2)) % 3;
    }
    if (k < kBurst) {
      way = p.retimeWay;
      timed = k != 0;
    } else {
      way = fastestWay(p);
      // The first run back on the fastest way after another's burst wakes its helper too.
      timed = k != kBurst || way == p.retimeWay;
    }
  }
  const double begin = omp_get_wtime();
  if (way == 2)
    runSplit(*p.byRows, x, y);
  else if (way == 1)
    runSplit(p, x, y);
  else
    runSteps(p, x, y);
  if (!timed) return;
  p.wayTimes[way][p.wayTimed[way]++ % kWayWindow] = omp_get_wtime() - begin;
}

void PlanDeleter::operator()(InferencePlan *p) const { delete p; }

}  // namespace doconv
