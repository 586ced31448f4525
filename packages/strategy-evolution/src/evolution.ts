import {
  type Arch,
  createUnseenSampler,
  defineStrategy,
  type JsonValue,
  NaskitError,
  option,
  type Proposal,
  Rng,
  type SamplingStrategy,
  type StrategyStatus,
  type TrialResult,
} from '@naskit/core'

const options = {
  populationSize: option.int({
    default: 40,
    min: 1,
    description:
      'P: members kept alive; the oldest dies when a child joins a full population. The first P candidates are random.',
  }),
  sampleSize: option.int({
    default: 30,
    min: 1,
    description:
      'S: members drawn (without replacement) for each tournament; the best of them is the parent.',
  }),
  mutationAttempts: option.int({
    default: 32,
    min: 1,
    description:
      'Steps of the random walk away from a parent whose neighbours were all asked, before sampling a random unseen architecture.',
  }),
}

/** Plain mutations tried before choosing among the parent's unseen neighbours. */
const QUICK_MUTATIONS = 4

interface Member {
  key: string
  arch: Arch
  objective: number
}

interface EvolutionState {
  version: 1
  rng: JsonValue
  population: Array<{ key: string; arch: Arch; objective: number }>
  evaluated: string[]
  pending: string[]
  initiated: number
  enumerating: boolean
  /** Members whose unseen neighbours are listed (see `child`). */
  crowded?: string[]
}

function badState(why: string): NaskitError {
  return new NaskitError(
    'E_BAD_STATE',
    `Evolution strategy: the checkpoint is not a version-1 evolution state (${why}). Resume with the same naskit version that wrote it, or start a new experiment.`,
  )
}

/**
 * Regularized (aging) evolution, Real et al. 2019. The first P candidates are random; after
 * that each candidate is the child of a tournament: S members drawn from the population, the
 * best one mutated in one decision. A child joins the population when its result arrives and
 * the oldest member dies. Any number of children can be out at once (parallel workers), and
 * results may come back in any order. No architecture is asked twice while unseen ones remain.
 */
