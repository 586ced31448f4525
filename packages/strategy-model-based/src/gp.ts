import { dot, type SparseVector, squaredDistance } from './encoding'

/** Kernels of the Gaussian process, functions of the distance between two encodings. */
export type GpKernel = 'matern52' | 'rbf' | 'exponential'

/** Correlation at squared distance `d2` with length scale `l` (squared: `l2`). */
export function kernelValue(kernel: GpKernel, d2: number, l2: number): number {
  switch (kernel) {
    case 'rbf':
      return Math.exp(-0.5 * (d2 / l2))
    case 'exponential':
      return Math.exp(-Math.sqrt(d2 / l2))
    case 'matern52': {
      const r = Math.sqrt((5 * d2) / l2)
      return (1 + r + (r * r) / 3) * Math.exp(-r)
    }
  }
}

/** Normalised quadratic kernel ((1 + a·b)² scaled to 1 on the diagonal): additive effects and pairwise interactions. */
export function quadraticValue(a: SparseVector, b: SparseVector): number {
  const ab = 1 + dot(a, b)
  return (ab * ab) / ((1 + dot(a, a)) * (1 + dot(b, b)))
}

/** In-place Cholesky factor (lower, row-major n×n); false when not positive definite. */
function cholesky(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j] as number
    for (let k = 0; k < j; k++) d -= (a[j * n + k] as number) ** 2
    if (!(d > 0)) return false
    const djj = Math.sqrt(d)
    a[j * n + j] = djj
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j] as number
      for (let k = 0; k < j; k++) s -= (a[i * n + k] as number) * (a[j * n + k] as number)
      a[i * n + j] = s / djj
    }
    for (let k = j + 1; k < n; k++) a[j * n + k] = 0
  }
  return true
}

/** Solves L z = b for lower-triangular L (row stride `stride`), in place in `b`. */
function forwardSolve(L: Float64Array, stride: number, n: number, b: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let s = b[i] as number
    const row = i * stride
    for (let k = 0; k < i; k++) s -= (L[row + k] as number) * (b[k] as number)
    b[i] = s / (L[row + i] as number)
  }
}

/** Solves Lᵀ z = b, in place. */
function backSolve(L: Float64Array, stride: number, n: number, b: Float64Array): void {
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i] as number
    for (let k = i + 1; k < n; k++) s -= (L[k * stride + i] as number) * (b[k] as number)
    b[i] = s / (L[i * stride + i] as number)
  }
}

/** Hyper-parameters the marginal likelihood chose. */
export interface GpHyper {
  /** Length scale, in units of the encoding's distance. */
  lengthScale: number
  /** Noise variance relative to the signal variance. */
  noise: number
  /** Signal variance (of the standardised targets). */
  signal: number
  /** Weight of the quadratic kernel; the stationary kernel has the rest. */
  mix: number
}

/** Settings of {@link GaussianProcess.fit}. */
export interface GpSettings {
  kernel: GpKernel
  /** Length scales tried, as multiples of the median distance between training points. */
  lengthScales: readonly number[]
  /** Noise variances tried, relative to the signal variance. */
  noises: readonly number[]
  /** Weights of the quadratic kernel tried (0: the stationary kernel alone). */
  mixes: readonly number[]
}

/**
 * An exact Gaussian process with a constant mean over sparse encodings. The length scale and
 * the noise are chosen on a grid by the marginal likelihood (the signal variance in closed
 * form); targets are standardised. Points can be added afterwards with fixed hyper-parameters
 * (fantasies for pending evaluations: the kriging believer).
 */
export class GaussianProcess {
  private x: SparseVector[] = []
  /** Standardised targets. */
  private y: number[] = []
  private mean = 0
  private scale = 1
  private capacity = 0
  private L = new Float64Array(0)
  private alpha = new Float64Array(0)
  hyper: GpHyper = { lengthScale: 1, noise: 1e-2, signal: 1, mix: 0 }

  constructor(private readonly settings: GpSettings) {}

  /** Number of points conditioned on (fantasies included). */
  get size(): number {
    return this.x.length
  }

  fit(x: readonly SparseVector[], y: readonly number[]): void {
    const n = x.length
    this.x = [...x]
    let mu = 0
    for (const v of y) mu += v
    mu = n > 0 ? mu / n : 0
    let sd = 0
    for (const v of y) sd += (v - mu) ** 2
    sd = n > 1 ? Math.sqrt(sd / (n - 1)) : 0
    this.mean = mu
    this.scale = sd > 1e-12 ? sd : 1
    this.y = y.map((v) => (v - mu) / this.scale)
    if (n === 0) {
      this.capacity = 0
      return
    }
    const d2 = new Float64Array(n * n)
    const qk = this.settings.mixes.some((w) => w > 0) ? new Float64Array(n * n) : null
    const pair: number[] = []
    for (let i = 0; i < n; i++)
      for (let j = 0; j < i; j++) {
        const d = squaredDistance(x[i] as SparseVector, x[j] as SparseVector)
        d2[i * n + j] = d
        d2[j * n + i] = d
        if (qk) qk[i * n + j] = quadraticValue(x[i] as SparseVector, x[j] as SparseVector)
        pair.push(d)
      }
    pair.sort((a, b) => a - b)
    const positive = pair.filter((d) => d > 0)
    const median = positive.length > 0 ? (positive[positive.length >> 1] as number) : 1
    const base = Math.sqrt(median)
    const K = new Float64Array(n * n)
    const z = new Float64Array(n)
    let best: { ll: number; hyper: GpHyper } | null = null
    for (const mix of this.settings.mixes)
      for (const ls of mix >= 1 ? [1] : this.settings.lengthScales) {
        const l = ls * base
        const l2 = l * l
        for (const noise of this.settings.noises) {
          for (let i = 0; i < n; i++) {
            for (let j = 0; j < i; j++)
              K[i * n + j] =
                (1 - mix) * kernelValue(this.settings.kernel, d2[i * n + j] as number, l2) +
                (mix > 0 ? mix * ((qk as Float64Array)[i * n + j] as number) : 0)
            K[i * n + i] = 1 + noise + 1e-9
          }
          if (!cholesky(K, n)) continue
          for (let i = 0; i < n; i++) z[i] = this.y[i] as number
          forwardSolve(K, n, n, z)
          let quad = 0
          for (let i = 0; i < n; i++) quad += (z[i] as number) ** 2
          let logDet = 0
          for (let i = 0; i < n; i++) logDet += Math.log(K[i * n + i] as number)
          const signal = Math.max(quad / n, 1e-12)
          // profile log likelihood with the signal variance at its optimum
          const ll = -0.5 * n * Math.log(signal) - logDet
          if (best === null || ll > best.ll + 1e-12)
            best = { ll, hyper: { lengthScale: l, noise, signal, mix } }
        }
      }
    this.hyper = best?.hyper ?? { lengthScale: base, noise: 0.1, signal: 1, mix: 0 }
    this.factor()
  }

