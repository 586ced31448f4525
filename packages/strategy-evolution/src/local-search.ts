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
  initialSamples: option.int({
    default: 20,
    min: 1,
    description:
      'Random architectures evaluated first (and after every restart); the best becomes the starting point.',
  }),
  restartSamples: option.int({
    default: 3,
    min: 1,
    description:
      'Random architectures evaluated at a restart from a local optimum; the best is the new starting point.',
  }),
  improvement: option.enum(['first', 'best'] as const, {
    default: 'first',
    description:
      '"best": evaluate the whole neighbourhood, then move to its best member (steepest ascent, as NASLib); "first": move as soon as a neighbour is better.',
  }),
}

interface Point {
  key: string
  arch: Arch
  objective: number
}

/** Kinds of pending proposals: a start sample, an exploration sample, or a neighbour of a round. */
const START = -1
const EXPLORE = -2

interface LocalSearchState {
  version: 1
  rng: JsonValue
  evaluated: Array<[string, number | null]>
  pending: Array<[string, number]>
  current: Point | null
  roundBest: Point | null
  startBest: Point | null
  startAsked: number
  startTarget: number
  round: number
  queue: Arch[]
  restarts: number
  enumerating: boolean
}

function badState(why: string): NaskitError {
  return new NaskitError(
    'E_BAD_STATE',
    `Local search: the checkpoint is not a version-1 local-search state (${why}). Resume with the same naskit version that wrote it, or start a new experiment.`,
  )
}

const better = (a: Point | null, b: Point | null): Point | null =>
  a === null ? b : b === null || a.objective >= b.objective ? a : b

/**
 * Hill climbing over `neighbours()` with random restarts (NASLib's local search): start from the
 * best of a few random architectures, evaluate its neighbours in random order, move to the best
 * improving one (or the first, with `improvement: 'first'`), and when no neighbour improves,
 * restart from a random architecture. Known neighbours are not asked again.
 */
