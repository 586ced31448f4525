import { describe, expect, it } from 'vitest'
import { createRng, isNaskitError, Rng } from '../src/index'

describe('Rng', () => {
  it('gives the same sequence for the same seed and different ones for different seeds', () => {
    const a = createRng(42)
    const b = createRng(42)
    const c = createRng(43)
    const sa = Array.from({ length: 20 }, () => a.uint32())
    expect(Array.from({ length: 20 }, () => b.uint32())).toEqual(sa)
    expect(Array.from({ length: 20 }, () => c.uint32())).not.toEqual(sa)
  })

  it('accepts string seeds', () => {
    expect(createRng('abc').next()).toBe(createRng('abc').next())
    expect(createRng('abc').next()).not.toBe(createRng('abd').next())
  })

  it('continues the exact sequence from its state', () => {
    const a = createRng(7)
    for (let i = 0; i < 13; i++) a.next()
    const b = Rng.fromState(JSON.parse(JSON.stringify(a.state())))
    for (let i = 0; i < 50; i++) expect(b.uint32()).toBe(a.uint32())
  })

  it('rejects malformed states with E_BAD_STATE', () => {
    for (const bad of [null, [1, 2, 3], [0, 0, 0, 0], [1, 2, 3, -1], 'x']) {
      try {
        Rng.fromState(bad)
        expect.unreachable()
      } catch (e) {
        expect(isNaskitError(e, 'E_BAD_STATE')).toBe(true)
      }
    }
  })

  it('forks independent, reproducible streams without advancing the parent', () => {
    const a = createRng(1)
    const before = a.state()
    const f1 = a.fork(1)
    const f2 = a.fork(2)
    expect(a.state()).toEqual(before)
    const s1 = Array.from({ length: 10 }, () => f1.uint32())
    const s2 = Array.from({ length: 10 }, () => f2.uint32())
    expect(s1).not.toEqual(s2)
    expect(Array.from({ length: 10 }, () => createRng(1).fork(1).uint32())[0]).toBe(s1[0])
    expect(a.fork('worker').next()).toBe(createRng(1).fork('worker').next())
  })

  it('draws uniform floats and integers in range', () => {
    const r = createRng(3)
    const counts = new Array(10).fill(0)
    let sum = 0
    for (let i = 0; i < 20_000; i++) {
      const x = r.next()
      expect(x).toBeGreaterThanOrEqual(0)
      expect(x).toBeLessThan(1)
      sum += x
      counts[r.int(10)]++
    }
    expect(sum / 20_000).toBeGreaterThan(0.48)
    expect(sum / 20_000).toBeLessThan(0.52)
    for (const c of counts) expect(Math.abs(c - 2000)).toBeLessThan(200)
    for (let i = 0; i < 100; i++) {
      const v = r.intBetween(-2, 2)
      expect(v).toBeGreaterThanOrEqual(-2)
      expect(v).toBeLessThanOrEqual(2)
    }
  })

  it('samples normals with the right mean and spread', () => {
    const r = createRng(9)
    const xs = Array.from({ length: 20_000 }, () => r.normal())
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length
    expect(Math.abs(mean)).toBeLessThan(0.03)
    expect(Math.abs(variance - 1)).toBeLessThan(0.05)
  })

  it('shuffles into a permutation and samples distinct indices', () => {
    const r = createRng(5)
    const xs = r.shuffle(Array.from({ length: 50 }, (_, i) => i))
    expect([...xs].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    const idx = r.sampleIndices(10, 4)
    expect(new Set(idx).size).toBe(4)
    for (const i of idx) expect(i).toBeLessThan(10)
  })
})
