import type { Rng } from '@naskit/core'
import * as tf from '@tensorflow/tfjs-core'
import type { DecisionGroup, Step, Vocabulary } from './vocabulary'

/** Which policy produces the decisions. */
export type ControllerKind = 'lstm' | 'independent'

/** How logits become probabilities (ENAS): `c · tanh(logits / temperature)`, then softmax. */
export interface LogitTransform {
  temperature: number
  /** Tanh logit clipping constant; 0 turns clipping off. */
  tanhConstant: number
}

/** One sampled (or traced) architecture with the weight of its log-probability in the loss. */
export interface Episode {
  steps: readonly Step[]
  advantage: number
}

interface ParamSpec {
  name: string
  shape: number[]
}

const MASKED = -1e9

/**
 * The policy's parameters as float32 arrays (the source of truth), with a plain-JS forward
 * pass for sampling (fast, no tensors per decision) and a tfjs forward pass for the loss
 * whose gradients train it.
 *
 * `lstm` (Zoph & Le 2017; ENAS 2018): one LSTM cell is run once per decision; its input is
 * the embedding of the previous choice (a start token first); each decision group has its
 * own softmax head (a column block of one output matrix) and its own embedding rows.
 * `independent`: one vector of logits per decision group, no memory between decisions.
 */
export class Controller {
  readonly specs: ParamSpec[]
  readonly params: Float32Array[]
  private readonly hidden: number
  private readonly embed: number
  /** `embedding[token] · Wx + b` per token, computed when first needed until the weights change. */
  private inputProjection: Float64Array | null = null
  private projected: Uint8Array | null = null

  constructor(
    readonly kind: ControllerKind,
    readonly vocab: Vocabulary,
    readonly transform: LogitTransform,
    sizes: { hidden: number; embed: number },
    rng: Rng,
    initScale: number,
  ) {
    this.hidden = sizes.hidden
    this.embed = sizes.embed
    const K = vocab.size
    const H = this.hidden
    const E = this.embed
    this.specs =
      kind === 'lstm'
        ? [
            { name: 'embedding', shape: [K + 1, E] },
            { name: 'inputKernel', shape: [E, 4 * H] },
            { name: 'recurrentKernel', shape: [H, 4 * H] },
            { name: 'bias', shape: [4 * H] },
            { name: 'outputKernel', shape: [H, K] },
            { name: 'outputBias', shape: [K] },
          ]
        : [{ name: 'logits', shape: [K] }]
    this.params = this.specs.map((s) => {
      const a = new Float32Array(s.shape.reduce((x, y) => x * y, 1))
      // ENAS initialises the controller uniformly in [-0.1, 0.1]; biases and the
      // independent policy's logits start at zero (a uniform policy)
      if (s.shape.length === 2)
        for (let i = 0; i < a.length; i++) a[i] = (rng.next() * 2 - 1) * initScale
      return a
    })
  }

  /** Call after changing `params` in place (an optimizer step, a restore). */
  invalidate(): void {
    this.projected?.fill(0)
  }

  /** Offset of `token`'s row in the projection cache, computing the row if needed. */
  private project(token: number): number {
    const H4 = 4 * this.hidden
    if (this.inputProjection === null || this.projected === null) {
      this.inputProjection = new Float64Array((this.vocab.size + 1) * H4)
      this.projected = new Uint8Array(this.vocab.size + 1)
    }
    const out = this.inputProjection
    const row = token * H4
    if (this.projected[token] === 0) {
      const E = this.embed
      const [emb, wx, , bias] = this.params as [
        Float32Array,
        Float32Array,
        Float32Array,
        Float32Array,
      ]
      for (let j = 0; j < H4; j++) out[row + j] = bias[j] as number
      for (let e = 0; e < E; e++) {
        const x = emb[token * E + e] as number
        const w = e * H4
        for (let j = 0; j < H4; j++)
          out[row + j] = (out[row + j] as number) + x * (wx[w + j] as number)
      }
      this.projected[token] = 1
    }
    return row
  }

  /** Number of trainable numbers. */
  get parameterCount(): number {
    return this.params.reduce((n, p) => n + p.length, 0)
  }

  /** A sampler that walks the decisions of one architecture in order. */
  sampler(rng: Rng): (group: DecisionGroup) => number {
    return this.walker((probs, g) => draw(probs, g.n, rng))
  }

