/**
 * Kendall's tau-b rank correlation of two equally long series (ties handled as in tau-b),
 * in [-1, 1]; NaN when either series is constant or shorter than 2.
 */
export function kendallTau(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new RangeError('kendallTau: series differ in length.')
  let concordant = 0
  let discordant = 0
  let tiesA = 0
  let tiesB = 0
  for (let i = 0; i < a.length; i++) {
    for (let j = i + 1; j < a.length; j++) {
      const da = Math.sign((a[j] as number) - (a[i] as number))
      const db = Math.sign((b[j] as number) - (b[i] as number))
      if (da === 0 && db === 0) continue
      if (da === 0) tiesA++
      else if (db === 0) tiesB++
      else if (da === db) concordant++
      else discordant++
    }
  }
  const denom = Math.sqrt((concordant + discordant + tiesA) * (concordant + discordant + tiesB))
  return denom === 0 ? Number.NaN : (concordant - discordant) / denom
}
