// Per-channel sums over the rows of a [rows, channels] tensor, in double and deterministic for a
// thread count: BatchNorm's statistics and gradient sums (eltwise.cc) and the BatchNorm+ReLU ones
// (batchNormRelu.cc) share them, so a fused op sums in the order the unfused ones do.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "common.h"

namespace doconv {

// Channels summed at once: a local accumulator of this many doubles stays in registers; writing
// straight into a shared partials array was 4× slower on 16 channels and slower again on two
// threads (false sharing across the block boundary).
constexpr int64_t kChannelTile = 64;

// Partial sums of a reduction over rows: fixed blocks of rows (not "however many threads OpenMP
// gives": the same sums for a thread count, added in block order), each block holding `arrays`
// cache-line-aligned stretches of `width` doubles (no false sharing between blocks).
class BlockPartials {
 public:
  BlockPartials(int64_t rows, int64_t width, int arrays)
      : rows_(rows),
        blocks_(rows * width >= parallelMinElems() ? std::min<int64_t>(threadCount(), rows) : 1),
        stride_((width + 7) / 8 * 8),
        arrays_(arrays),
        storage_(blocks_ * arrays * stride_ + 8, 0.0) {
    base_ = reinterpret_cast<double *>((reinterpret_cast<uintptr_t>(storage_.data()) + 63) &
                                       ~uintptr_t(63));
  }
  int64_t blocks() const { return blocks_; }
  // Block blk covers rows [firstRow(blk), firstRow(blk + 1)).
  int64_t firstRow(int64_t blk) const { return rows_ * blk / blocks_; }
  double *at(int64_t blk, int array) { return base_ + (blk * arrays_ + array) * stride_; }
  double total(int array, int64_t j) const {
    double s = 0;
    for (int64_t blk = 0; blk < blocks_; blk++) s += base_[(blk * arrays_ + array) * stride_ + j];
    return s;
  }

 private:
  int64_t rows_, blocks_, stride_;
  int arrays_;
  std::vector<double> storage_;
  double *base_;
};

// Two per-channel sums over the rows of [rows, channels] in double, deterministic for a thread
// count: fixed blocks of rows, tiles of channels held in registers; `add(r, j0, w, a, b)` adds row
// r's channels j0 .. j0+w to a[] and b[]. Returns the totals through `out0`, `out1` (per channel).
template <typename Add>
inline void twoChannelSums(int64_t rows, int64_t channels, Add add, double *out0, double *out1) {
  BlockPartials p(rows, channels, 2);
#pragma omp parallel for schedule(static) if (p.blocks() > 1)
  for (int64_t blk = 0; blk < p.blocks(); blk++) {
    const int64_t r0 = p.firstRow(blk), r1 = p.firstRow(blk + 1);
    for (int64_t j0 = 0; j0 < channels; j0 += kChannelTile) {
      const int64_t w = std::min(kChannelTile, channels - j0);
      double a[kChannelTile] = {}, b[kChannelTile] = {};
      for (int64_t r = r0; r < r1; r++) add(r, j0, w, a, b);
      std::copy(a, a + w, p.at(blk, 0) + j0);
      std::copy(b, b + w, p.at(blk, 1) + j0);
    }
  }
  for (int64_t c = 0; c < channels; c++) {
    out0[c] = p.total(0, c);
    out1[c] = p.total(1, c);
  }
}

}  // namespace doconv