  /** Log-probability of a whole decision sequence under the current weights (plain JS). */
  logProbability(steps: readonly Step[]): number {
    let total = 0
    let t = 0
    const walk = this.walker((probs, g) => {
      const step = steps[t++] as Step
      if (step.group !== g) throw new Error('logProbability: steps out of order')
      total += Math.log(probs[step.index] as number)
      return step.index
    })
    for (const step of steps) walk(step.group)
    return total
  }

  /**
   * Walks the decisions of one architecture: for each group it computes the option
   * probabilities and lets `pick` choose; the choice feeds the next step.
   */
  private walker(
    pick: (probs: Float64Array, group: DecisionGroup) => number,
  ): (group: DecisionGroup) => number {
    const probs = new Float64Array(Math.max(...this.vocab.groups.map((g) => g.n)))
    if (this.kind === 'independent') {
      const [logits] = this.params as [Float32Array]
      return (g) => {
        this.probabilities(g, (j) => logits[g.offset + j] as number, probs)
        return pick(probs, g)
      }
    }
    const H = this.hidden
    const [, , wh, , wo, bo] = this.params as [
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
    ]
    const xp = (): Float64Array => this.inputProjection as Float64Array
    const h = new Float64Array(H)
    const c = new Float64Array(H)
    const z = new Float64Array(4 * H)
    let token = 0
    return (g) => {
      // z = x·Wx + b (cached per token) + h·Wh, gates in the order input, forget, cell, output
      const xo = this.project(token)
      const proj = xp()
      for (let j = 0; j < 4 * H; j++) z[j] = proj[xo + j] as number
      for (let k = 0; k < H; k++) {
        const hk = h[k] as number
        if (hk === 0) continue
        const row = k * 4 * H
        for (let j = 0; j < 4 * H; j++) z[j] = (z[j] as number) + hk * (wh[row + j] as number)
      }
      for (let k = 0; k < H; k++) {
        const ig = sigmoid(z[k] as number)
        const fg = sigmoid(z[H + k] as number)
        const cg = Math.tanh(z[2 * H + k] as number)
        const og = sigmoid(z[3 * H + k] as number)
        const ck = fg * (c[k] as number) + ig * cg
        c[k] = ck
        h[k] = og * Math.tanh(ck)
      }
      const K = this.vocab.size
      this.probabilities(
        g,
        (j) => {
          const col = g.offset + j
          let s = bo[col] as number
          for (let k = 0; k < H; k++) s += (h[k] as number) * (wo[k * K + col] as number)
          return s
        },
        probs,
      )
      const choice = pick(probs, g)
      token = g.offset + choice + 1
      return choice
    }
  }

  private probabilities(g: DecisionGroup, raw: (j: number) => number, out: Float64Array): void {
    const { temperature, tanhConstant } = this.transform
    let max = Number.NEGATIVE_INFINITY
    for (let j = 0; j < g.n; j++) {
      let l = raw(j) / temperature
      if (tanhConstant > 0) l = tanhConstant * Math.tanh(l)
      out[j] = l
      if (l > max) max = l
    }
    let sum = 0
    for (let j = 0; j < g.n; j++) {
      const e = Math.exp((out[j] as number) - max)
      out[j] = e
      sum += e
    }
    for (let j = 0; j < g.n; j++) out[j] = (out[j] as number) / sum
  }

