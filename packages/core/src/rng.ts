import { NaskitError } from './errors'

/** Serialised state of an {@link Rng}: four unsigned 32-bit words. */
export type RngState = [number, number, number, number]

function splitmix32(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return (z ^ (z >>> 16)) >>> 0
  }
}

/** FNV-1a hash of a string to 32 bits. */
export function hashString(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

function seedWords(seed: number | string): RngState {
  let s: number
  if (typeof seed === 'string') s = hashString(seed)
  else {
    if (!Number.isFinite(seed))
      throw new NaskitError('E_BAD_OPTIONS', `Seed must be a finite number, got ${seed}.`)
    // fold numbers beyond 32 bits so that large seeds still differ
    s = (Math.trunc(seed) ^ Math.trunc(seed / 4294967296)) >>> 0
  }
  const next = splitmix32(s)
  const w: RngState = [next(), next(), next(), next()]
  if ((w[0] | w[1] | w[2] | w[3]) === 0) w[0] = 1
  return w
}

/**
 * A fast, seeded pseudo-random generator (xoshiro128**). Every random choice in naskit flows
 * from one of these, so the same seed gives the same search. `fork(label)` derives an
 * independent stream (one per worker, per trial…) without advancing this one.
 */
export class Rng {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(seed: number | string = 0) {
    const w = seedWords(seed)
    this.a = w[0]
    this.b = w[1]
    this.c = w[2]
    this.d = w[3]
  }

  /** Rebuilds a generator from {@link Rng.state}. */
  static fromState(state: unknown): Rng {
    if (
      !Array.isArray(state) ||
      state.length !== 4 ||
      state.some((v) => typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) ||
      state.every((v) => v === 0)
    ) {
      throw new NaskitError(
        'E_BAD_STATE',
        'RNG state must be an array of four unsigned 32-bit integers, not all zero.',
      )
    }
    const r = new Rng(0)
    r.a = state[0] >>> 0
    r.b = state[1] >>> 0
    r.c = state[2] >>> 0
    r.d = state[3] >>> 0
    return r
  }

  /** The next unsigned 32-bit integer. */
  uint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0
    const t = this.b << 9
    this.c ^= this.a
    this.d ^= this.b
    this.b ^= this.c
    this.a ^= this.d
    this.c ^= t
    this.d = rotl(this.d, 11)
    return result
  }

  /** A float in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296
  }

  /** An integer in [0, n). */
  int(n: number): number {
    if (!(n > 0)) throw new NaskitError('E_BAD_OPTIONS', `Rng.int(n) needs n > 0, got ${n}.`)
    return Math.floor(this.next() * n)
  }

  /** An integer in [low, high], both inclusive. */
  intBetween(low: number, high: number): number {
    return low + this.int(high - low + 1)
  }

  /** A float in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next()
  }

  /** True with probability p. */
  bool(p = 0.5): boolean {
    return this.next() < p
  }

  /** A standard normal sample (Box–Muller). */
  normal(mean = 0, std = 1): number {
    let u = 0
    while (u === 0) u = this.next()
    const v = this.next()
    return mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }

  /** A uniformly chosen element. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0)
      throw new NaskitError('E_BAD_OPTIONS', 'Rng.pick() needs a non-empty array.')
    return items[this.int(items.length)] as T
  }

  /** Shuffles in place (Fisher–Yates) and returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1)
      const t = items[i] as T
      items[i] = items[j] as T
      items[j] = t
    }
    return items
  }

  /** k distinct indices from [0, n), in random order. */
  sampleIndices(n: number, k: number): number[] {
    const idx = Array.from({ length: n }, (_, i) => i)
    for (let i = 0; i < k; i++) {
      const j = i + this.int(n - i)
      const t = idx[i] as number
      idx[i] = idx[j] as number
      idx[j] = t
    }
    return idx.slice(0, k)
  }

  /**
   * An independent generator derived from this one's current state and a label (a worker
   * index, a trial id, a purpose). Does not advance this generator.
   */
  fork(label: string | number): Rng {
    const h = typeof label === 'number' ? (label * 0x9e3779b1) >>> 0 : hashString(label)
    const mix = splitmix32((this.a ^ h ^ rotl(this.c, 13)) >>> 0)
    const mix2 = splitmix32((this.b ^ this.d ^ rotl(h, 7) ^ 0x5bd1e995) >>> 0)
    return Rng.fromState([(mix() ^ mix2()) >>> 0, mix(), mix2(), (mix() | 1) >>> 0] as RngState)
  }

  /** A 32-bit seed drawn from this stream (for libraries that take a numeric seed). */
  seed(): number {
    return this.uint32()
  }

  /** The state, JSON-serialisable; {@link Rng.fromState} continues the exact sequence. */
  state(): RngState {
    return [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0]
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0
}

/** Creates a seeded generator. */
export function createRng(seed: number | string = 0): Rng {
  return new Rng(seed)
}
