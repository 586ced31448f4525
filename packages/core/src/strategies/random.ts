import {
  defineStrategy,
  type Proposal,
  type SamplingStrategy,
  type StrategyStatus,
} from '../contracts'
import { NaskitError } from '../errors'
import type { JsonValue } from '../json'
import { option } from '../options'
import { Rng } from '../rng'
import { DEFAULT_ENUMERATE_LIMIT } from '../space/space'
import { createUnseenSampler } from './unseen'

const options = {
  maxRejections: option.int({
    default: 64,
    min: 1,
    description:
      'Samples drawn per candidate before falling back to enumerating the unseen architectures.',
  }),
  enumerateLimit: option.int({
    default: DEFAULT_ENUMERATE_LIMIT,
    min: 1,
    description: 'Largest space that is enumerated to find the last unseen architectures.',
  }),
}

/**
 * Random search: uniform samples of the space, never the same architecture twice within an
 * experiment. On a small space it ends with status "exhausted" once every architecture was asked.
 */
export const randomStrategy = defineStrategy({
  name: 'random',
  kind: 'sampling',
  description: 'Uniform random sampling without repeats; the baseline every strategy must beat.',
  options,
  create({ space, rng: initialRng, options }): SamplingStrategy {
    let rng = initialRng
    const unseen = createUnseenSampler(space, options)

    return {
      ask(n: number): Proposal[] {
        const out: Proposal[] = []
        while (out.length < n) {
          const arch = unseen.draw(rng)
          if (arch === null) break
          out.push({ arch })
        }
        return out
      },
      tell() {
        // random search does not learn
      },
      status(): StrategyStatus {
        return unseen.status()
      },
      state(): JsonValue {
        return { version: 1, rng: rng.state(), ...unseen.state() }
      },
      restore(state: JsonValue) {
        const s = state as {
          version?: unknown
          rng?: unknown
          seen?: unknown
          enumerating?: unknown
        } | null
        if (
          s?.version !== 1 ||
          !Array.isArray(s.seen) ||
          s.seen.some((k) => typeof k !== 'string')
        ) {
          throw new NaskitError(
            'E_BAD_STATE',
            'Random strategy: the checkpoint is not a version-1 random-search state.',
          )
        }
        rng = Rng.fromState(s.rng)
        unseen.restore({ seen: s.seen, enumerating: s.enumerating === true })
      },
    }
  },
})
