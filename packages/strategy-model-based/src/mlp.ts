import type { Rng } from '@naskit/core'
import type { SparseVector } from './encoding'

/** Settings of one small fully connected network and its training. */
export interface MlpSettings {
  /** Widths of the hidden layers (ReLU). */
  hidden: readonly number[]
  /** Full-batch Adam steps. */
  epochs: number
  learningRate: number
  /** L2 penalty on the weights (not the biases). */
  weightDecay: number
}

/**
 * A trained network: input → hidden layers (ReLU) → one output. The first layer reads sparse
 * inputs, so an input costs its non-zero entries only.
 */
export class Mlp {
  /** weights[l] is [inputs of layer l][outputs of layer l], row-major. */
  readonly weights: Float64Array[]
  readonly biases: Float64Array[]
  readonly widths: number[]

  constructor(
    readonly inputs: number,
    hidden: readonly number[],
    rng: Rng,
  ) {
    this.widths = [...hidden, 1]
    this.weights = []
    this.biases = []
    let fanIn = inputs
    for (const w of this.widths) {
      const W = new Float64Array(fanIn * w)
      // He-uniform for ReLU layers: the first layer's fan-in is the typical number of active inputs
      const limit = Math.sqrt(6 / Math.max(1, fanIn === inputs ? Math.min(fanIn, 16) : fanIn))
      for (let k = 0; k < W.length; k++) W[k] = (rng.next() * 2 - 1) * limit
      this.weights.push(W)
      this.biases.push(new Float64Array(w))
      fanIn = w
    }
  }

  /** The output for one sparse input. `scratch` holds one buffer per layer. */
  forward(x: SparseVector, scratch: Float64Array[]): number {
    const L = this.widths.length
    const w0 = this.widths[0] as number
    const a0 = scratch[0] as Float64Array
    a0.set(this.biases[0] as Float64Array)
    const W0 = this.weights[0] as Float64Array
    for (let k = 0; k < x.index.length; k++) {
      const row = (x.index[k] as number) * w0
      const v = x.value[k] as number
      for (let j = 0; j < w0; j++) a0[j] = (a0[j] as number) + v * (W0[row + j] as number)
    }
    if (L > 1) for (let j = 0; j < w0; j++) if ((a0[j] as number) < 0) a0[j] = 0
    for (let l = 1; l < L; l++) {
      const prev = scratch[l - 1] as Float64Array
      const cur = scratch[l] as Float64Array
      const W = this.weights[l] as Float64Array
      const width = this.widths[l] as number
      const fan = this.widths[l - 1] as number
      cur.set(this.biases[l] as Float64Array)
      for (let i = 0; i < fan; i++) {
        const h = prev[i] as number
        if (h === 0) continue
        const row = i * width
        for (let j = 0; j < width; j++) cur[j] = (cur[j] as number) + h * (W[row + j] as number)
      }
      if (l < L - 1) for (let j = 0; j < width; j++) if ((cur[j] as number) < 0) cur[j] = 0
    }
    return (scratch[L - 1] as Float64Array)[0] as number
  }

  /** Buffers for {@link forward}. */
  scratch(): Float64Array[] {
    return this.widths.map((w) => new Float64Array(w))
  }
}

/**
 * Trains one network on `(x, y)` by full-batch Adam on the mean squared error. Only the rows of
 * the first layer that some training input uses are updated (the others get no gradient).
 */
