import { type Arch, NaskitError, Rng, type SearchSpace } from '@naskit/core'
import type { JsonValue } from '@naskit/core'

/** How training picks the architecture of each step. */
export type SamplerKind = 'uniform' | 'fair'

/** Draws the architectures trained by single-path one-shot training. */
export interface ArchSampler {
  readonly kind: SamplerKind
  /**
   * Architectures per update: 1 for uniform sampling; for fair sampling the largest number
   * of choices of a decision, so that every op of every layer is trained once per update.
   */
  readonly group: number
  next(): Arch
  state(): JsonValue
  restore(state: JsonValue): void
}

/** Uniform single-path sampling (Guo et al. 2020): every decision drawn uniformly. */
export function uniformSampler(space: SearchSpace, rng: Rng): ArchSampler {
  let r = rng
  return {
    kind: 'uniform',
    group: 1,
    next: () => space.sample(r),
    state: () => ({ rng: r.state() }),
    restore(state) {
      r = Rng.fromState((state as { rng?: unknown } | null)?.rng)
    },
  }
}

/** The number of options of the widest decision of a space (over a few samples). */
function widestDecision(space: SearchSpace, rng: Rng): number {
  let n = 1
  for (let i = 0; i < 16; i++)
    for (const t of space.trace(space.sample(rng))) n = Math.max(n, t.point.n)
  return n
}

/**
 * Fair sampling (FairNAS, Chu et al. 2021): each decision keeps a shuffled queue of its
 * options and takes the next one, so within every group of `n` architectures each op of a
 * layer with `n` choices is picked exactly once; updates accumulate the group's gradients.
 */
export function fairSampler(space: SearchSpace, rng: Rng): ArchSampler {
  let r = rng
  let queues = new Map<string, number[]>()
  const group = widestDecision(space, new Rng(0))
  const take = (id: string, n: number): number => {
    let q = queues.get(id)
    if (q === undefined || q.length === 0 || q.some((i) => i >= n)) {
      q = r.shuffle(Array.from({ length: n }, (_, i) => i))
      queues.set(id, q)
    }
    return q.shift() as number
  }
  return {
    kind: 'fair',
    group,
    next: () => space.build((p) => take(p.id, p.n)),
    state: () => ({ rng: r.state(), queues: Object.fromEntries(queues) }),
    restore(state) {
      const s = state as { rng?: unknown; queues?: Record<string, number[]> } | null
      if (!s || typeof s.queues !== 'object' || s.queues === null)
        throw new NaskitError('E_BAD_STATE', 'Fair sampler state needs { rng, queues }.')
      r = Rng.fromState(s.rng)
      queues = new Map(Object.entries(s.queues).map(([k, v]) => [k, [...v]]))
    },
  }
}

/** The sampler of a kind. */
export function createSampler(kind: SamplerKind, space: SearchSpace, rng: Rng): ArchSampler {
  if (kind === 'uniform') return uniformSampler(space, rng)
  if (kind === 'fair') return fairSampler(space, rng)
  throw new NaskitError('E_BAD_OPTIONS', `Unknown sampler "${kind}"; use uniform or fair.`)
}
