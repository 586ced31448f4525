import type { StrategyStatus } from '../contracts'
import { NaskitError } from '../errors'
import type { Rng } from '../rng'
import { DEFAULT_ENUMERATE_LIMIT, type SearchSpace } from '../space/space'
import type { Arch } from '../space/types'

/** Options of {@link createUnseenSampler}. */
export interface UnseenSamplerOptions {
  /**
   * Proposals tried per draw before the unseen architectures of a small space are enumerated.
   * @default 64
   */
  maxRejections?: number
  /**
   * Largest space whose unseen architectures are enumerated once proposals keep hitting seen
   * ones; a larger (or continuous) space only gets proposals.
   * @default DEFAULT_ENUMERATE_LIMIT (1,000,000)
   */
  enumerateLimit?: number
}

/** The checkpoint of an {@link UnseenSampler}: plain JSON. */
export interface UnseenSamplerState {
  /** Keys of the architectures seen, in the order they were first seen. */
  seen: string[]
  /** Whether the unseen architectures were enumerated (draws then pick among them). */
  enumerating: boolean
}

/**
 * Remembers the architectures a strategy has seen and draws ones it has not. Made by
 * {@link createUnseenSampler}.
 */
export interface UnseenSampler {
  /** Number of architectures seen. */
  readonly seenCount: number
  /** True once the unseen architectures were enumerated: draws pick among them. */
  readonly enumerating: boolean
  /** Whether the architecture with this key (`space.key(arch)`) was seen. */
  has(key: string): boolean
  /** Counts an architecture as seen (one proposed without {@link draw}); false if it was. */
  add(key: string): boolean
  /**
   * An architecture not seen yet, now counted as seen; null when there is none, or when a
   * space too large to enumerate gave only seen ones. Up to `maxRejections` candidates of
   * `propose` (uniform samples by default) are tried; when all were seen, the unseen
   * architectures of a small space are enumerated, once, and this draw and every later one
   * is a uniform pick among them.
   */
  draw(rng: Rng, propose?: (rng: Rng) => Arch): Arch | null
  /** True when every architecture of a finite space was seen. */
  exhausted(): boolean
  /** `{ done: true, reason: 'exhausted', message }` once {@link exhausted}, else `{ done: false }`. */
  status(): StrategyStatus
  /** Everything the next draws depend on, except the random stream (a copy). */
  state(): UnseenSamplerState
  /** Continues from {@link state}; `E_BAD_STATE` when it is not one. */
  restore(state: unknown): void
}

function checkCount(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new NaskitError(
      'E_BAD_OPTIONS',
      `createUnseenSampler: ${name} must be an integer ≥ 0, got ${String(value)}.`,
    )
  }
  return value
}

class Sampler implements UnseenSampler {
  private seen = new Set<string>()
  /** The unseen architectures in enumeration order, once enumerated. */
  private remaining: Array<{ arch: Arch; key: string }> | null = null
  /** Architectures were added since `remaining` was last filtered. */
  private stale = false
  private readonly size: bigint | number
  private readonly maxRejections: number
  private readonly enumerateLimit: number

  constructor(
    private readonly space: SearchSpace,
    options: UnseenSamplerOptions,
  ) {
    this.size = space.size()
    this.maxRejections = checkCount('maxRejections', options.maxRejections ?? 64)
    this.enumerateLimit = checkCount(
      'enumerateLimit',
      options.enumerateLimit ?? DEFAULT_ENUMERATE_LIMIT,
    )
  }

  get seenCount(): number {
    return this.seen.size
  }

  get enumerating(): boolean {
    return this.remaining !== null
  }

  has(key: string): boolean {
    return this.seen.has(key)
  }

  add(key: string): boolean {
    if (this.seen.has(key)) return false
    this.seen.add(key)
    if (this.remaining !== null) this.stale = true
    return true
  }

  draw(rng: Rng, propose: (rng: Rng) => Arch = (r) => this.space.sample(r)): Arch | null {
    if (this.exhausted()) return null
    if (this.remaining === null) {
      for (let t = 0; t < this.maxRejections; t++) {
        const arch = propose(rng)
        const key = this.space.key(arch)
        if (!this.seen.has(key)) {
          this.seen.add(key)
          return arch
        }
      }
      if (typeof this.size !== 'bigint' || this.size > BigInt(this.enumerateLimit)) return null
      this.enumerate()
    }
    let list = this.remaining as Array<{ arch: Arch; key: string }>
    if (this.stale) {
      // enumeration order is kept, so that a restored sampler holds the very same list
      list = list.filter((e) => !this.seen.has(e.key))
      this.remaining = list
      this.stale = false
    }
    if (list.length === 0) return null
    const picked = list.splice(rng.int(list.length), 1)[0] as { arch: Arch; key: string }
    this.seen.add(picked.key)
    return picked.arch
  }

  private enumerate(): void {
    const list: Array<{ arch: Arch; key: string }> = []
    for (const arch of this.space.enumerate({ limit: this.enumerateLimit })) {
      const key = this.space.key(arch)
      if (!this.seen.has(key)) list.push({ arch, key })
    }
    this.remaining = list
    this.stale = false
  }

  exhausted(): boolean {
    return typeof this.size === 'bigint' && BigInt(this.seen.size) >= this.size
  }

  status(): StrategyStatus {
    if (!this.exhausted()) return { done: false }
    return {
      done: true,
      reason: 'exhausted',
      message: `Space exhausted: all ${this.size.toString()} architectures of "${this.space.name}" were proposed.`,
    }
  }

  state(): UnseenSamplerState {
    return { seen: [...this.seen], enumerating: this.remaining !== null }
  }

  restore(state: unknown): void {
    const s = state as Partial<UnseenSamplerState> | null
    if (
      s === null ||
      typeof s !== 'object' ||
      !Array.isArray(s.seen) ||
      s.seen.some((k) => typeof k !== 'string') ||
      (s.enumerating !== undefined && typeof s.enumerating !== 'boolean')
    ) {
      throw new NaskitError(
        'E_BAD_STATE',
        'The checkpoint holds no unseen-sampler state ({ seen: string[], enumerating: boolean }).',
      )
    }
    this.seen = new Set(s.seen)
    this.remaining = null
    if (s.enumerating === true) this.enumerate()
  }
}

/**
 * Draws architectures of `space` that were not seen yet, for strategies that must not propose
 * one twice: it remembers every key it drew or was told of, tries proposals (uniform samples,
 * or the strategy's own, such as mutations) until one is unseen, and once they keep hitting
 * seen ones on a small space, enumerates the unseen remainder once and picks from it. Its
 * {@link UnseenSampler.state} goes into the strategy's checkpoint; the random stream stays the
 * strategy's own.
 */
export function createUnseenSampler(
  space: SearchSpace,
  options: UnseenSamplerOptions = {},
): UnseenSampler {
  return new Sampler(space, options)
}
