/**
 * Independent float64 reference for DO-Conv by FEATURE composition (paper, eq. 3): each input patch
 * P[m, c] is first transformed by the depthwise D̂ (P'[s, c] = Σ_m D̂[m, s, c] P[m, c]), then
 * convolved with W (y[o] = Σ_j Σ_s P'[s, c(o, j)] W[s, j, o] + b[o]). Plain loops, no TF.js.
 * Gradients of L = Σ y·G come from the adjoint of each step.
 */
export interface DOConvProblem {
  x: Float64Array; // [B, H, W, C]
  xShape: [number, number, number, number];
  weight: Float64Array; // [dMul, C/g, F]
  d: Float64Array | null; // [M·N, dMul, C], null for 1×1
  bias: Float64Array | null; // [F]
  kernelSize: [number, number];
  dMul: number;
  filters: number;
  groups: number;
  strides: [number, number];
  dilation: [number, number];
  padding: 'same' | 'valid';
}

export interface DOConvReference {
  y: Float64Array;
  yShape: [number, number, number, number];
  /** Gradients of Σ y·G, present when G was given. */
  grads?: {
    x: Float64Array;
    weight: Float64Array;
    d: Float64Array | null;
    bias: Float64Array | null;
  };
}

/** D_diag written independently of src/: 1 where s < ⌊dMul/MN⌋·MN and s mod MN = m. */
export function referenceDiag(area: number, dMul: number, channels: number): Float64Array {
  const out = new Float64Array(area * dMul * channels);
  const whole = Math.floor(dMul / area) * area;
  for (let m = 0; m < area; m++)
    for (let s = 0; s < whole; s++)
      if (s % area === m) for (let c = 0; c < channels; c++) out[(m * dMul + s) * channels + c] = 1;
  return out;
}

function axisGeometry(size: number, k: number, s: number, d: number, padding: 'same' | 'valid') {
  const extent = (k - 1) * d + 1;
  if (padding === 'valid')
    return { out: Math.max(0, Math.ceil((size - extent + 1) / s)), before: 0 };
  const out = Math.ceil(size / s);
  const total = Math.max((out - 1) * s + extent - size, 0);
  return { out, before: Math.floor(total / 2) };
}

export function doConvReference(p: DOConvProblem, g?: Float64Array): DOConvReference {
  const [B, H, W, C] = p.xShape;
  const [M, N] = p.kernelSize;
  const area = M * N;
  const { dMul, filters: F, groups } = p;
  const cg = C / groups;
  const fg = F / groups;
  const rows = axisGeometry(H, M, p.strides[0], p.dilation[0], p.padding);
  const cols = axisGeometry(W, N, p.strides[1], p.dilation[1], p.padding);
  const diag = referenceDiag(area, dMul, C);
  const dHat = new Float64Array(area * dMul * C);
  for (let i = 0; i < dHat.length; i++)
    dHat[i] = (area > 1 ? (p.d as Float64Array)[i] : 0) + diag[i];
  const y = new Float64Array(B * rows.out * cols.out * F);
  const gx = new Float64Array(p.x.length);
  const gw = new Float64Array(p.weight.length);
  const gd = new Float64Array(dHat.length);
  const gb = new Float64Array(F);
  const patch = new Float64Array(area * C);
  const patchT = new Float64Array(dMul * C);
  const gPatchT = new Float64Array(dMul * C);
  const index = (b: number, h: number, w: number) =>
    h < 0 || h >= H || w < 0 || w >= W ? -1 : ((b * H + h) * W + w) * C;

  for (let b = 0; b < B; b++)
    for (let oh = 0; oh < rows.out; oh++)
      for (let ow = 0; ow < cols.out; ow++) {
        // P[m, c]
        for (let kh = 0; kh < M; kh++)
          for (let kw = 0; kw < N; kw++) {
            const at = index(
              b,
              oh * p.strides[0] - rows.before + kh * p.dilation[0],
              ow * p.strides[1] - cols.before + kw * p.dilation[1],
            );
            for (let c = 0; c < C; c++) patch[(kh * N + kw) * C + c] = at < 0 ? 0 : p.x[at + c];
          }
        // P'[s, c] = Σ_m D̂[m, s, c] P[m, c]
        patchT.fill(0);
        for (let m = 0; m < area; m++)
          for (let s = 0; s < dMul; s++)
            for (let c = 0; c < C; c++)
              patchT[s * C + c] += dHat[(m * dMul + s) * C + c] * patch[m * C + c];
        const out = ((b * rows.out + oh) * cols.out + ow) * F;
        for (let o = 0; o < F; o++) {
          const c0 = Math.floor(o / fg) * cg;
          let acc = p.bias ? p.bias[o] : 0;
          for (let j = 0; j < cg; j++)
            for (let s = 0; s < dMul; s++)
              acc += patchT[s * C + c0 + j] * p.weight[(s * cg + j) * F + o];
          y[out + o] = acc;
        }
        if (!g) continue;
        gPatchT.fill(0);
        for (let o = 0; o < F; o++) {
          const go = g[out + o];
          const c0 = Math.floor(o / fg) * cg;
          gb[o] += go;
          for (let j = 0; j < cg; j++)
            for (let s = 0; s < dMul; s++) {
              gw[(s * cg + j) * F + o] += patchT[s * C + c0 + j] * go;
              gPatchT[s * C + c0 + j] += p.weight[(s * cg + j) * F + o] * go;
            }
        }
        for (let kh = 0; kh < M; kh++)
          for (let kw = 0; kw < N; kw++) {
            const m = kh * N + kw;
            const at = index(
              b,
              oh * p.strides[0] - rows.before + kh * p.dilation[0],
              ow * p.strides[1] - cols.before + kw * p.dilation[1],
            );
            for (let s = 0; s < dMul; s++)
              for (let c = 0; c < C; c++) {
                const gt = gPatchT[s * C + c];
                gd[(m * dMul + s) * C + c] += patch[m * C + c] * gt;
                if (at >= 0) gx[at + c] += dHat[(m * dMul + s) * C + c] * gt;
              }
          }
      }
  const result: DOConvReference = { y, yShape: [B, rows.out, cols.out, F] };
  if (g) result.grads = { x: gx, weight: gw, d: area > 1 ? gd : null, bias: p.bias ? gb : null };
  return result;
}