  /** Correlation of two points under the current hyper-parameters. */
  private corr(a: SparseVector, b: SparseVector, l2: number): number {
    const mix = this.hyper.mix
    const s = mix < 1 ? kernelValue(this.settings.kernel, squaredDistance(a, b), l2) : 0
    return mix > 0 ? (1 - mix) * s + mix * quadraticValue(a, b) : s
  }

  /** Factors the kernel matrix of the current points with the current hyper-parameters. */
  private factor(): void {
    const n = this.x.length
    this.capacity = Math.max(16, n * 2)
    const c = this.capacity
    this.L = new Float64Array(c * c)
    const l2 = this.hyper.lengthScale ** 2
    const noise = this.hyper.noise
    let jitter = 1e-9
    for (;;) {
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < i; j++)
          this.L[i * c + j] = this.corr(this.x[i] as SparseVector, this.x[j] as SparseVector, l2)
        this.L[i * c + i] = 1 + noise + jitter
      }
      if (this.choleskyStrided(n)) break
      jitter = jitter * 100 + 1e-6
    }
    this.solveAlpha()
  }

  private choleskyStrided(n: number): boolean {
    const c = this.capacity
    const a = this.L
    for (let j = 0; j < n; j++) {
      let d = a[j * c + j] as number
      for (let k = 0; k < j; k++) d -= (a[j * c + k] as number) ** 2
      if (!(d > 0)) return false
      const djj = Math.sqrt(d)
      a[j * c + j] = djj
      for (let i = j + 1; i < n; i++) {
        let s = a[i * c + j] as number
        for (let k = 0; k < j; k++) s -= (a[i * c + k] as number) * (a[j * c + k] as number)
        a[i * c + j] = s / djj
      }
    }
    return true
  }

  private solveAlpha(): void {
    const n = this.x.length
    const a = new Float64Array(n)
    for (let i = 0; i < n; i++) a[i] = this.y[i] as number
    forwardSolve(this.L, this.capacity, n, a)
    backSolve(this.L, this.capacity, n, a)
    this.alpha = a
  }

  /**
   * Conditions on one more point with the current hyper-parameters (a rank-one update of the
   * factor); `y` is in the original units.
   */
  add(x: SparseVector, y: number): void {
    const n = this.x.length
    if (n + 1 > this.capacity) {
      this.x.push(x)
      this.y.push((y - this.mean) / this.scale)
      this.factor()
      return
    }
    const c = this.capacity
    const l2 = this.hyper.lengthScale ** 2
    const k = new Float64Array(n)
    for (let i = 0; i < n; i++) k[i] = this.corr(x, this.x[i] as SparseVector, l2)
    forwardSolve(this.L, c, n, k)
    let d = 1 + this.hyper.noise + 1e-9
    for (let i = 0; i < n; i++) d -= (k[i] as number) ** 2
    if (!(d > 1e-12)) d = 1e-12
    for (let i = 0; i < n; i++) this.L[n * c + i] = k[i] as number
    this.L[n * c + n] = Math.sqrt(d)
    this.x.push(x)
    this.y.push((y - this.mean) / this.scale)
    this.solveAlpha()
  }

  /** Posterior mean and standard deviation (of the latent function) in the original units. */
  predict(xs: readonly SparseVector[]): { mean: Float64Array; std: Float64Array } {
    const m = xs.length
    const n = this.x.length
    const mean = new Float64Array(m)
    const std = new Float64Array(m)
    const signal = this.hyper.signal
    if (n === 0) {
      for (let i = 0; i < m; i++) {
        mean[i] = this.mean
        std[i] = this.scale
      }
      return { mean, std }
    }
    const l2 = this.hyper.lengthScale ** 2
    const k = new Float64Array(n)
    for (let q = 0; q < m; q++) {
      const xq = xs[q] as SparseVector
      let mu = 0
      for (let i = 0; i < n; i++) {
        const v = this.corr(xq, this.x[i] as SparseVector, l2)
        k[i] = v
        mu += v * (this.alpha[i] as number)
      }
      forwardSolve(this.L, this.capacity, n, k)
      let explained = 0
      for (let i = 0; i < n; i++) explained += (k[i] as number) ** 2
      const variance = Math.max(0, 1 - explained) * signal
      mean[q] = this.mean + this.scale * mu
      std[q] = this.scale * Math.sqrt(variance)
    }
    return { mean, std }
  }
}