export const localSearchStrategy = defineStrategy({
  name: 'local-search',
  kind: 'sampling',
  description:
    'Hill climbing over one-decision neighbours with random restarts (NASLib local search).',
  options,
  create({ space, rng: initialRng, options: o }): SamplingStrategy {
    let rng = initialRng
    let evaluated = new Map<string, number | null>()
    let pending = new Map<string, number>()
    let current: Point | null = null
    let roundBest: Point | null = null
    let startBest: Point | null = null
    let startAsked = 0
    let startTarget = o.initialSamples
    let round = 0
    let queue: Arch[] = []
    let restarts = 0
    // remembers evaluated ∪ pending
    const unseen = createUnseenSampler(space)
    const seen = (key: string) => unseen.has(key)

    const roundPending = (): boolean => {
      for (const kind of pending.values()) if (kind === round) return true
      return false
    }

    /** Makes `p` the centre of a new round: its unseen neighbours, shuffled, are the queue. */
    const moveTo = (p: Point) => {
      current = p
      round++
      roundBest = null
      queue = []
      for (const nb of space.neighbours(p.arch)) {
        const key = space.key(nb)
        const known = evaluated.get(key)
        if (known !== undefined) {
          // known neighbours take part in the round without being asked again
          if (known !== null) roundBest = better(roundBest, { key, arch: nb, objective: known })
        } else if (!pending.has(key)) queue.push(nb)
      }
      rng.shuffle(queue)
    }

    const restart = () => {
      current = null
      roundBest = null
      queue = []
      startBest = null
      startAsked = 0
      startTarget = o.restartSamples
      restarts++
      round++
    }

    /** Ends a round whose neighbours are all known: climb, or restart at a local optimum. */
    const endRound = () => {
      const c = current as Point
      if (roundBest !== null && roundBest.objective > c.objective) moveTo(roundBest)
      else restart()
    }

    const startDone = () => {
      if (startAsked < startTarget) return
      for (const kind of pending.values()) if (kind === START) return
      if (startBest !== null) moveTo(startBest)
      else {
        // every start sample failed: draw more
        startAsked = 0
      }
    }

    const next = (): { arch: Arch; kind: number } | null => {
      for (let guard = 0; guard < 1_000_000; guard++) {
        if (current === null) {
          if (startAsked < startTarget) {
            const arch = unseen.draw(rng)
            if (arch === null) return null
            startAsked++
            return { arch, kind: START }
          }
          // start samples are still out: explore meanwhile
          const arch = unseen.draw(rng)
          return arch === null ? null : { arch, kind: EXPLORE }
        }
        while (queue.length > 0) {
          const arch = queue.pop() as Arch
          if (!seen(space.key(arch))) return { arch, kind: round }
        }
        if (roundPending()) {
          const arch = unseen.draw(rng)
          return arch === null ? null : { arch, kind: EXPLORE }
        }
        endRound()
      }
      return null
    }

    return {
      ask(n: number): Proposal[] {
        const out: Proposal[] = []
        while (out.length < n) {
          const p = next()
          if (p === null) break
          const key = space.key(p.arch)
          pending.set(key, p.kind)
          unseen.add(key)
          out.push({ arch: p.arch })
        }
        return out
      },
      tell(results: readonly TrialResult[]): void {
        for (const r of results) {
          const kind = pending.get(r.key)
          pending.delete(r.key)
          const v = r.objective
          const ok = r.status === 'ok' && typeof v === 'number' && Number.isFinite(v)
          evaluated.set(r.key, ok ? v : null)
          unseen.add(r.key)
          if (!ok) continue
          const p: Point = { key: r.key, arch: r.arch, objective: v }
          if (kind === START && current === null) startBest = better(startBest, p)
          else if (kind === round && current !== null) {
            roundBest = better(roundBest, p)
            if (o.improvement === 'first' && p.objective > current.objective) moveTo(p)
          }
        }
        if (current === null) startDone()
      },
      status(): StrategyStatus {
        return unseen.status()
      },
      state(): JsonValue {
        const s: LocalSearchState = {
          version: 1,
          rng: rng.state(),
          evaluated: [...evaluated],
          pending: [...pending],
          current,
          roundBest,
          startBest,
          startAsked,
          startTarget,
          round,
          queue,
          restarts,
          enumerating: unseen.enumerating,
        }
        return JSON.parse(JSON.stringify(s)) as JsonValue
      },
      restore(state: JsonValue): void {
        const s = state as Partial<LocalSearchState> | null
        if (!s || typeof s !== 'object' || s.version !== 1) throw badState('wrong version')
        if (!Array.isArray(s.evaluated) || !Array.isArray(s.pending) || !Array.isArray(s.queue))
          throw badState('missing lists')
        const point = (p: unknown): Point | null => {
          if (p === null || p === undefined) return null
          const q = p as Point
          if (
            typeof q.key !== 'string' ||
            typeof q.objective !== 'number' ||
            !space.isValid(q.arch)
          )
            throw badState('bad point')
          return { key: q.key, arch: q.arch, objective: q.objective }
        }
        for (const a of s.queue) if (!space.isValid(a)) throw badState('bad queue entry')
        rng = Rng.fromState(s.rng)
        evaluated = new Map(
          s.evaluated.map(([k, v]) => [String(k), typeof v === 'number' ? v : null]),
        )
        pending = new Map(s.pending.map(([k, v]) => [String(k), Number(v)]))
        current = point(s.current)
        roundBest = point(s.roundBest)
        startBest = point(s.startBest)
        startAsked = Number(s.startAsked ?? 0)
        startTarget = Number(s.startTarget ?? o.initialSamples)
        round = Number(s.round ?? 0)
        queue = s.queue.map((a) => a as Arch)
        restarts = Number(s.restarts ?? 0)
        unseen.restore({
          seen: [...evaluated.keys(), ...pending.keys()],
          enumerating: s.enumerating === true,
        })
      },
    }
  },
})
