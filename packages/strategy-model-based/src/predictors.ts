import { type Arch, NaskitError, Rng, type SearchSpace } from '@naskit/core'
import { type ArchEncoder, createEncoder, type EncodingKind, type SparseVector } from './encoding'
import { GaussianProcess, type GpHyper, type GpKernel } from './gp'
import { type Mlp, trainMlp } from './mlp'

/** A finished evaluation a predictor learns from; `TrialResult`s qualify. */
export interface Observation {
  arch: Arch
  /** Failed trials (`status: 'failed'`, a null or non-finite objective) are left out. */
  objective: number | null
  status?: 'ok' | 'failed'
}

/** What a predictor says about one architecture. */
export interface Prediction {
  /** Predicted objective. */
  mean: number
  /** Its uncertainty: the ensemble's spread, or the GP's posterior standard deviation. */
  std: number
}

/**
 * A performance predictor over the architectures of one space: fit it on finished trials, then
 * predict the objective of unseen architectures with an uncertainty.
 */
export interface ArchPredictor {
  /** `ensemble` or `gp`. */
  readonly kind: string
  readonly encoder: ArchEncoder
  /** Number of observations of the last fit. */
  readonly size: number
  /** Fits on the usable observations (ok, finite objective); replaces any earlier fit. */
  fit(observations: readonly Observation[]): void
  predict(archs: readonly Arch[]): Prediction[]
  /** {@link fit} on encoded inputs (see `encoder`). */
  fitEncoded(x: readonly SparseVector[], y: readonly number[]): void
  /** {@link predict} on encoded inputs. */
  predictEncoded(x: readonly SparseVector[]): { mean: Float64Array; std: Float64Array }
}

function usable(observations: readonly Observation[]): Array<{ arch: Arch; objective: number }> {
  const out: Array<{ arch: Arch; objective: number }> = []
  for (const o of observations) {
    if (o.status === 'failed') continue
    const v = o.objective
    if (typeof v !== 'number' || !Number.isFinite(v)) continue
    out.push({ arch: o.arch, objective: v })
  }
  return out
}

function checkPositiveInt(owner: string, name: string, v: number, min = 1): void {
  if (!Number.isInteger(v) || v < min)
    throw new NaskitError(
      'E_BAD_OPTIONS',
      `${owner}: ${name} must be an integer ≥ ${min}, got ${String(v)}.`,
    )
}

function checkPositive(owner: string, name: string, v: number, allowZero = false): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0))
    throw new NaskitError(
      'E_BAD_OPTIONS',
      `${owner}: ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${String(v)}.`,
    )
}

/** Options of {@link createEnsemblePredictor}. */
export interface EnsemblePredictorOptions {
  /** Networks in the ensemble; their spread is the uncertainty. @default 5 */
  networks?: number
  /** Widths of the hidden layers. @default [32] */
  hidden?: readonly number[]
  /** Full-batch Adam steps per network. @default 150 */
  epochs?: number
  /** @default 0.01 */
  learningRate?: number
  /** L2 penalty on the weights. @default 0.0001 */
  weightDecay?: number
  /** @default 'auto' (the path encoding for small cell spaces, else one-hot) */
  encoding?: EncodingKind
  /** Seeds the initial weights: the same seed and data give the same predictions. @default 0 */
  seed?: number
  /** Train each network on a bootstrap resample of the data (bagging). @default false */
  bootstrap?: boolean
}

/** The ensemble predictor. */
export interface EnsemblePredictor extends ArchPredictor {
  /** Seed of the initial weights of the next fit (each fit derives its streams from it). */
  seed: number
}

/**
 * An ensemble of small fully connected networks (BANANAS, White et al. 2021): each is trained
 * from its own random initialisation on the standardised objectives; the prediction is their
 * mean and the uncertainty their standard deviation. Pure TypeScript, sparse inputs.
 */