export function trainMlp(
  x: readonly SparseVector[],
  y: Float64Array,
  inputs: number,
  settings: MlpSettings,
  rng: Rng,
): Mlp {
  const net = new Mlp(inputs, settings.hidden, rng)
  const n = x.length
  if (n === 0) return net
  if (net.widths.length === 2) {
    trainShallow(net, x, y, settings)
    return net
  }
  const L = net.widths.length
  const widths = net.widths
  // activations per sample and layer (after ReLU for hidden layers)
  const acts: Float64Array[] = widths.map((w) => new Float64Array(n * w))
  const grads = net.weights.map((W) => new Float64Array(W.length))
  const gradB = net.biases.map((b) => new Float64Array(b.length))
  const m = net.weights.map((W) => new Float64Array(W.length))
  const v = net.weights.map((W) => new Float64Array(W.length))
  const mb = net.biases.map((b) => new Float64Array(b.length))
  const vb = net.biases.map((b) => new Float64Array(b.length))
  const delta: Float64Array[] = widths.map((w) => new Float64Array(w))
  const w0 = widths[0] as number

  // rows of the first layer used by the data
  const used = new Uint8Array(inputs)
  for (const s of x) for (let k = 0; k < s.index.length; k++) used[s.index[k] as number] = 1
  const rows: number[] = []
  for (let r = 0; r < inputs; r++) if (used[r] === 1) rows.push(r)

  const { learningRate: lr, weightDecay: wd, epochs } = settings
  const b1 = 0.9
  const b2 = 0.999
  const eps = 1e-8
  let b1t = 1
  let b2t = 1
  const scale = 2 / n

  for (let epoch = 0; epoch < epochs; epoch++) {
    // forward
    for (let i = 0; i < n; i++) {
      const s = x[i] as SparseVector
      const a0 = acts[0] as Float64Array
      const off0 = i * w0
      const B0 = net.biases[0] as Float64Array
      for (let j = 0; j < w0; j++) a0[off0 + j] = B0[j] as number
      const W0 = net.weights[0] as Float64Array
      for (let k = 0; k < s.index.length; k++) {
        const row = (s.index[k] as number) * w0
        const val = s.value[k] as number
        for (let j = 0; j < w0; j++)
          a0[off0 + j] = (a0[off0 + j] as number) + val * (W0[row + j] as number)
      }
      if (L > 1) for (let j = 0; j < w0; j++) if ((a0[off0 + j] as number) < 0) a0[off0 + j] = 0
      for (let l = 1; l < L; l++) {
        const fan = widths[l - 1] as number
        const width = widths[l] as number
        const prev = acts[l - 1] as Float64Array
        const cur = acts[l] as Float64Array
        const W = net.weights[l] as Float64Array
        const B = net.biases[l] as Float64Array
        const po = i * fan
        const co = i * width
        for (let j = 0; j < width; j++) cur[co + j] = B[j] as number
        for (let q = 0; q < fan; q++) {
          const h = prev[po + q] as number
          if (h === 0) continue
          const row = q * width
          for (let j = 0; j < width; j++)
            cur[co + j] = (cur[co + j] as number) + h * (W[row + j] as number)
        }
        if (l < L - 1)
          for (let j = 0; j < width; j++) if ((cur[co + j] as number) < 0) cur[co + j] = 0
      }
    }
    // backward
    for (const g of grads) g.fill(0)
    for (const g of gradB) g.fill(0)
    const out = acts[L - 1] as Float64Array
    for (let i = 0; i < n; i++) {
      // d loss / d output
      const top = delta[L - 1] as Float64Array
      top[0] = scale * ((out[i] as number) - (y[i] as number))
      for (let l = L - 1; l >= 1; l--) {
        const width = widths[l] as number
        const fan = widths[l - 1] as number
        const d = delta[l] as Float64Array
        const prev = acts[l - 1] as Float64Array
        const po = i * fan
        const G = grads[l] as Float64Array
        const GB = gradB[l] as Float64Array
        const W = net.weights[l] as Float64Array
        const pd = delta[l - 1] as Float64Array
        for (let j = 0; j < width; j++) GB[j] = (GB[j] as number) + (d[j] as number)
        for (let q = 0; q < fan; q++) {
          const h = prev[po + q] as number
          // ReLU: no gradient flows where the unit is off
          if (h <= 0) {
            pd[q] = 0
            continue
          }
          const row = q * width
          let back = 0
          for (let j = 0; j < width; j++) {
            const dj = d[j] as number
            G[row + j] = (G[row + j] as number) + h * dj
            back += (W[row + j] as number) * dj
          }
          pd[q] = back
        }
      }
      const d0 = delta[0] as Float64Array
      const s = x[i] as SparseVector
      const G0 = grads[0] as Float64Array
      const GB0 = gradB[0] as Float64Array
      for (let j = 0; j < w0; j++) GB0[j] = (GB0[j] as number) + (d0[j] as number)
      for (let k = 0; k < s.index.length; k++) {
        const row = (s.index[k] as number) * w0
        const val = s.value[k] as number
        for (let j = 0; j < w0; j++) G0[row + j] = (G0[row + j] as number) + val * (d0[j] as number)
      }
    }
    // Adam
    b1t *= b1
    b2t *= b2
    const lrc = lr / (1 - b1t)
    const c2 = 1 / (1 - b2t)
    for (let l = 0; l < L; l++) {
      const W = net.weights[l] as Float64Array
      const G = grads[l] as Float64Array
      const M = m[l] as Float64Array
      const V = v[l] as Float64Array
      const width = widths[l] as number
      if (l === 0) {
        for (const r of rows) {
          const end = (r + 1) * width
          for (let k = r * width; k < end; k++) {
            const g = (G[k] as number) + wd * (W[k] as number)
            const mk = b1 * (M[k] as number) + (1 - b1) * g
            const vk = b2 * (V[k] as number) + (1 - b2) * g * g
            M[k] = mk
            V[k] = vk
            W[k] = (W[k] as number) - (lrc * mk) / (Math.sqrt(vk * c2) + eps)
          }
        }
      } else {
        for (let k = 0; k < W.length; k++) {
          const g = (G[k] as number) + wd * (W[k] as number)
          const mk = b1 * (M[k] as number) + (1 - b1) * g
          const vk = b2 * (V[k] as number) + (1 - b2) * g * g
          M[k] = mk
          V[k] = vk
          W[k] = (W[k] as number) - (lrc * mk) / (Math.sqrt(vk * c2) + eps)
        }
      }
      const B = net.biases[l] as Float64Array
      const GB = gradB[l] as Float64Array
      const MB = mb[l] as Float64Array
      const VB = vb[l] as Float64Array
      for (let k = 0; k < B.length; k++) {
        const g = GB[k] as number
        const mk = b1 * (MB[k] as number) + (1 - b1) * g
        const vk = b2 * (VB[k] as number) + (1 - b2) * g * g
        MB[k] = mk
        VB[k] = vk
        B[k] = (B[k] as number) - (lrc * mk) / (Math.sqrt(vk * c2) + eps)
      }
    }
  }
  return net
}

