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
    default: 4,
    min: 1,
    description: 'Random architectures evaluated before the first climb, and after each restart.',
  }),
  patience: option.int({
    default: 0,
    min: 0,
    description:
      'Neighbours tried without improvement before restarting from a random architecture (0: all of them).',
  }),
  maxRejections: option.int({
    default: 64,
    min: 1,
    description:
      'Random draws per candidate before enumerating the unseen architectures of a small space.',
  }),
}

interface Incumbent {
  arch: Arch
  key: string
  objective: number
}

interface HillclimbState {
  version: 1
  rng: JsonValue
  seen: string[]
  /** Whether the unseen architectures were enumerated (absent in older checkpoints). */
  enumerating?: boolean
  incumbent: Incumbent | null
  queue: Arch[]
  randomLeft: number
  tried: number
}

/**
 * Hill climbing with restarts: evaluate a few random architectures, then repeatedly try the
 * unseen neighbours (one decision changed) of the best architecture so far, moving as soon
 * as one is better; when every neighbour (or `patience` of them) failed to improve, restart
 * from random architectures. Never proposes an architecture twice.
 */
export const hillclimbStrategy = defineStrategy({
  name: 'hillclimb',
  kind: 'sampling',
  description: 'Hill climbing over one-decision neighbours, with random restarts.',
  options,
  create({ space, rng: initialRng, options: o }): SamplingStrategy {
    let rng = initialRng
    // every architecture proposed; draws the random ones
    const seen = createUnseenSampler(space, { maxRejections: o.maxRejections })
    let incumbent: Incumbent | null = null
    let queue: Arch[] = []
    let randomLeft = o.initialSamples
    let tried = 0

    const climbFrom = (inc: Incumbent) => {
      queue = rng.shuffle(space.neighbours(inc.arch).filter((a) => !seen.has(space.key(a))))
      tried = 0
    }

    const next = (): Arch | null => {
      if (randomLeft === 0 && incumbent !== null) {
        if (queue.length === 0 && tried === 0) climbFrom(incumbent)
        while (queue.length > 0 && (o.patience === 0 || tried < o.patience)) {
          const a = queue.shift() as Arch
          if (seen.add(space.key(a))) {
            tried++
            return a
          }
        }
        // stuck at a local optimum: restart
        randomLeft = o.initialSamples
        incumbent = null
        queue = []
      }
      const a = seen.draw(rng)
      if (a !== null && randomLeft > 0) randomLeft--
      return a
    }

    return {
      ask(n: number): Proposal[] {
        const out: Proposal[] = []
        while (out.length < n && !seen.exhausted()) {
          const a = next()
          if (a === null) break
          out.push({ arch: a })
        }
        return out
      },
      tell(results: readonly TrialResult[]) {
        for (const r of results) {
          if (r.status !== 'ok' || r.objective === null || !Number.isFinite(r.objective)) continue
          const better =
            incumbent === null ||
            r.objective > incumbent.objective ||
            (r.objective === incumbent.objective && r.key < incumbent.key)
          if (better) {
            incumbent = { arch: r.arch, key: r.key, objective: r.objective }
            if (randomLeft === 0) climbFrom(incumbent)
          }
        }
      },
      status(): StrategyStatus {
        return seen.status()
      },
      state(): JsonValue {
        const s: HillclimbState = {
          version: 1,
          rng: rng.state(),
          ...seen.state(),
          incumbent,
          queue,
          randomLeft,
          tried,
        }
        return s as unknown as JsonValue
      },
      restore(state: JsonValue) {
        const s = state as Partial<HillclimbState> | null
        if (s?.version !== 1 || !Array.isArray(s.seen) || !Array.isArray(s.queue)) {
          throw new NaskitError(
            'E_BAD_STATE',
            'hillclimb: the checkpoint is not a version-1 hill-climbing state.',
          )
        }
        rng = Rng.fromState(s.rng)
        seen.restore({ seen: s.seen, enumerating: s.enumerating === true })
        incumbent = s.incumbent ?? null
        queue = [...s.queue]
        randomLeft = s.randomLeft ?? 0
        tried = s.tried ?? 0
      },
    }
  },
})

/** Every strategy of this package (the naskit convention). */
export const strategies = [hillclimbStrategy]

export default hillclimbStrategy
