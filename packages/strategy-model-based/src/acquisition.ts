import type { Rng } from '@naskit/core'

/** Standard normal density. */
export function normalPdf(z: number): number {
  return Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI)
}

/** Standard normal distribution function (Abramowitz–Stegun 7.1.26 via erf, |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2
  const t = 1 / (1 + 0.3275911 * x)
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x)
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y)
}

/** Expected improvement over `best` (plus a margin `xi`) of a Gaussian prediction. */
export function expectedImprovement(mean: number, std: number, best: number, xi = 0): number {
  const gain = mean - best - xi
  if (!(std > 1e-12)) return Math.max(0, gain)
  const z = gain / std
  return gain * normalCdf(z) + std * normalPdf(z)
}

/** Upper confidence bound. */
export function upperConfidenceBound(mean: number, std: number, kappa: number): number {
  return mean + kappa * std
}

/** One independent Thompson sample: a draw from the prediction's normal distribution. */
export function thompsonSample(mean: number, std: number, rng: Rng): number {
  return mean + std * rng.normal()
}

/** Index of the largest value not in `skip` (first on ties), or -1. */
export function argmax(values: ArrayLike<number>, skip: ReadonlySet<number>): number {
  let best = -1
  let bestValue = Number.NEGATIVE_INFINITY
  for (let i = 0; i < values.length; i++) {
    if (skip.has(i)) continue
    const v = values[i] as number
    if (best < 0 || v > bestValue) {
      best = i
      bestValue = v
    }
  }
  return best
}

/** Inverse of the standard normal distribution function (Acklam's rational approximation). */
export function normalQuantile(p: number): number {
  if (p <= 0) return Number.NEGATIVE_INFINITY
  if (p >= 1) return Number.POSITIVE_INFINITY
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ]
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972,
    -13.28068155288572,
  ]
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734,
    4.374664141464968, 2.938163982698783,
  ]
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416]
  const lo = 0.02425
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p))
    return (
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    )
  }
  if (p > 1 - lo) return -normalQuantile(1 - p)
  const q = p - 0.5
  const r = q * q
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  )
}