/** {@link trainMlp} for one hidden layer: the same updates, without per-layer bookkeeping. */
function trainShallow(
  net: Mlp,
  x: readonly SparseVector[],
  y: Float64Array,
  settings: MlpSettings,
): void {
  const n = x.length
  const H = net.widths[0] as number
  const W1 = net.weights[0] as Float64Array
  const b1 = net.biases[0] as Float64Array
  const w2 = net.weights[1] as Float64Array
  const b2 = net.biases[1] as Float64Array
  const inputs = net.inputs
  const used = new Uint8Array(inputs)
  for (const s of x) for (let k = 0; k < s.index.length; k++) used[s.index[k] as number] = 1
  const rows: number[] = []
  for (let r = 0; r < inputs; r++) if (used[r] === 1) rows.push(r)
  const gW1 = new Float64Array(W1.length)
  const mW1 = new Float64Array(W1.length)
  const vW1 = new Float64Array(W1.length)
  const gb1 = new Float64Array(H)
  const mb1 = new Float64Array(H)
  const vb1 = new Float64Array(H)
  const gw2 = new Float64Array(H)
  const mw2 = new Float64Array(H)
  const vw2 = new Float64Array(H)
  let mb2 = 0
  let vb2 = 0
  const h = new Float64Array(H)
  const dh = new Float64Array(H)
  const { learningRate: lr, weightDecay: wd, epochs } = settings
  const beta1 = 0.9
  const beta2 = 0.999
  const eps = 1e-8
  let b1t = 1
  let b2t = 1
  const scale = 2 / n
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (const r of rows) gW1.fill(0, r * H, (r + 1) * H)
    gb1.fill(0)
    gw2.fill(0)
    let gb2 = 0
    for (let i = 0; i < n; i++) {
      const s = x[i] as SparseVector
      const idx = s.index
      const val = s.value
      const nnz = idx.length
      for (let j = 0; j < H; j++) h[j] = b1[j] as number
      for (let k = 0; k < nnz; k++) {
        const row = (idx[k] as number) * H
        const v = val[k] as number
        for (let j = 0; j < H; j++) h[j] = (h[j] as number) + v * (W1[row + j] as number)
      }
      let out = b2[0] as number
      for (let j = 0; j < H; j++) {
        const a = h[j] as number
        if (a > 0) out += (w2[j] as number) * a
      }
      const d = scale * (out - (y[i] as number))
      gb2 += d
      for (let j = 0; j < H; j++) {
        const a = h[j] as number
        if (a > 0) {
          gw2[j] = (gw2[j] as number) + d * a
          dh[j] = d * (w2[j] as number)
        } else dh[j] = 0
        gb1[j] = (gb1[j] as number) + (dh[j] as number)
      }
      for (let k = 0; k < nnz; k++) {
        const row = (idx[k] as number) * H
        const v = val[k] as number
        for (let j = 0; j < H; j++) gW1[row + j] = (gW1[row + j] as number) + v * (dh[j] as number)
      }
    }
    b1t *= beta1
    b2t *= beta2
    const lrc = lr / (1 - b1t)
    const c2 = 1 / (1 - b2t)
    for (const r of rows) {
      const end = (r + 1) * H
      for (let k = r * H; k < end; k++) {
        const g = (gW1[k] as number) + wd * (W1[k] as number)
        const mk = beta1 * (mW1[k] as number) + (1 - beta1) * g
        const vk = beta2 * (vW1[k] as number) + (1 - beta2) * g * g
        mW1[k] = mk
        vW1[k] = vk
        W1[k] = (W1[k] as number) - (lrc * mk) / (Math.sqrt(vk * c2) + eps)
      }
    }
    for (let j = 0; j < H; j++) {
      let g = gb1[j] as number
      let mk = beta1 * (mb1[j] as number) + (1 - beta1) * g
      let vk = beta2 * (vb1[j] as number) + (1 - beta2) * g * g
      mb1[j] = mk
      vb1[j] = vk
      b1[j] = (b1[j] as number) - (lrc * mk) / (Math.sqrt(vk * c2) + eps)
      g = (gw2[j] as number) + wd * (w2[j] as number)
      mk = beta1 * (mw2[j] as number) + (1 - beta1) * g
      vk = beta2 * (vw2[j] as number) + (1 - beta2) * g * g
      mw2[j] = mk
      vw2[j] = vk
      w2[j] = (w2[j] as number) - (lrc * mk) / (Math.sqrt(vk * c2) + eps)
    }
    mb2 = beta1 * mb2 + (1 - beta1) * gb2
    vb2 = beta2 * vb2 + (1 - beta2) * gb2 * gb2
    b2[0] = (b2[0] as number) - (lrc * mb2) / (Math.sqrt(vb2 * c2) + eps)
  }
}
