import type { Arch, Rng, SearchSpace } from '@naskit/core'

/** Largest space whose unseen architectures are enumerated once sampling stops finding them. */
export const ENUMERATE_LIMIT = 1_000_000

/** Samples tried before falling back to enumerating the unseen architectures. */
const REJECTIONS = 64

/**
 * Draws architectures not yet seen: uniform samples first, and once those keep hitting seen
 * ones, a uniform pick among the enumerated unseen architectures of a small finite space.
 */
export class UnseenSampler {
  private readonly finite: boolean
  private readonly size: bigint | number
  private remaining: Array<{ arch: Arch; key: string }> | null = null

  constructor(
    private readonly space: SearchSpace,
    private readonly isSeen: (key: string) => boolean,
    private readonly seenCount: () => number,
  ) {
    this.size = space.size()
    this.finite = typeof this.size === 'bigint'
  }

  /** True when every architecture of a finite space was seen. */
  exhausted(): boolean {
    return this.finite && BigInt(this.seenCount()) >= (this.size as bigint)
  }

  /** Total number of architectures, as text. */
  sizeText(): string {
    return this.size.toString()
  }

  /** An unseen architecture, or null when there is none (or none can be found). */
  draw(rng: Rng): Arch | null {
    if (this.exhausted()) return null
    if (this.remaining === null) {
      for (let t = 0; t < REJECTIONS; t++) {
        const a = this.space.sample(rng)
        if (!this.isSeen(this.space.key(a))) return a
      }
      if (!this.finite || (this.size as bigint) > BigInt(ENUMERATE_LIMIT)) return null
      this.fill()
    }
    // keep enumeration order, so that a restored strategy rebuilds the very same list
    const list = (this.remaining as Array<{ arch: Arch; key: string }>).filter(
      (e) => !this.isSeen(e.key),
    )
    this.remaining = list
    if (list.length === 0) return null
    return (list.splice(rng.int(list.length), 1)[0] as { arch: Arch }).arch
  }

  private fill(): void {
    this.remaining = []
    for (const arch of this.space.enumerate({ limit: ENUMERATE_LIMIT })) {
      const key = this.space.key(arch)
      if (!this.isSeen(key)) this.remaining.push({ arch, key })
    }
  }

  /** Whether the enumeration fallback is in use (part of a strategy's state). */
  get enumerating(): boolean {
    return this.remaining !== null
  }

  /** Restores the enumeration fallback after a restore of the seen set. */
  setEnumerating(on: boolean): void {
    this.remaining = null
    if (on) this.fill()
  }
}
