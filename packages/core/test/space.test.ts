import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  categorical,
  cell,
  chainSpace,
  createRng,
  dartsSpace,
  defineSpace,
  float,
  group,
  int,
  isNaskitError,
  nasnetSpace,
  nb201Space,
  repeat,
  SearchSpace,
} from '../src/index'

const spaces = [
  nb201Space(),
  chainSpace(),
  chainSpace({
    resolution: { low: 16, high: 28, step: 4 },
    widthMultiplier: { low: 0.5, high: 1.5 },
  }),
  nasnetSpace(),
  dartsSpace(),
  defineSpace('nested', {
    lr: float(1e-4, 1e-1, { log: true }),
    stem: group({ width: int(8, 64, { step: 8 }), act: categorical(['relu', 'gelu']) }),
    stages: repeat(
      { min: 1, max: 3 },
      {
        blocks: repeat({ min: 0, max: 2 }, { k: categorical([3, 5]) }),
        dense: categorical([true, false]),
      },
    ),
  }),
]

function expectCode(fn: () => unknown, code: string, text?: RegExp) {
  try {
    fn()
  } catch (e) {
    expect(isNaskitError(e, code), String(e)).toBe(true)
    if (text) expect((e as Error).message).toMatch(text)
    return
  }
  expect.unreachable(`expected ${code}`)
}

describe('search space properties', () => {
  for (const space of spaces) {
    describe(space.name, () => {
      const seeds = fc.integer({ min: 0, max: 2 ** 31 })

      it('samples always validate, and validation returns the same key', () => {
        fc.assert(
          fc.property(seeds, (seed) => {
            const a = space.sample(createRng(seed))
            const v = space.validate(a)
            expect(space.key(v)).toBe(space.key(a))
          }),
          { numRuns: 200 },
        )
      })

      it('keys are canonical: equal architectures share a key, and JSON round-trips keep it', () => {
        fc.assert(
          fc.property(seeds, (seed) => {
            const a = space.sample(createRng(seed))
            const b = JSON.parse(JSON.stringify(a))
            expect(space.key(b)).toBe(space.key(a))
            expect(space.canonicalize(b)).toEqual(space.canonicalize(a))
          }),
          { numRuns: 200 },
        )
      })

      it('encodings have a constant length with values in [0, 1]', () => {
        fc.assert(
          fc.property(seeds, (seed) => {
            const e = space.encode(space.sample(createRng(seed)))
            expect(e.length).toBe(space.encodingLength)
            for (const x of e) expect(x >= 0 && x <= 1).toBe(true)
          }),
          { numRuns: 200 },
        )
      })

      it('mutations are valid and differ from their parent', () => {
        fc.assert(
          fc.property(seeds, (seed) => {
            const rng = createRng(seed)
            const a = space.sample(rng)
            const m = space.mutate(a, rng)
            expect(space.isValid(m)).toBe(true)
            expect(space.key(m)).not.toBe(space.key(a))
          }),
          { numRuns: 200 },
        )
      })

      it('neighbours are valid, distinct from the architecture and from each other', () => {
        fc.assert(
          fc.property(seeds, (seed) => {
            const a = space.sample(createRng(seed))
            const key = space.key(a)
            const ns = space.neighbours(a)
            expect(ns.length).toBeGreaterThan(0)
            const keys = ns.map((n) => {
              expect(space.isValid(n)).toBe(true)
              return space.key(n)
            })
            expect(keys).not.toContain(key)
            expect(new Set(keys).size).toBe(keys.length)
          }),
          { numRuns: 50 },
        )
      })

      it('round-trips through JSON and keeps its behaviour', () => {
        const copy = SearchSpace.fromJSON(JSON.parse(JSON.stringify(space.toJSON())))
        expect(copy.toJSON()).toEqual(space.toJSON())
        expect(copy.size()).toEqual(space.size())
        const a = space.sample(createRng(3))
        const b = copy.sample(createRng(3))
        expect(copy.key(b)).toBe(space.key(a))
      })

      it('build and trace agree: replaying a trace rebuilds the architecture', () => {
        fc.assert(
          fc.property(seeds, (seed) => {
            const a = space.sample(createRng(seed))
            const steps = space.trace(a)
            let i = 0
            const rebuilt = space.build((point) => {
              const step = steps[i++]!
              expect(point.id).toBe(step.point.id)
              expect(step.index).toBeGreaterThanOrEqual(0)
              expect(step.index).toBeLessThan(point.n)
              return step.index
            })
            expect(i).toBe(steps.length)
            expect(space.isValid(rebuilt)).toBe(true)
            if (space.name !== 'nested' && !space.name.startsWith('chain'))
              expect(space.key(rebuilt)).toBe(space.key(a))
          }),
          { numRuns: 100 },
        )
      })
    })
  }
})

