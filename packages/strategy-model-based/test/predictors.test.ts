import { type Arch, chainSpace, createRng, nb201FromString, nb201Space } from '@naskit/core'
import { describe, expect, it } from 'vitest'
import {
  createEncoder,
  createEnsemblePredictor,
  createGpPredictor,
  kendallTau,
  pathFeatureCount,
} from '../src/index'
import { normalCdf, normalQuantile } from '../src/acquisition'
import { transformObjectives } from '../src/transform'

const space = nb201Space()
/** A smooth stand-in objective: 3×3 convolutions help, `none` edges hurt. */
const objective = (a: Arch) => {
  const s = JSON.stringify(a)
  return (
    2 * (s.split('nor_conv_3x3').length - 1) +
    (s.split('skip').length - 1) * 0.5 -
    (s.split('none').length - 1)
  )
}
const sample = (n: number, seed: number) => {
  const rng = createRng(seed)
  return Array.from({ length: n }, () => space.sample(rng))
}

describe('kendallTau', () => {
  it('is 1 for the same order, −1 for the reverse, and counts ties', () => {
    expect(kendallTau([1, 2, 3, 4], [10, 20, 30, 40])).toBe(1)
    expect(kendallTau([1, 2, 3, 4], [4, 3, 2, 1])).toBe(-1)
    expect(kendallTau([1, 2, 3], [1, 3, 2])).toBeCloseTo(1 / 3, 12)
    expect(kendallTau([1, 1, 2], [1, 2, 3])).toBeCloseTo(2 / Math.sqrt(6), 12)
    expect(() => kendallTau([1], [1, 2])).toThrow(
      expect.objectContaining({ code: 'E_BAD_OPTIONS' }),
    )
  })
})

describe('encoders', () => {
  it('one-hot is space.encode() as a sparse vector', () => {
    const e = createEncoder(space, 'onehot')
    const a = sample(1, 3)[0] as Arch
    expect(e.length).toBe(30)
    const dense = new Array(30).fill(0)
    const v = e.encode(a)
    v.index.forEach((i, k) => {
      dense[i] = v.value[k]
    })
    expect(dense).toEqual(space.encode(a))
  })

  it('path counts the input-to-output paths by their ops, and only those', () => {
    const e = createEncoder(space, 'auto')
    expect(e.kind).toBe('path')
    expect(pathFeatureCount(space)).toBe(4 + 16 + 64)
    expect(e.length).toBe(30 + 84)
    const paths = (s: string) => e.encode(nb201FromString(s)).index.filter((i) => i >= 30).length
    // every edge a convolution: 1 + 1 + 1 + 1 = 4 distinct… paths 0→3, 0→1→3, 0→2→3, 0→1→2→3
    const all =
      '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|'
    const v = e.encode(nb201FromString(all))
    // 0→1→3 and 0→2→3 have the same ops: one feature counted twice
    expect(v.index.filter((i) => i >= 30)).toHaveLength(3)
    expect([...v.value].filter((_, k) => (v.index[k] as number) >= 30).sort()).toEqual([1, 1, 2])
    expect(paths('|none~0|+|none~0|none~1|+|none~0|none~1|none~2|')).toBe(0)
    // node 1 feeds nothing that reaches the output: its edge is off every path
    const a = '|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|'
    const b = '|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|'
    const pa = e.encode(nb201FromString(a))
    const pb = e.encode(nb201FromString(b))
    expect([...pa.index].filter((i) => i >= 30)).toEqual([...pb.index].filter((i) => i >= 30))
  })

  it('auto is one-hot for spaces without cells, and path asks for a cell', () => {
    const chain = chainSpace()
    expect(createEncoder(chain, 'auto').kind).toBe('onehot')
    expect(() => createEncoder(chain, 'path')).toThrow(/needs a space with a cell decision/)
  })
})

describe('predictors', () => {
  const train = sample(80, 1).map((arch) => ({ arch, objective: objective(arch) }))
  const test = sample(300, 2)
  const truth = test.map(objective)

  for (const [label, make] of [
    ['ensemble', () => createEnsemblePredictor(space, { seed: 4 })],
    ['gp', () => createGpPredictor(space)],
  ] as const) {
    it(`${label}: ranks held-out architectures of a smooth objective`, () => {
      const p = make()
      p.fit(train)
      expect(p.size).toBe(80)
      const pred = p.predict(test)
      expect(
        kendallTau(
          pred.map((x) => x.mean),
          truth,
        ),
      ).toBeGreaterThan(0.7)
      for (const x of pred) expect(x.std).toBeGreaterThanOrEqual(0)
    })

    it(`${label}: leaves failed and non-finite observations out`, () => {
      const p = make()
      p.fit([
        ...train.slice(0, 20),
        { arch: test[0] as Arch, objective: null, status: 'failed' },
        { arch: test[1] as Arch, objective: Number.NaN },
      ])
      expect(p.size).toBe(20)
    })
  }

  it('ensemble: the same seed and data give the same predictions, another seed others', () => {
    const a = createEnsemblePredictor(space, { seed: 9 })
    const b = createEnsemblePredictor(space, { seed: 9 })
    const c = createEnsemblePredictor(space, { seed: 10 })
    for (const p of [a, b, c]) p.fit(train)
    expect(b.predict(test.slice(0, 20))).toEqual(a.predict(test.slice(0, 20)))
    expect(c.predict(test.slice(0, 20))).not.toEqual(a.predict(test.slice(0, 20)))
  })

  it('gp: interpolates its training points and is unsure far from them', () => {
    const p = createGpPredictor(space, { noises: [1e-6] })
    p.fit(train.slice(0, 30))
    const at = p.predict([train[0]?.arch as Arch])[0]
    expect(at?.mean).toBeCloseTo(train[0]?.objective as number, 2)
    const far = p.predict([nb201FromString('|none~0|+|none~0|none~1|+|none~0|none~1|none~2|')])[0]
    expect(far?.std).toBeGreaterThan((at?.std as number) * 10)
    expect(p.hyper.lengthScale).toBeGreaterThan(0)
  })

  it('rejects bad options with E_BAD_OPTIONS naming the option', () => {
    expect(() => createEnsemblePredictor(space, { networks: 0 })).toThrow(
      /networks must be an integer ≥ 1/,
    )
    expect(() => createEnsemblePredictor(space, { hidden: [] })).toThrow(/hidden must list 1 to 4/)
    expect(() => createGpPredictor(space, { noises: [] })).toThrow(/at least one value/)
    expect(() => createGpPredictor(space, { kernel: 'cubic' as never })).toThrow(/kernel must be/)
  })
})

describe('helpers', () => {
  it('normal quantile inverts the distribution function', () => {
    for (const p of [0.001, 0.02, 0.3, 0.5, 0.77, 0.99])
      expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 6)
  })

  it('objective transforms keep the order', () => {
    const y = [80, 10, 84.9, 84.1, 84.1, 60]
    for (const kind of ['rank', 'log'] as const) {
      const t = transformObjectives(y, kind)
      expect(kendallTau(t, y)).toBe(1)
    }
    expect(transformObjectives(y, 'none')).toEqual(y)
  })
})
