// Internal to the inference plan's files (planBuild.cc: records to steps; planConv.cc: convs and
// their batch-1 splits; planRun.cc: running and describing a plan); plan.h is the interface.
#pragma once

#include <omp.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "common.h"
#include "plan.h"

namespace doconv {

struct Shape {
  int64_t n = 0, h = 0, w = 0, c = 0;
  int64_t elems() const { return n * h * w * c; }
  bool operator==(const Shape &o) const { return n == o.n && h == o.h && w == o.w && c == o.c; }
  std::string str() const {
    return "[" + std::to_string(n) + ", " + std::to_string(h) + ", " + std::to_string(w) + ", " +
           std::to_string(c) + "]";
  }
};

const char *opName(int64_t code);
// A record's number as JS would print it (99, 2.5, NaN).
std::string numberText(double v);
float activated(int32_t act, float v, float alpha, float beta);
dnnl::post_ops actPostOps(int32_t act, float alpha, float beta, bool withSum);
memory::desc nhwcDesc(const Shape &s);
// Channels per block of oneDNN's blocked activation layout for this CPU: 16 with AVX-512 (nChw16c),
// else 8 (nChw8c); 0 when DOCONV_PLAN_LAYOUT=nhwc keeps every tensor NHWC.
int64_t channelBlock();
// A tensor's layout: NHWC, or blocked [n][c / blk][h][w][blk] (channels a multiple of blk).
memory::desc layoutDesc(const Shape &s, int64_t blk);

// One record, read field by field; a bad field is an error naming the op and the field.
struct Record {
  const double *f;
  size_t index;

  [[noreturn]] void fail(const std::string &what) const {
    throw std::runtime_error("op " + std::to_string(index) + " (" + opName(code()) + "): " + what);
  }
  int64_t code() const {
    const double v = f[kFCode];
    return v == std::floor(v) && std::abs(v) < 1e9 ? static_cast<int64_t>(v) : -1;
  }
  int64_t whole(int field, const char *name, int64_t min, int64_t max = int64_t(1) << 30) const {
    const double v = f[field];
    if (!(v >= static_cast<double>(min) && v <= static_cast<double>(max) && v == std::floor(v))) {
      fail(std::string(name) + " is " + numberText(v) + ", want a whole number " +
           std::to_string(min) + ".." + std::to_string(max));
    }
    return static_cast<int64_t>(v);
  }
  float number(int field, const char *name) const {
    const double v = f[field];
    if (!std::isfinite(v)) fail(std::string(name) + " is not a finite number");
    return static_cast<float>(v);
  }
};

// `body(i)` for i in [0, count), on `threads` OpenMP threads when there are more than one.
template <typename F>
void parallelFor(int64_t count, int threads, F body) {
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (int64_t i = 0; i < count; i++) body(i);
}

// One step of a plan: a primitive with its arguments bound to the plan's buffers, or a loop.
struct PlanStep {
  struct Binding {
    int arg;
    int tensor;
    memory::desc desc;
    int64_t offset = 0;  // floats into the tensor (where a half's part of it starts)
  };
  // A conv's half in a split plan (Split): its top or bottom output rows, or its first or last
  // output channel blocks, run by one thread each.
  struct Half {
    dnnl::primitive prim;
    std::vector<Binding> bindings;
    std::unordered_map<int, memory> args;
    std::vector<std::pair<int, int64_t>> inputArgs;  // (arg, offset) bound to the run's input
    int64_t outOffset = 0, outElems = 0;  // its part of the output (for the residual's copy)
  };
  std::string what;
  int threads = 1;
  // A primitive step:
  dnnl::primitive prim;
  std::vector<Binding> bindings;
  std::unordered_map<int, memory> args;
  std::vector<int> inputArgs;  // args bound to the run's input (its address changes per run)
  int sumFrom = -1, sumInto = -1;
  std::vector<Half> halves;  // a split plan's conv: its two halves, run instead of prim
  // A loop step (instead of prim), or work before the primitive (the strided 1×1 gather):
  std::function<void(const InferencePlan &)> loop;
  std::vector<std::unique_ptr<Buffer>> held;  // reordered filters, bias, gather buffer
  // Wall time over every run (for planDescription: where a net's time goes).
  double seconds = 0;
  int64_t runs = 0;
};

class SplitHelper;

constexpr int kWayWindow = 8;  // run times kept for each way of running a batch-1 plan

// How a plan for batch 1 cuts each conv for two threads (PlanStep::halves).
enum class Split {
  kNone,
  // Output rows in two: every tensor NHWC (a range of rows is contiguous there).
  kRows,
  // Output channel blocks in two: blocked layouts kept (at batch 1 a range of blocks is
  // contiguous).
  kChannels,
};

class InferencePlan {
 public:
  InferencePlan();
  ~InferencePlan();            // in planRun.cc, where SplitHelper is whole
  std::vector<Shape> shapes;   // per tensor (0: the input)
  std::vector<int> slotOf;     // per tensor: its buffer, -1 the run's input
  std::vector<int64_t> block;  // per tensor: 0 NHWC, else its channel block (layoutDesc)
  std::vector<std::unique_ptr<Buffer>> slots;
  std::vector<PlanStep> steps;
  std::unique_ptr<Buffer> scratch, scratch2;  // scratch2: a split conv's second half's
  memory::desc scratchDesc;
  // Batch 1 on more than one thread: each conv split in two halves, one for each of two threads,
  // which meet at a spinning barrier after every step (one wake-up a run, not one an op).
  Split split = Split::kNone;
  // A batch-1 plan split by channels also holds the net split by rows (byRows), and runs one of
  // three ways: 0 every step on the calling thread, 1 its convs' channel halves on two threads,
  // 2 byRows's row halves on two threads. Which wins depends on the net (a conv of few channel
  // blocks runs its halves slowly; one of few rows too) and on the machine: beside a busy
  // process a helper preempted in the middle of a half holds the run up. So each way's last
  // kWayWindow run times are kept, timed in bursts of runs back to back (planRun.cc), the way
  // whose least time is lowest runs (the least: a few runs slowed by a passing process do not
  // condemn a way; a lasting load raises every time in the window), and every 64 runs a burst
  // re-times another. DOCONV_PLAN_BATCH1=one|channels|rows runs one way only.
  PlanPtr byRows;
  double wayTimes[3][kWayWindow] = {};  // seconds, a ring of each way's last timed runs
  int64_t wayTimed[3] = {0, 0, 0};      // runs timed so far, each way
  int64_t wayRuns = 0;
  int retimeWay = 0;
  int forcedWay = -1;
  // The second thread of a split plan, started on its first split run (last: it goes first).
  std::unique_ptr<SplitHelper> helper;
  const float *input = nullptr;
  int maxThreads = 1;
  // A batch split across threads (then shapes holds only the whole input and output, and steps
  // is empty): chunks of `chunk` examples, each thread with its own single-threaded plan for a
  // chunk (parts) and for the shorter last chunk (tails, when there is one).
  std::vector<PlanPtr> parts, tails;
  int64_t chunk = 0;
  // The stream of the engine the primitives were made on (the building thread's): a batch share
  // runs on an OpenMP worker, whose own engine the primitives would refuse.
  dnnl::stream stream;