describe('sizes and enumeration', () => {
  it('counts the built-in spaces exactly', () => {
    expect(nb201Space().size()).toBe(15_625n)
    // DARTS: per cell ∏_i C(2+i, 2)·8² = 64·192·384·640, two cells
    expect(dartsSpace().size()).toBe((64n * 192n * 384n * 640n) ** 2n)
    const chain = chainSpace()
    let layers = 0n
    for (let d = 4n; d <= 12n; d++) layers += 8n ** d
    expect(chain.size()).toBe(layers * 5n * 6n)
    expect(chainSpace({ widthMultiplier: { low: 0.5, high: 1.5 } }).size()).toBe(
      Number.POSITIVE_INFINITY,
    )
  })

  it('enumerates small spaces completely and without duplicates', () => {
    const s = defineSpace('small', {
      a: categorical(['x', 'y']),
      r: repeat({ min: 0, max: 2 }, { b: int(1, 3) }),
      c: cell({ inputs: 2, nodes: 2, ops: ['p', 'q'], inputsPerNode: 2 }),
    })
    const keys = [...s.enumerate()].map((a) => {
      expect(s.isValid(a)).toBe(true)
      return s.key(a)
    })
    expect(BigInt(keys.length)).toBe(s.size())
    expect(new Set(keys).size).toBe(keys.length)
    expect(s.size()).toBe(2n * (1n + 3n + 9n) * (1n * 4n * (3n * 4n)))
  })

  it('refuses to enumerate large or continuous spaces with E_SPACE_TOO_LARGE', () => {
    expectCode(() => chainSpace().enumerate().next(), 'E_SPACE_TOO_LARGE', /enumeration limit/)
    expectCode(
      () =>
        defineSpace('f', { x: float(0, 1) })
          .enumerate()
          .next(),
      'E_SPACE_TOO_LARGE',
      /continuous/,
    )
    expect([...nb201Space().enumerate({ limit: 15_625 })].length).toBe(15_625)
  })
})

describe('encoding', () => {
  it('one-hot encodes categoricals and cells, normalises numbers, zeroes inactive layers', () => {
    const s = defineSpace('enc', {
      op: categorical(['a', 'b', 'c']),
      w: float(0, 10),
      n: int(1, 100, { log: true }),
      layers: repeat({ min: 1, max: 3 }, { k: categorical([3, 5]) }),
    })
    const e = s.encode({ op: 'b', w: 2.5, n: 10, layers: [{ k: 5 }] })
    expect(e.slice(0, 3)).toEqual([0, 1, 0])
    expect(e[3]).toBeCloseTo(0.25)
    expect(e[4]).toBeCloseTo(0.5)
    expect(e.slice(5)).toEqual([0, 0, 1, 0, 0, 0, 0])
  })
})

