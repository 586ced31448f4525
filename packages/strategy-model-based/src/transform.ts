import { normalQuantile } from './acquisition'

/** How objectives are reshaped before a model is fit on them (monotone, so the best stays best). */
export type ObjectiveTransform = 'none' | 'rank' | 'log'

/**
 * `rank`: normal scores of the ranks (ties share their mean rank), so that a few very bad
 * architectures do not dominate the fit. `log`: −log(max − y + s) with s the distance from the
 * median to the maximum, which spreads out the values near the top.
 */
export function transformObjectives(y: readonly number[], kind: ObjectiveTransform): number[] {
  const n = y.length
  if (kind === 'none' || n < 2) return [...y]
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => (y[a] as number) - (y[b] as number) || a - b,
  )
  if (kind === 'rank') {
    const out = new Array<number>(n)
    let i = 0
    while (i < n) {
      let j = i
      while (j + 1 < n && y[order[j + 1] as number] === y[order[i] as number]) j++
      const z = normalQuantile(((i + j) / 2 + 0.5) / n)
      for (let k = i; k <= j; k++) out[order[k] as number] = z
      i = j + 1
    }
    return out
  }
  const max = y[order[n - 1] as number] as number
  const median = y[order[n >> 1] as number] as number
  const s = Math.max(max - median, 1e-9 * Math.max(1, Math.abs(max)))
  return y.map((v) => -Math.log(max - v + s))
}