  /**
   * The REINFORCE loss of a batch, `−mean(advantage · Σ log π(a_t)) − β · mean(Σ H_t)`, and
   * its gradient for every parameter, computed with tfjs (log-probabilities are recomputed
   * from the stored decisions under the current weights).
   */
  lossAndGradients(
    episodes: readonly Episode[],
    entropyWeight: number,
  ): { loss: number; grads: Float32Array[] } {
    const B = episodes.length
    const K = this.vocab.size
    const T = Math.max(...episodes.map((e) => e.steps.length))
    // rows are (step t, episode b) at t · B + b; built in JS, constant for the tape
    const N = T * B
    const tokens = new Float32Array(N * (K + 1))
    const mask = new Float32Array(N * K)
    // −advantage / B at each chosen option, and the entropy weight per row
    const chosenW = new Float32Array(N * K)
    const entW = new Float32Array(N)
    for (let t = 0; t < T; t++) {
      episodes.forEach((ep, b) => {
        const r = t * B + b
        const step = ep.steps[t]
        const prev = t === 0 ? undefined : ep.steps[t - 1]
        tokens[r * (K + 1) + (prev === undefined ? 0 : prev.group.offset + prev.index + 1)] = 1
        if (step === undefined) return
        mask.fill(MASKED, r * K, (r + 1) * K)
        mask.fill(0, r * K + step.group.offset, r * K + step.group.offset + step.group.n)
        chosenW[r * K + step.group.offset + step.index] = -ep.advantage / B
        entW[r] = entropyWeight / B
      })
    }
    const { temperature, tanhConstant } = this.transform
    const H = this.hidden
    const result = tf.tidy(() => {
      const paramTensors = this.params.map((p, i) =>
        tf.tensor(p, (this.specs[i] as ParamSpec).shape, 'float32'),
      )
      const lossFn = (...ps: tf.Tensor[]): tf.Scalar => {
        let raw: tf.Tensor
        if (this.kind === 'independent') {
          raw = tf.reshape(ps[0] as tf.Tensor, [1, K])
        } else {
          const [emb, wx, wh, bias, wo, bo] = ps as [
            tf.Tensor2D,
            tf.Tensor2D,
            tf.Tensor2D,
            tf.Tensor1D,
            tf.Tensor2D,
            tf.Tensor1D,
          ]
          // the input side of every step at once: embedding of the previous choice · Wx + b
          const xz = tf.add(tf.matMul(tf.matMul(tf.tensor2d(tokens, [N, K + 1]), emb), wx), bias)
          // one split instead of a slice per step: a single gradient (a concat) flows back
          const xs = T === 1 ? [xz] : (tf.split(xz, T, 0) as tf.Tensor2D[])
          let h: tf.Tensor2D | null = null
          let c: tf.Tensor2D | null = null
          const hs: tf.Tensor2D[] = []
          for (let t = 0; t < T; t++) {
            let z = xs[t] as tf.Tensor2D
            if (h !== null) z = tf.add(z, tf.matMul(h, wh))
            const sg = tf.sigmoid(z)
            const ig = tf.slice(sg, [0, 0], [B, H])
            const og = tf.slice(sg, [0, 3 * H], [B, H])
            const cg = tf.tanh(tf.slice(z, [0, 2 * H], [B, H]))
            // the first step has no previous cell state, so no forget gate
            c = (
              c === null
                ? tf.mul(ig, cg)
                : tf.add(tf.mul(tf.slice(sg, [0, H], [B, H]), c), tf.mul(ig, cg))
            ) as tf.Tensor2D
            h = tf.mul(og, tf.tanh(c)) as tf.Tensor2D
            hs.push(h)
          }
          const all = hs.length === 1 ? (hs[0] as tf.Tensor2D) : tf.concat(hs, 0)
          raw = tf.add(tf.matMul(all, wo), bo)
        }
        let logits = temperature === 1 ? raw : tf.mul(raw, tf.scalar(1 / temperature))
        if (tanhConstant > 0) logits = tf.mul(tf.tanh(logits), tf.scalar(tanhConstant))
        const logp = tf.logSoftmax(tf.add(logits, tf.tensor2d(mask, [N, K])))
        // −Σ advantage/B · log π(chosen)
        const policyLoss = tf.sum(tf.mul(logp, tf.tensor2d(chosenW, [N, K])))
        if (entropyWeight === 0) return policyLoss as tf.Scalar
        // + β/B · Σ p log p (the negative entropy)
        const negEntropy = tf.mul(tf.mul(tf.exp(logp), logp), tf.tensor2d(entW, [N, 1]))
        return tf.add(policyLoss, tf.sum(negEntropy)) as tf.Scalar
      }
      return tf.valueAndGrads(lossFn)(paramTensors)
    })
    const loss = result.value.dataSync()[0] as number
    const grads = result.grads.map((g) => Float32Array.from(g.dataSync()))
    result.value.dispose()
    for (const g of result.grads) g.dispose()
    return { loss, grads }
  }
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x))
}

function draw(probs: Float64Array, n: number, rng: Rng): number {
  let u = rng.next()
  for (let j = 0; j < n; j++) {
    u -= probs[j] as number
    if (u < 0) return j
  }
  // rounding left a sliver: the last option with non-zero probability
  for (let j = n - 1; j >= 0; j--) if ((probs[j] as number) > 0) return j
  return n - 1
}
