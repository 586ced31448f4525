import { type Fidelity, NaskitError } from '@naskit/core'

/** The fidelity field a multi-fidelity schedule varies. */
export type Resource = 'epochs' | 'dataFraction'

/** The resources of the rungs, lowest first, and how a rung becomes a {@link Fidelity}. */
export interface Ladder {
  resource: Resource
  /** Resource of each rung, increasing; the last one is the maximum resource. */
  levels: number[]
  eta: number
  /** Fidelity fields every proposal carries besides the resource. */
  fixed: Fidelity
}

const EPS = 1e-9

/**
 * The rungs between `min` and `max`: `max · η^(k − K + 1)` for k = 0..K−1, where K − 1 is the
 * largest whole number of η-fold reductions that stays at or above `min`. So the top rung is
 * `max` itself and the lowest is at least `min`. Epochs are rounded to whole numbers (rungs
 * that round to the same number are merged); data fractions are kept to 6 decimals.
 */
export function makeLadder(args: {
  resource: Resource
  min: number
  max: number
  eta: number
  fixed?: unknown
  owner: string
  minName?: string
}): Ladder {
  const { resource, min, max, eta, owner } = args
  const minName = args.minName ?? 'minResource'
  const bad = (msg: string) => new NaskitError('E_BAD_OPTIONS', `${owner}: ${msg}`)
  if (!(eta > 1)) throw bad(`eta must be greater than 1 (got ${eta}); 3 is the usual choice.`)
  if (!(min > 0) || !Number.isFinite(min))
    throw bad(`${minName} must be a positive number (got ${min}).`)
  if (!(max >= min) || !Number.isFinite(max))
    throw bad(`maxResource (${max}) must be at least ${minName} (${min}).`)
  if (resource === 'epochs' && (!Number.isInteger(min) || !Number.isInteger(max)))
    throw bad(
      `with resource "epochs", ${minName} and maxResource are whole numbers of epochs (got ${min} and ${max}).`,
    )
  if (resource === 'dataFraction' && max > 1)
    throw bad(
      `with resource "dataFraction", maxResource is a fraction of the training data, at most 1 (got ${max}).`,
    )
  const fixed = checkFixed(args.fixed, resource, bad)
  const steps = Math.floor(Math.log(max / min) / Math.log(eta) + EPS)
  const levels: number[] = []
  for (let k = 0; k <= steps; k++) {
    const raw = max * eta ** (k - steps)
    const level =
      resource === 'epochs' ? Math.max(min, Math.round(raw)) : Math.round(raw * 1e6) / 1e6
    if (levels.length === 0 || level > (levels[levels.length - 1] as number)) levels.push(level)
  }
  levels[levels.length - 1] = max
  return { resource, levels, eta, fixed }
}

function checkFixed(
  value: unknown,
  resource: Resource,
  bad: (msg: string) => NaskitError,
): Fidelity {
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value))
    throw bad(`fidelity must be an object of numbers such as { "dataFraction": 0.5 }.`)
  const out: Fidelity = {}
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k === resource)
      throw bad(
        `fidelity must not set "${k}": the schedule varies it (set minResource/maxResource instead).`,
      )
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw bad(`fidelity.${k} must be a number (got ${JSON.stringify(v)}).`)
    out[k] = v
  }
  return out
}

/** The fidelity of rung `k`. */
export function fidelityOf(ladder: Ladder, k: number): Fidelity {
  return { ...ladder.fixed, [ladder.resource]: ladder.levels[k] as number }
}