describe('validation', () => {
  const chain = chainSpace()
  const good = {
    layers: Array.from({ length: 4 }, () => ({ op: 'conv_3x3' })),
    width_multiplier: 1,
    resolution: 256,
  }

  it('accepts members', () => {
    expect(chain.isValid(good)).toBe(true)
  })

  it('names the offending decision', () => {
    const cases: Array<[unknown, RegExp]> = [
      [
        { ...good, layers: [...good.layers.slice(0, 3), { op: 'conv_9x9' }] },
        /layers\[3\]\.op: "conv_9x9" is not one of conv_3x3/,
      ],
      [
        { ...good, layers: good.layers.slice(0, 2) },
        /layers: has 2 blocks; the count must be within 4–12/,
      ],
      [{ ...good, width_multiplier: 2 }, /width_multiplier: 2 is outside \[0.5, 1.5\]/],
      [{ ...good, width_multiplier: 0.6 }, /width_multiplier: 0.6 is not on the grid/],
      [{ ...good, resolution: 250 }, /resolution: 250 is not on the grid/],
      [{ ...good, resolution: '224' }, /resolution: "224" is not a finite number/],
      [{ layers: good.layers, width_multiplier: 1 }, /resolution: is missing/],
      [{ ...good, depth: 4 }, /depth: is not a decision of this space/],
      [null, /expected an object/],
    ]
    for (const [arch, text] of cases) expectCode(() => chain.validate(arch), 'E_INVALID_ARCH', text)
  })

  it('checks cells: inputs, fan-in, duplicates and ops', () => {
    const darts = dartsSpace()
    const a = darts.sample(createRng(1)) as {
      normal: { nodes: Array<{ inputs: number[]; ops: string[] }> }
    }
    const bad1 = structuredClone(a)
    bad1.normal.nodes[0]!.inputs = [0, 0]
    expectCode(
      () => darts.validate(bad1),
      'E_INVALID_ARCH',
      /normal\.nodes\[0\]\.inputs\[1\]: input 0 appears twice/,
    )
    const bad2 = structuredClone(a)
    bad2.normal.nodes[1]!.inputs = [0, 3]
    expectCode(() => darts.validate(bad2), 'E_INVALID_ARCH', /not a predecessor of node 3/)
    const bad3 = structuredClone(a)
    bad3.normal.nodes[2]!.ops[1] = 'conv_9x9'
    expectCode(
      () => darts.validate(bad3),
      'E_INVALID_ARCH',
      /normal\.nodes\[2\]\.ops\[1\]: "conv_9x9"/,
    )
    const swapped = structuredClone(a)
    const n = swapped.normal.nodes[3]!
    n.inputs.reverse()
    n.ops.reverse()
    expect(darts.key(swapped)).toBe(darts.key(a))
    expect(darts.validate(swapped)).toEqual(darts.canonicalize(a))
  })
})

describe('invalid spaces', () => {
  const cases: Array<[() => unknown, RegExp]> = [
    [
      () => defineSpace('e', { a: categorical([]) }),
      /a: a categorical decision needs at least one choice/,
    ],
    [() => defineSpace('e', { a: categorical(['x', 'x']) }), /a: choice "x" appears twice/],
    [() => defineSpace('e', { a: int(5, 1) }), /a: low \(5\) is greater than high \(1\)/],
    [() => defineSpace('e', { a: float(0, 1, { log: true }) }), /log-scale decision needs low > 0/],
    [() => defineSpace('e', { a: int(0, 1, { step: 0.5 }) }), /integer step/],
    [
      () => defineSpace('e', { r: repeat({ min: 3, max: 2 }, { a: categorical([1]) }) }),
      /r: repeat min \(3\) is greater than max \(2\)/,
    ],
    [
      () => defineSpace('e', { c: cell({ inputs: 1, nodes: 2, ops: ['a'], inputsPerNode: 2 }) }),
      /c: inputsPerNode \(2\) exceeds/,
    ],
    [
      () => defineSpace('e', { c: cell({ inputs: 1, nodes: 2, ops: [] }) }),
      /c: a cell needs at least one op/,
    ],
    [() => defineSpace('e', { 'bad name': categorical([1]) }), /bad name: decision names/],
    [() => defineSpace('e', {}), /at least one decision/],
    [() => defineSpace('', { a: categorical([1]) }), /non-empty `name`/],
    [
      () => defineSpace('e', { g: group({ x: { type: 'wat' } as never }) }),
      /g\.x: unknown decision type "wat"/,
    ],
    [() => defineSpace('e', { a: categorical(['a;b']) }), /reserved characters/],
  ]
  it('rejects each with E_INVALID_SPACE naming the decision', () => {
    for (const [make, text] of cases) expectCode(make, 'E_INVALID_SPACE', text)
  })
})

describe('mutation', () => {
  it('changes exactly one decision of a fixed-structure space', () => {
    const s = nb201Space()
    const rng = createRng(4)
    for (let i = 0; i < 200; i++) {
      const a = s.sample(rng)
      const m = s.mutate(a, rng)
      const ea = s.encode(a)
      const em = s.encode(m)
      const diff = ea.reduce((d, x, j) => d + (x !== em[j] ? 1 : 0), 0)
      expect(diff).toBe(2)
    }
  })

  it('gives 24 neighbours for every NAS-Bench-201 cell', () => {
    const s = nb201Space()
    expect(s.neighbours(s.sample(createRng(1))).length).toBe(24)
  })

  it('refuses to mutate a single-architecture space', () => {
    const s = defineSpace('one', { a: categorical(['x']) })
    expectCode(
      () => s.mutate(s.sample(createRng(1)), createRng(1)),
      'E_SPACE_TOO_LARGE',
      /single architecture/,
    )
  })
})