export function createEnsemblePredictor(
  space: SearchSpace,
  options: EnsemblePredictorOptions = {},
): EnsemblePredictor {
  const owner = 'createEnsemblePredictor'
  const networks = options.networks ?? 5
  const hidden = [...(options.hidden ?? [32])]
  const epochs = options.epochs ?? 150
  const learningRate = options.learningRate ?? 0.01
  const weightDecay = options.weightDecay ?? 1e-4
  let seed = options.seed ?? 0
  checkPositiveInt(owner, 'networks', networks)
  checkPositiveInt(owner, 'epochs', epochs)
  if (hidden.length === 0 || hidden.length > 4)
    throw new NaskitError(
      'E_BAD_OPTIONS',
      `${owner}: hidden must list 1 to 4 layer widths, got ${JSON.stringify(hidden)}.`,
    )
  for (const w of hidden) checkPositiveInt(owner, 'each hidden width', w)
  checkPositive(owner, 'learningRate', learningRate)
  checkPositive(owner, 'weightDecay', weightDecay, true)
  const encoder = createEncoder(space, options.encoding ?? 'auto')
  let nets: Mlp[] = []
  let yMean = 0
  let yScale = 1
  let size = 0

  const fitEncoded = (x: readonly SparseVector[], y: readonly number[]) => {
    const n = x.length
    size = n
    let mu = 0
    for (const v of y) mu += v
    mu = n > 0 ? mu / n : 0
    let sd = 0
    for (const v of y) sd += (v - mu) ** 2
    sd = n > 1 ? Math.sqrt(sd / (n - 1)) : 0
    yMean = mu
    yScale = sd > 1e-12 ? sd : 1
    const ys = Float64Array.from(y, (v) => (v - mu) / yScale)
    // the same data and seed give the same networks: a refit after a restore is exact
    const rng = new Rng(seed).fork(`fit:${n}`)
    nets = []
    for (let k = 0; k < networks; k++) {
      const r = rng.fork(k)
      let xs = x
      let yk = ys
      if (options.bootstrap === true && n > 1) {
        const pick = Array.from({ length: n }, () => r.int(n))
        xs = pick.map((i) => x[i] as SparseVector)
        yk = Float64Array.from(pick, (i) => ys[i] as number)
      }
      nets.push(trainMlp(xs, yk, encoder.length, { hidden, epochs, learningRate, weightDecay }, r))
    }
  }

  const predictEncoded = (xs: readonly SparseVector[]) => {
    const m = xs.length
    const mean = new Float64Array(m)
    const std = new Float64Array(m)
    if (nets.length === 0) {
      mean.fill(yMean)
      std.fill(yScale)
      return { mean, std }
    }
    const scratch = nets.map((net) => net.scratch())
    const outs = new Float64Array(nets.length)
    for (let q = 0; q < m; q++) {
      let s = 0
      for (let k = 0; k < nets.length; k++) {
        const v = (nets[k] as Mlp).forward(xs[q] as SparseVector, scratch[k] as Float64Array[])
        outs[k] = v
        s += v
      }
      const mu = s / nets.length
      let sq = 0
      for (let k = 0; k < nets.length; k++) sq += ((outs[k] as number) - mu) ** 2
      mean[q] = yMean + yScale * mu
      std[q] = yScale * Math.sqrt(nets.length > 1 ? sq / (nets.length - 1) : 0)
    }
    return { mean, std }
  }

  return {
    kind: 'ensemble',
    encoder,
    get size() {
      return size
    },
    get seed() {
      return seed
    },
    set seed(value: number) {
      if (!Number.isFinite(value))
        throw new NaskitError(
          'E_BAD_OPTIONS',
          `${owner}: seed must be a finite number, got ${value}.`,
        )
      seed = value
    },
    fitEncoded,
    predictEncoded,
    fit(observations) {
      const obs = usable(observations)
      fitEncoded(
        obs.map((o) => encoder.encode(o.arch)),
        obs.map((o) => o.objective),
      )
    },
    predict(archs) {
      const { mean, std } = predictEncoded(archs.map((a) => encoder.encode(a)))
      return Array.from(mean, (m, i) => ({ mean: m, std: std[i] as number }))
    },
  }
}

/** Options of {@link createGpPredictor}. */
export interface GpPredictorOptions {
  /** @default 'matern52' */
  kernel?: GpKernel
  /** Length scales tried, as multiples of the median distance between training points. */
  lengthScales?: readonly number[]
  /** Noise variances tried, relative to the signal variance. */
  noises?: readonly number[]
  /** Weights of the quadratic kernel tried (0: the stationary kernel alone). @default [0] */
  mixes?: readonly number[]
  /** @default 'auto' */
  encoding?: EncodingKind
}

