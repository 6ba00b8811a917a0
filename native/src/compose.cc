// Plain loops, one thread: a composition is at most ~10⁶ multiply-adds (ResNet-20: C, F ≤ 64,
// M·N = dMul = 9), less than waking a thread team costs. Each output row is built in blocks of
// filters held in registers across the whole sum (acc[] below), so a row is loaded and stored
// once instead of once per term (blocks of 16, 8, 4, 1 filters), three rows that share their
// terms' rows at a time: that keeps these two kernels a small share of a small net's step
// (results/README.md#engine-notes). Every sum runs in index order, as a plain loop's would (the
// same bits however the rows are blocked).
#include "compose.h"

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "common.h"

namespace doconv {

namespace {

// D̂ = D + D_diag [M·N, dMul, C] for one call, in a per-thread buffer kept between calls: the sums
// then read one array. With no D_diag tensor (diag == nullptr) D_diag is the identity pattern
// src/algebra/diagIdentity.ts builds: 1 where s < ⌊dMul / M·N⌋·M·N and s mod M·N = m, else 0 —
// each element is D + 1 or D + 0 as with the tensor, so the same bits. (Testing s mod M·N per term
// inside the sums cost an integer division each: composition 2–3× slower.)
const float *dHatOf(const ComposeGeom &g, const float *d, const float *diag) {
  thread_local std::vector<float> scratch;
  const int64_t n = composeDElems(g);
  scratch.resize(static_cast<size_t>(n));
  float *out = scratch.data();
  if (diag != nullptr) {
    for (int64_t i = 0; i < n; i++) out[i] = d[i] + diag[i];
    return out;
  }
  for (int64_t i = 0; i < n; i++) out[i] = d[i] + 0.f;
  const int64_t A = g.area, S = g.dMul, C = g.channels;
  const int64_t tiled = A == 0 ? 0 : S / A * A;
  for (int64_t m = 0; m < A; m++) {
    for (int64_t s = m; s < tiled; s += A) {
      const int64_t row = (m * S + s) * C;
      for (int64_t c = 0; c < C; c++) out[row + c] = d[row + c] + 1.f;
    }
  }
  return out;
}

// Eight floats as one value (GCC/Clang vector extension): an AVX register, or two SSE ones.
typedef float Vec8 __attribute__((vector_size(32)));

inline Vec8 load8(const float *p) {
  Vec8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// out_r[o] = Σ_t coef(r, t) · rows[t·rowStride + o] for r < R — R sums over the same rows, each
// with its own coefficients — for whole blocks of L filters from o0 on; returns where they end.
// The R·⌈L/8⌉ accumulators stay in registers across the sums, each summed in t order: R
// independent sums hide the add's latency, which one row's sum of 9 terms waited on at every term
// (a composition 2× slower). L is a multiple of 8, or below 8.
template <int64_t R, int64_t L, typename Coef>
int64_t rowSumBlocks(int64_t o0, int64_t F, int64_t terms, Coef coef, const float *rows,
                     int64_t rowStride, float *const *out) {
  if constexpr (L % 8 == 0) {
    constexpr int64_t V = L / 8;
    for (; o0 + L <= F; o0 += L) {
      Vec8 acc[R][V] = {};
      for (int64_t t = 0; t < terms; t++) {
        const float *row = rows + t * rowStride + o0;
        Vec8 x[V];
        for (int64_t v = 0; v < V; v++) x[v] = load8(row + 8 * v);
        for (int64_t r = 0; r < R; r++) {
          const float c = coef(r, t);
          for (int64_t v = 0; v < V; v++) acc[r][v] += c * x[v];
        }
      }
      for (int64_t r = 0; r < R; r++) std::memcpy(out[r] + o0, acc[r], sizeof acc[r]);
    }
  } else {
    for (; o0 + L <= F; o0 += L) {
      float acc[R][L] = {};
      for (int64_t t = 0; t < terms; t++) {
        const float *row = rows + t * rowStride + o0;
        for (int64_t r = 0; r < R; r++) {
          const float c = coef(r, t);
          for (int64_t l = 0; l < L; l++) acc[r][l] += c * row[l];
        }
      }
      for (int64_t r = 0; r < R; r++) std::copy(acc[r], acc[r] + L, out[r] + o0);
    }
  }
  return o0;
}

// out_r[o] = Σ_t coef(r, t) · rows[t·rowStride + o] for r < R, o < F, t < terms, summed in t
// order: blocks of 16, 8 and 4 filters (so small F, e.g. the MNIST net's 8, vectorises too), then
// single filters.
template <int64_t R, typename Coef>
void weightedRowSums(int64_t terms, Coef coef, const float *rows, int64_t rowStride, int64_t F,
                     float *const *out) {
  int64_t o0 = rowSumBlocks<R, 16>(0, F, terms, coef, rows, rowStride, out);
  o0 = rowSumBlocks<R, 8>(o0, F, terms, coef, rows, rowStride, out);
  o0 = rowSumBlocks<R, 4>(o0, F, terms, coef, rows, rowStride, out);
  rowSumBlocks<R, 1>(o0, F, terms, coef, rows, rowStride, out);
}

// sums(i0, R) for the n outputs i in blocks of R = 3 from i0 = 0, then one by one: R is a
// std::integral_constant, so each block's sums are compiled for its size.
template <typename Sums>
void inBlocksOfThree(int64_t n, Sums sums) {
  int64_t i0 = 0;
  for (; i0 + 3 <= n; i0 += 3) sums(i0, std::integral_constant<int64_t, 3>{});
  for (; i0 < n; i0++) sums(i0, std::integral_constant<int64_t, 1>{});
}

// out[c] = Σ_t a[t·aStride + c] · b[t·bStride + c] for c < C, each summed in t order from 0 as
// the row sums above are (the same bits): channels side by side, eight to a register.
void channelwiseSums(int64_t terms, const float *a, int64_t aStride, const float *b,
                     int64_t bStride, int64_t C, float *out) {
  int64_t c = 0;
  for (; c + 8 <= C; c += 8) {
    Vec8 acc = {};
    for (int64_t t = 0; t < terms; t++)
      acc += load8(a + t * aStride + c) * load8(b + t * bStride + c);
    std::memcpy(out + c, &acc, sizeof acc);
  }
  for (; c < C; c++) {
    float acc = 0.f;
    for (int64_t t = 0; t < terms; t++) acc += a[t * aStride + c] * b[t * bStride + c];
    out[c] = acc;
  }
}

// Depthwise with multiplier 1 (DO-DConv on the MobileNets: C groups of one channel and one
// filter). The general loops would run C sums of one filter each, reading D̂ at stride C (at 960
// channels: composition 69 µs against 26–32 here, its gradient 177 against 39–51); here every sum
// runs along the channels, where D̂, W, K, dK and dD are all contiguous.
bool oneChannelOneFilterGroups(const ComposeGeom &g) {
  return g.groups == g.channels && g.filters == g.channels;
}

}  // namespace

std::string composeGeomProblem(const ComposeGeom &g) {
  // Sizes may be 0: empty sums give zeros, as TF.js's ops compute them.
  if (g.area < 0 || g.dMul < 0 || g.channels < 0 || g.filters < 0) {
    return "area, dMul, channels and filters must be ≥ 0";
  }
  if (g.groups < 1 || g.channels % g.groups != 0 || g.filters % g.groups != 0) {
    return "groups must be ≥ 1 and divide channels and filters";
  }
  if (composeDElems(g) < 0 || composeWElems(g) < 0 || composeKElems(g) < 0) {
    return "a tensor has more than 2^48 elements";
  }
  return "";
}

int64_t composeDElems(const ComposeGeom &g) { return elemsOf({g.area, g.dMul, g.channels}); }
int64_t composeWElems(const ComposeGeom &g) {
  return elemsOf({g.dMul, g.channels / g.groups, g.filters});
}
int64_t composeKElems(const ComposeGeom &g) {
  return elemsOf({g.area, g.channels / g.groups, g.filters});
}

// Rows of W and K hold all F filters; channel j of group q sees only the group's F/g of them, at
// q·F/g: each (j, q) pair is a groups = 1 composition of F/g filters inside the wider rows.
void compose(const ComposeGeom &g, const float *d, const float *diag, const float *w, float *k) {
  const int64_t C = g.channels, F = g.filters, S = g.dMul, G = g.groups;
  const int64_t Cg = C / G, Fg = F / G;
  const float *dh = dHatOf(g, d, diag);
  if (oneChannelOneFilterGroups(g)) {
    // K[m, 0, c] = Σ_s D̂[m, s, c] · W[s, 0, c]
    for (int64_t m = 0; m < g.area; m++) channelwiseSums(S, dh + m * S * C, C, w, C, C, k + m * C);
    return;
  }
  for (int64_t j = 0; j < Cg; j++) {
    for (int64_t q = 0; q < G; q++) {
      // K[m, j, q's filters] = Σ_s D̂[m, s, c] · W[s, j, q's filters],  c = q·Cg + j, for the
      // taps m0 … m0 + R − 1 at once (they share W's rows)
      const int64_t c = q * Cg + j;
      inBlocksOfThree(g.area, [&](int64_t m0, auto size) {
        constexpr int64_t R = decltype(size)::value;
        float *out[R];
        for (int64_t r = 0; r < R; r++) out[r] = k + ((m0 + r) * Cg + j) * F + q * Fg;
        const auto coef = [&](int64_t r, int64_t s) { return dh[((m0 + r) * S + s) * C + c]; };
        weightedRowSums<R>(S, coef, w + j * F + q * Fg, Cg * F, Fg, out);
      });
    }
  }
}

void composeGrad(const ComposeGeom &g, const float *dk, const float *d, const float *diag,
                 const float *w, float *dd, float *dw) {
  const int64_t C = g.channels, F = g.filters, S = g.dMul, A = g.area, G = g.groups;
  const int64_t Cg = C / G, Fg = F / G;
  const float *dh = dHatOf(g, d, diag);
  if (oneChannelOneFilterGroups(g)) {
    // dW[s, 0, c] = Σ_m D̂[m, s, c] · dK[m, 0, c];  dD[m, s, c] = dK[m, 0, c] · W[s, 0, c]
    for (int64_t s = 0; s < S; s++) channelwiseSums(A, dh + s * C, S * C, dk, C, C, dw + s * C);
    for (int64_t m = 0; m < A; m++) {
      for (int64_t s = 0; s < S; s++) {
        channelwiseSums(1, dk + m * C, 0, w + s * C, 0, C, dd + (m * S + s) * C);
      }
    }
    return;
  }
  for (int64_t j = 0; j < Cg; j++) {
    for (int64_t q = 0; q < G; q++) {
      // dW[s, j, q's filters] = Σ_m D̂[m, s, c] · dK[m, j, q's filters], for s0 … s0 + R − 1 at
      // once (they share dK's rows)
      const int64_t c = q * Cg + j;
      inBlocksOfThree(S, [&](int64_t s0, auto size) {
        constexpr int64_t R = decltype(size)::value;
        float *out[R];
        for (int64_t r = 0; r < R; r++) out[r] = dw + ((s0 + r) * Cg + j) * F + q * Fg;
        const auto coef = [&](int64_t r, int64_t m) { return dh[(m * S + s0 + r) * C + c]; };
        weightedRowSums<R>(A, coef, dk + j * F + q * Fg, Cg * F, Fg, out);
      });
    }
  }
  // dD[m, :, c] = Σ_o dK[m, j, o] · W[:, j, o] over c's group's filters: a row sum over those
  // filters of W[:, j, q's filters] transposed, its rows padded with zeros to whole blocks of 8,
  // so it vectorises however few filters there are (dot products over o would not: the MNIST
  // net's second layer has 8); three taps m at once, as above.
  const int64_t Sp = (S + 7) / 8 * 8;
  std::vector<float> wt(Fg * Sp, 0.f), rows(3 * Sp);
  for (int64_t j = 0; j < Cg; j++) {
    for (int64_t q = 0; q < G; q++) {
      const int64_t c = q * Cg + j;
      for (int64_t s = 0; s < S; s++) {
        for (int64_t o = 0; o < Fg; o++) wt[o * Sp + s] = w[(s * Cg + j) * F + q * Fg + o];
      }
      inBlocksOfThree(A, [&](int64_t m0, auto size) {
        constexpr int64_t R = decltype(size)::value;
        float *out[R];
        for (int64_t r = 0; r < R; r++) out[r] = rows.data() + r * Sp;
        const auto coef = [&](int64_t r, int64_t o) {
          return dk[((m0 + r) * Cg + j) * F + q * Fg + o];
        };
        weightedRowSums<R>(Fg, coef, wt.data(), Sp, Sp, out);
        for (int64_t r = 0; r < R; r++) {
          for (int64_t s = 0; s < S; s++) dd[((m0 + r) * S + s) * C + c] = out[r][s];
        }
      });
    }
  }
}

std::string composedConvGeomProblem(const ComposedConvGeom &g) {
  std::string p = convGeomProblem(g.conv);
  if (!p.empty()) return "conv: " + p;
  p = composeGeomProblem(g.compose);
  if (!p.empty()) return "composition: " + p;
  const ConvGeom &c = g.conv;
  const ComposeGeom &k = g.compose;
  if (c.groups != 1 || k.groups != 1 || int64_t(c.kh) * c.kw != k.area || c.ci != k.channels ||
      c.co != k.filters) {
    return "the conv's filter [" + std::to_string(c.kh) + ", " + std::to_string(c.kw) + ", " +
           std::to_string(c.ci) + ", " + std::to_string(c.co) + "] (groups " +
           std::to_string(c.groups) + ") is not the composed kernel [M·N " +
           std::to_string(k.area) + ", C " + std::to_string(k.channels) + ", F " +
           std::to_string(k.filters) + "] (groups " + std::to_string(k.groups) + ")";
  }
  return "";
}

namespace {

// K or dK for one call on this thread; kept between calls so a step allocates nothing.
float *scratchKernel(const ComposeGeom &g) {
  thread_local std::vector<float> scratch;
  scratch.resize(static_cast<size_t>(composeKElems(g)));
  return scratch.data();
}

}  // namespace

void composedConvForward(const ComposedConvGeom &g, const float *x, const float *d,
                         const float *diag, const float *w, const float *bias, float *y,
                         float alpha) {
  float *k = scratchKernel(g.compose);
  compose(g.compose, d, diag, w, k);
  convForward(g.conv, x, k, bias, y, alpha);
}

void composedConvBackwardData(const ComposedConvGeom &g, const float *dy, const float *d,
                              const float *diag, const float *w, float *dx) {
  float *k = scratchKernel(g.compose);
  compose(g.compose, d, diag, w, k);
  convBackwardData(g.conv, dy, k, dx);
}

void composedConvBackwardWeights(const ComposedConvGeom &g, const float *x, const float *dy,
                                 const float *d, const float *diag, const float *w, float *dd,
                                 float *dw) {
  float *dk = scratchKernel(g.compose);
  convBackwardWeights(g.conv, x, dy, dk);
  composeGrad(g.compose, dk, d, diag, w, dd, dw);
}

}  // namespace doconv