export const evolutionStrategy = defineStrategy({
  name: 'evolution',
  kind: 'sampling',
  description:
    'Regularized (aging) evolution: tournament selection, one-decision mutation, the oldest member dies (Real et al. 2019).',
  options,
  create({ space, rng: initialRng, options: o }): SamplingStrategy {
    let rng = initialRng
    const P = o.populationSize
    const S = o.sampleSize
    let population: Member[] = []
    let evaluated = new Set<string>()
    let pending = new Set<string>()
    // remembers evaluated ∪ pending, for one lookup per check
    const unseen = createUnseenSampler(space)
    let initiated = 0
    const seen = (key: string) => unseen.has(key)
    const canMutate = (arch: Arch) => space.mutationSites(arch) > 0

    const order = new Int32Array(P)
    /** The best of S members drawn without replacement (partial Fisher–Yates). */
    const tournamentWinner = (): Member => {
      const n = population.length
      let best = population[0] as Member
      if (n <= S) {
        for (let i = 1; i < n; i++)
          if ((population[i] as Member).objective > best.objective) best = population[i] as Member
        return best
      }
      for (let i = 0; i < n; i++) order[i] = i
      for (let i = 0; i < S; i++) {
        const j = i + rng.int(n - i)
        const pick = order[j] as number
        order[j] = order[i] as number
        order[i] = pick
        const m = population[pick] as Member
        if (i === 0 || m.objective > best.objective) best = m
      }
      return best
    }

    // unseen neighbours of members whose neighbourhood is filling up, in neighbours() order
    // (derived data: rebuilt identically after a restore)
    const neighbourhoods = new Map<string, Array<{ arch: Arch; key: string }>>()

    const child = (): { arch: Arch; key: string } | null => {
      const parent = tournamentWinner()
      if (!canMutate(parent.arch)) return keyed(unseen.draw(rng))
      let list = neighbourhoods.get(parent.key)
      if (list === undefined) {
        for (let t = 0; t < QUICK_MUTATIONS; t++) {
          const c = space.mutate(parent.arch, rng)
          const key = space.key(c)
          if (!seen(key)) return { arch: c, key }
        }
        // most mutations hit known architectures: choose among the unseen neighbours directly,
        // which draws from the same distribution as mutating until an unseen one comes up
        list = space.neighbours(parent.arch).map((arch) => ({ arch, key: space.key(arch) }))
      }
      let kept = 0
      for (const e of list) if (!seen(e.key)) list[kept++] = e
      list.length = kept
      neighbourhoods.set(parent.key, list)
      if (kept > 0) return list.splice(rng.int(kept), 1)[0] as { arch: Arch; key: string }
      // the parent's neighbourhood is used up: walk further away from it
      let walker = parent.arch
      for (let t = 0; t < o.mutationAttempts; t++) {
        walker = space.mutate(walker, rng)
        const key = space.key(walker)
        if (!seen(key)) return { arch: walker, key }
      }
      return keyed(unseen.draw(rng))
    }

    const keyed = (arch: Arch | null) => (arch === null ? null : { arch, key: space.key(arch) })

    return {
      ask(n: number): Proposal[] {
        const out: Proposal[] = []
        while (out.length < n) {
          const next = initiated < P || population.length === 0 ? keyed(unseen.draw(rng)) : child()
          if (next === null) break
          pending.add(next.key)
          unseen.add(next.key)
          initiated++
          out.push({ arch: next.arch })
        }
        return out
      },
      tell(results: readonly TrialResult[]): void {
        for (const r of results) {
          pending.delete(r.key)
          evaluated.add(r.key)
          unseen.add(r.key)
          const v = r.objective
          if (r.status !== 'ok' || typeof v !== 'number' || !Number.isFinite(v)) continue
          population.push({ key: r.key, arch: r.arch, objective: v })
          if (population.length > P) neighbourhoods.delete((population.shift() as Member).key)
        }
      },
      status(): StrategyStatus {
        return unseen.status()
      },
      state(): JsonValue {
        const s: EvolutionState = {
          version: 1,
          rng: rng.state(),
          population: population.map((m) => ({ key: m.key, arch: m.arch, objective: m.objective })),
          evaluated: [...evaluated],
          pending: [...pending],
          initiated,
          enumerating: unseen.enumerating,
          crowded: [...neighbourhoods.keys()],
        }
        return s as unknown as JsonValue
      },
      restore(state: JsonValue): void {
        const s = state as Partial<EvolutionState> | null
        if (!s || typeof s !== 'object' || s.version !== 1) throw badState('wrong version')
        if (
          !Array.isArray(s.population) ||
          !Array.isArray(s.evaluated) ||
          !Array.isArray(s.pending)
        )
          throw badState('missing lists')
        if (typeof s.initiated !== 'number') throw badState('missing counter')
        const members: Member[] = []
        for (const m of s.population) {
          if (
            !m ||
            typeof m.key !== 'string' ||
            typeof m.objective !== 'number' ||
            !space.isValid(m.arch)
          )
            throw badState('bad member')
          members.push({ key: m.key, arch: m.arch, objective: m.objective })
        }
        rng = Rng.fromState(s.rng)
        population = members
        evaluated = new Set(s.evaluated.map(String))
        pending = new Set(s.pending.map(String))
        unseen.restore({ seen: [...evaluated, ...pending], enumerating: s.enumerating === true })
        initiated = s.initiated
        neighbourhoods.clear()
        // the lists are the members' neighbours in neighbours() order, without the seen ones
        for (const key of Array.isArray(s.crowded) ? s.crowded : []) {
          const member = members.find((m) => m.key === key)
          if (!member) continue
          const list = space.neighbours(member.arch).map((arch) => ({ arch, key: space.key(arch) }))
          neighbourhoods.set(
            key,
            list.filter((e) => !seen(e.key)),
          )
        }
      },
    }
  },
})