/** A GP predictor, which can also condition on fantasies (see {@link GaussianProcess.add}). */
export interface GpPredictor extends ArchPredictor {
  readonly process: GaussianProcess
  /** The hyper-parameters of the last fit. */
  readonly hyper: GpHyper
}

export const DEFAULT_LENGTH_SCALES: readonly number[] = [0.25, 0.35, 0.5, 0.7, 1, 1.4, 2, 3]
export const DEFAULT_NOISES: readonly number[] = [1e-4, 1e-3, 1e-2, 0.03, 0.1, 0.3]

/**
 * A Gaussian-process predictor: a Matérn-5/2 (or RBF, exponential) kernel of the distance
 * between encodings (on one-hot vectors a function of the Hamming distance), a constant mean,
 * and the length scale and noise chosen by the marginal likelihood on a grid.
 */
export function createGpPredictor(
  space: SearchSpace,
  options: GpPredictorOptions = {},
): GpPredictor {
  const lengthScales = [...(options.lengthScales ?? DEFAULT_LENGTH_SCALES)]
  const noises = [...(options.noises ?? DEFAULT_NOISES)]
  if (lengthScales.length === 0 || noises.length === 0)
    throw new NaskitError(
      'E_BAD_OPTIONS',
      'createGpPredictor: lengthScales and noises need at least one value each.',
    )
  for (const v of lengthScales) checkPositive('createGpPredictor', 'each length scale', v)
  for (const v of noises) checkPositive('createGpPredictor', 'each noise', v)
  const kernel = options.kernel ?? 'matern52'
  if (!['matern52', 'rbf', 'exponential'].includes(kernel))
    throw new NaskitError(
      'E_BAD_OPTIONS',
      `createGpPredictor: kernel must be matern52, rbf or exponential, got ${JSON.stringify(kernel)}.`,
    )
  const encoder = createEncoder(space, options.encoding ?? 'auto')
  const mixes = [...(options.mixes ?? [0])]
  for (const v of mixes)
    if (!(v >= 0 && v <= 1))
      throw new NaskitError(
        'E_BAD_OPTIONS',
        `createGpPredictor: each mix must be in [0, 1], got ${v}.`,
      )
  const gp = new GaussianProcess({ kernel, lengthScales, noises, mixes })
  let size = 0
  return {
    kind: 'gp',
    encoder,
    process: gp,
    get hyper() {
      return gp.hyper
    },
    get size() {
      return size
    },
    fitEncoded(x, y) {
      size = x.length
      gp.fit(x, y)
    },
    predictEncoded: (x) => gp.predict(x),
    fit(observations) {
      const obs = usable(observations)
      size = obs.length
      gp.fit(
        obs.map((o) => encoder.encode(o.arch)),
        obs.map((o) => o.objective),
      )
    },
    predict(archs) {
      const { mean, std } = gp.predict(archs.map((a) => encoder.encode(a)))
      return Array.from(mean, (m, i) => ({ mean: m, std: std[i] as number }))
    },
  }
}

/**
 * Kendall's rank correlation (tau-b, ties accounted for) of two equally long lists: 1 when
 * they rank the items the same way, −1 when reversed. O(n²).
 */
export function kendallTau(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length
  if (b.length !== n)
    throw new NaskitError(
      'E_BAD_OPTIONS',
      `kendallTau: the lists differ in length (${n} and ${b.length}).`,
    )
  let concordant = 0
  let discordant = 0
  let tiesA = 0
  let tiesB = 0
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const da = Math.sign((a[i] as number) - (a[j] as number))
      const db = Math.sign((b[i] as number) - (b[j] as number))
      if (da === 0 && db === 0) continue
      if (da === 0) tiesA++
      else if (db === 0) tiesB++
      else if (da === db) concordant++
      else discordant++
    }
  }
  const denom = Math.sqrt((concordant + discordant + tiesA) * (concordant + discordant + tiesB))
  return denom === 0 ? 0 : (concordant - discordant) / denom
}
