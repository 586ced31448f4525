import { describe, expect, it, vi } from 'vitest'
import {
  type Arch,
  categorical,
  createRng,
  createUnseenSampler,
  defineSpace,
  float,
  int,
  isNaskitError,
  Rng,
} from '../src/index'

const tiny = () => defineSpace('tiny', { a: categorical(['x', 'y', 'z']), b: int(1, 4) })

/** Draws until the sampler gives nothing, returning the keys. */
function drain(
  space: ReturnType<typeof tiny>,
  sampler: ReturnType<typeof createUnseenSampler>,
  rng: Rng,
) {
  const keys: string[] = []
  for (let a = sampler.draw(rng); a !== null; a = sampler.draw(rng)) keys.push(space.key(a))
  return keys
}

describe('createUnseenSampler', () => {
  it('draws every architecture of a small space once, then reports exhaustion', () => {
    const space = tiny()
    const unseen = createUnseenSampler(space)
    expect(unseen.status()).toEqual({ done: false })
    const keys = drain(space, unseen, createRng(1))
    expect(keys).toHaveLength(12)
    expect(new Set(keys).size).toBe(12)
    expect(unseen.seenCount).toBe(12)
    expect(unseen.exhausted()).toBe(true)
    const status = unseen.status()
    expect(status.done && status.reason).toBe('exhausted')
    expect(status.done && status.message).toBe(
      'Space exhausted: all 12 architectures of "tiny" were proposed.',
    )
  })

  it('counts added keys as seen and never draws them', () => {
    const space = tiny()
    const unseen = createUnseenSampler(space)
    const taken = [
      { a: 'x', b: 1 },
      { a: 'z', b: 4 },
    ].map((a) => space.key(a))
    for (const k of taken) expect(unseen.add(k)).toBe(true)
    expect(unseen.add(taken[0] as string)).toBe(false)
    expect(unseen.has(taken[1] as string)).toBe(true)
    const keys = drain(space, unseen, createRng(2))
    expect(keys).toHaveLength(10)
    for (const k of taken) expect(keys).not.toContain(k)
  })

  it('enumerates the unseen remainder once and keeps it up to date', () => {
    const space = tiny()
    const enumerate = vi.spyOn(space, 'enumerate')
    const unseen = createUnseenSampler(space, { maxRejections: 0 })
    const rng = createRng(3)
    const first = unseen.draw(rng) as Arch
    expect(unseen.enumerating).toBe(true)
    // architectures proposed some other way while the list is in use
    const other = space.neighbours(first).map((a) => space.key(a))
    for (const k of other) unseen.add(k)
    const rest = drain(space, unseen, rng)
    expect(enumerate).toHaveBeenCalledTimes(1)
    expect(rest).toHaveLength(12 - 1 - new Set(other).size)
    for (const k of other) expect(rest).not.toContain(k)
  })

  it('tries the given proposals first', () => {
    const space = tiny()
    const unseen = createUnseenSampler(space)
    const fixed: Arch = { a: 'y', b: 2 }
    const propose = vi.fn(() => fixed)
    expect(unseen.draw(createRng(4), propose)).toEqual(fixed)
    expect(propose).toHaveBeenCalledTimes(1)
    // the proposal is seen now: after maxRejections tries, a pick among the others
    const next = unseen.draw(createRng(4), propose) as Arch
    expect(propose).toHaveBeenCalledTimes(65)
    expect(space.key(next)).not.toBe(space.key(fixed))
    expect(unseen.enumerating).toBe(true)
  })

  it('gives up without enumerating a space over the limit or a continuous one', () => {
    for (const space of [tiny(), defineSpace('c', { lr: float(0, 1) })]) {
      const unseen = createUnseenSampler(space, { maxRejections: 3, enumerateLimit: 5 })
      const rng = createRng(5)
      const arch = unseen.draw(rng) as Arch
      expect(unseen.draw(rng, () => arch)).toBeNull()
      expect(unseen.enumerating).toBe(false)
      expect(unseen.exhausted()).toBe(false)
    }
  })

  it('restores from its JSON state and continues the exact sequence', () => {
    const space = tiny()
    for (const maxRejections of [0, 64]) {
      const b = createUnseenSampler(space, { maxRejections })
      const rngB = createRng(6)
      for (let i = 0; i < 5; i++) b.draw(rngB)
      const saved = JSON.parse(JSON.stringify({ unseen: b.state(), rng: rngB.state() }))
      const c = createUnseenSampler(space, { maxRejections })
      c.restore(saved.unseen)
      expect(c.seenCount).toBe(5)
      expect(c.enumerating).toBe(b.enumerating)
      expect(drain(space, c, Rng.fromState(saved.rng))).toEqual(drain(space, b, rngB))
    }
  })

  it('refuses a state that is not its own', () => {
    const unseen = createUnseenSampler(tiny())
    for (const bad of [null, 3, {}, { seen: [1] }, { seen: [], enumerating: 'yes' }]) {
      expect(() => unseen.restore(bad)).toThrow(
        expect.objectContaining({ code: 'E_BAD_STATE' }) as Error,
      )
    }
  })

  it('refuses negative or fractional counts', () => {
    for (const options of [{ maxRejections: -1 }, { enumerateLimit: 1.5 }]) {
      try {
        createUnseenSampler(tiny(), options)
        expect.unreachable()
      } catch (err) {
        expect(isNaskitError(err, 'E_BAD_OPTIONS')).toBe(true)
      }
    }
  })
})