  float *ptr(int t) const {
    const int s = slotOf[t];
    return s < 0 ? const_cast<float *>(input) : static_cast<float *>(slots[s]->data());
  }
};

// Makes a plan's steps from its records, one op at a time (planBuild.cc; convs in planConv.cc).
struct PlanBuilder {
  const std::vector<PlanWeight> &weights;
  InferencePlan &p;
  std::vector<int> root;  // per tensor: the tensor whose buffer it views

  const PlanWeight &weight(const Record &r, int field, const char *name, int64_t elems) const {
    const int64_t i = r.whole(field, name, 0, static_cast<int64_t>(weights.size()) - 1);
    if (weights[i].elems != elems) {
      r.fail(std::string(name) + " (weights[" + std::to_string(i) + "]) has " +
             std::to_string(weights[i].elems) + " elements, want " + std::to_string(elems));
    }
    return weights[i];
  }

  bool hasField(const Record &r, int field) const { return r.f[field] != -1; }

  int tensor(const Record &r, int field, const char *name, size_t defined) const {
    return static_cast<int>(r.whole(field, name, 0, static_cast<int64_t>(defined) - 1));
  }

  int threadsFor(double work, double min) const {
    return p.split == Split::kNone && work >= min ? p.maxThreads : 1;
  }

  // A copy of a weight the plan owns (the caller's arrays may go after build).
  static std::unique_ptr<Buffer> copyOf(const PlanWeight &w) {
    auto b = std::make_unique<Buffer>(static_cast<size_t>(w.elems) * sizeof(float));
    std::memcpy(b->data(), w.data, static_cast<size_t>(w.elems) * sizeof(float));
    return b;
  }

  // The weight reordered from `user` (its layout in the caller's array) to the primitive's `want`.
  static std::unique_ptr<Buffer> reordered(const PlanWeight &w, const memory::desc &user,
                                           const memory::desc &want) {
    return reorderedAt(w.data, user, want);
  }

  static std::unique_ptr<Buffer> reorderedAt(const float *data, const memory::desc &user,
                                             const memory::desc &want) {
    auto b = std::make_unique<Buffer>(want.get_size());
    auto &e = cpuEngine();
    memory from(user, e, const_cast<float *>(data)), to(want, e, b->data());
    dnnl::reorder(from, to).execute(cpuStream(), from, to);
    cpuStream().wait();
    return b;
  }

  void finishPrimitive(PlanStep &s, const dnnl::primitive_desc_base &pd) {
    if (pd.scratchpad_desc().get_size() > p.scratchDesc.get_size())
      p.scratchDesc = pd.scratchpad_desc();
    s.what += std::string(": ") + pd.impl_info_str();
  }

  Shape conv(const Record &r, PlanStep &s, size_t t);
  void splitChannels(PlanStep &s, const Record &r, size_t t, const Shape &src, const Shape &out,
                     const std::vector<int64_t> &g, int64_t groups, int64_t inBlk, int64_t outBlk,
                     bool ownSrc, bool srcNchw, bool hasBias, const dnnl::primitive_attr &attr,
                     const PlanWeight &filter, const memory::desc &wholeSrcD);
  void splitRows(PlanStep &s, const Record &r, size_t t, const Shape &src, const Shape &out,
                 const std::vector<int64_t> &g, const memory::desc &biasD,
                 const dnnl::primitive_attr &attr, const memory::desc &userW,
                 const memory::desc &wholeW, const PlanWeight &filter, bool gathered);
  Shape pool(const Record &r, PlanStep &s, size_t t);
  Shape dense(const Record &r, PlanStep &s, size_t t);
  Shape elementwise(const Record &r, PlanStep &s, size_t t, int64_t code);
  Shape globalAvgPool(const Record &r, PlanStep &s, size_t t);
  Shape pad(const Record &r, PlanStep &s, size_t t);
  Shape softmax(const Record &r, PlanStep &s, size_t t);
  Shape reshape(const Record &r, size_t t);
  Shape concat(const Record &r, PlanStep &s, size_t t);
  Shape op(const Record &r, PlanStep &s, size_t t);
  static std::vector<int> readsOf(const Record &r);
  void assignBuffers(const double *records, size_t count);
};

}  // namespace doconv
