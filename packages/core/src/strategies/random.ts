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
import type { Arch } from '../space/types'

const options = {
  maxRejections: option.int({
    default: 64,
    min: 1,
    description:
      'Samples drawn per candidate before falling back to enumerating the unseen architectures.',
  }),
  enumerateLimit: option.int({
    default: 1_000_000,
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
    let seen = new Set<string>()
    let order: string[] = []
    let remaining: Arch[] | null = null
    const size = space.size()
    const finite = typeof size === 'bigint'

    const isExhausted = () => finite && BigInt(seen.size) >= (size as bigint)

    const remember = (key: string) => {
      seen.add(key)
      order.push(key)
    }

    const fromEnumeration = (): Arch | null => {
      if (!finite || (size as bigint) > BigInt(options.enumerateLimit)) return null
      if (remaining === null) {
        remaining = []
        for (const a of space.enumerate({ limit: options.enumerateLimit }))
          if (!seen.has(space.key(a))) remaining.push(a)
      }
      while (remaining.length > 0) {
        // order-preserving removal, so that a restored strategy rebuilds the same list
        const a = remaining.splice(rng.int(remaining.length), 1)[0] as Arch
        if (!seen.has(space.key(a))) return a
      }
      return null
    }

    return {
      ask(n: number): Proposal[] {
        const out: Proposal[] = []
        while (out.length < n && !isExhausted()) {
          let found: Arch | null = null
          if (remaining === null) {
            for (let t = 0; t < options.maxRejections; t++) {
              const a = space.sample(rng)
              if (!seen.has(space.key(a))) {
                found = a
                break
              }
            }
          }
          if (found === null) found = fromEnumeration()
          if (found === null) break
          remember(space.key(found))
          out.push({ arch: found })
        }
        return out
      },
      tell() {
        // random search does not learn
      },
      status(): StrategyStatus {
        if (isExhausted()) {
          return {
            done: true,
            reason: 'exhausted',
            message: `Space exhausted: all ${size.toString()} architectures of "${space.name}" were proposed.`,
          }
        }
        return { done: false }
      },
      state(): JsonValue {
        return { version: 1, rng: rng.state(), seen: order, enumerating: remaining !== null }
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
        order = [...(s.seen as string[])]
        seen = new Set(order)
        remaining = null
        if (s.enumerating === true) {
          remaining = []
          for (const a of space.enumerate({ limit: options.enumerateLimit }))
            if (!seen.has(space.key(a))) remaining.push(a)
        }
      },
    }
  },
})
