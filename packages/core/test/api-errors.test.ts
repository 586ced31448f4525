import { describe, expect, it } from 'vitest'
import {
  type Arch,
  chainSpace,
  createRng,
  dartsSpace,
  defineSpace,
  isNaskitError,
  nb201FromString,
  nb201Space,
  nb201ToString,
  SearchSpace,
  toTrialResult,
} from '../src/index'

/** The error `fn` throws (the test fails when it throws nothing). */
function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected an error')
}

function expectCode(fn: () => unknown, code: string, message?: RegExp): void {
  const error = thrown(fn)
  expect(isNaskitError(error, code), String((error as Error)?.stack ?? error)).toBe(true)
  if (message) expect((error as Error).message).toMatch(message)
}

const NOT_ARCHS: unknown[] = [
  null,
  undefined,
  5,
  'x',
  [],
  {},
  { cell: null },
  { cell: { nodes: [1, 2, 3] } },
  { cell: { nodes: null } },
]

describe('architectures that are not members of a space', () => {
  const space = nb201Space()
  const rng = createRng(1)
  const methods: Record<string, (arch: unknown) => unknown> = {
    key: (a) => space.key(a as Arch),
    encode: (a) => space.encode(a as Arch),
    mutate: (a) => space.mutate(a as Arch, rng),
    neighbours: (a) => space.neighbours(a as Arch),
    mutationSites: (a) => space.mutationSites(a as Arch),
    canonicalize: (a) => space.canonicalize(a as Arch),
    trace: (a) => space.trace(a as Arch),
  }

  it('give E_INVALID_ARCH naming the method and the problem, never a TypeError', () => {
    for (const [name, call] of Object.entries(methods)) {
      for (const arch of NOT_ARCHS) {
        expectCode(() => call(arch), 'E_INVALID_ARCH', new RegExp(`space\\.${name}\\(\\)`))
      }
    }
    expectCode(() => space.key(null as unknown as Arch), 'E_INVALID_ARCH', /got null/)
  })

  it('are refused even when reading them would not crash (unknown ops, extra entries)', () => {
    const arch = space.sample(createRng(2)) as unknown as {
      cell: { nodes: Array<{ ops: string[] }> }
    }
    const unknownOp = structuredClone(arch)
    ;(unknownOp.cell.nodes[1] as { ops: string[] }).ops[0] = 'conv_9x9'
    for (const call of Object.values(methods))
      expectCode(() => call(unknownOp), 'E_INVALID_ARCH', /cell\.nodes\[1\]\.ops\[0\]: "conv_9x9"/)
    expectCode(() => space.key({ ...arch, extra: 1 } as unknown as Arch), 'E_INVALID_ARCH', /extra/)
  })

  it('in every built-in space', () => {
    for (const s of [chainSpace(), dartsSpace()]) {
      for (const arch of [null, {}, 'x']) {
        expectCode(() => s.key(arch as Arch), 'E_INVALID_ARCH')
        expectCode(() => s.encode(arch as Arch), 'E_INVALID_ARCH')
        expectCode(() => s.neighbours(arch as Arch), 'E_INVALID_ARCH')
        expectCode(() => s.mutate(arch as Arch, createRng(3)), 'E_INVALID_ARCH')
      }
    }
  })

  it('members still work as before', () => {
    const a = space.sample(createRng(4))
    expect(space.key(a)).toMatch(/^cell=/)
    expect(space.encode(a)).toHaveLength(space.encodingLength)
    expect(space.neighbours(a)).toHaveLength(24)
    expect(space.key(space.mutate(a, createRng(5)))).not.toBe(space.key(a))
  })
})

describe('nb201ToString', () => {
  it('gives E_INVALID_ARCH for what is not an nb201 architecture', () => {
    for (const arch of NOT_ARCHS)
      expectCode(() => nb201ToString(arch as Arch), 'E_INVALID_ARCH', /nb201/)
  })

  it('refuses unknown ops instead of formatting them', () => {
    const nodes = [
      { inputs: [0], ops: ['foo'] },
      { inputs: [0, 1], ops: ['none', 'none'] },
      { inputs: [0, 1, 2], ops: ['none', 'none', 'none'] },
    ]
    expectCode(
      () => nb201ToString({ cell: { nodes } } as unknown as Arch),
      'E_INVALID_ARCH',
      /cell\.nodes\[0\]\.ops\[0\]: "foo" is not one of none/,
    )
  })

  it('round-trips members, in canonical edge order', () => {
    const text = '|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|'
    expect(nb201ToString(nb201FromString(text))).toBe(text)
    const permuted = {
      cell: {
        nodes: [
          { inputs: [0], ops: ['nor_conv_3x3'] },
          { inputs: [1, 0], ops: ['avg_pool_3x3', 'none'] },
          { inputs: [2, 0, 1], ops: ['nor_conv_1x1', 'skip_connect', 'none'] },
        ],
      },
    }
    expect(nb201ToString(permuted)).toBe(text)
  })
})

describe('SearchSpace.fromJSON', () => {
  it('refuses deeply nested decisions with E_INVALID_SPACE instead of overflowing the stack', () => {
    let spec: unknown = { type: 'categorical', choices: ['a', 'b'] }
    for (let i = 0; i < 5000; i++) spec = { type: 'group', decisions: { x: spec } }
    expectCode(
      () => SearchSpace.fromJSON({ name: 'deep', decisions: { x: spec } }),
      'E_INVALID_SPACE',
      /nest more than 64 levels/,
    )
    // a cycle, which only the API can build
    const cyclic: { type: string; decisions: Record<string, unknown> } = {
      type: 'group',
      decisions: {},
    }
    cyclic.decisions.self = cyclic
    expectCode(
      () => SearchSpace.fromJSON({ name: 'cycle', decisions: { c: cyclic } }),
      'E_INVALID_SPACE',
    )
  })

  it('accepts nesting up to the limit', () => {
    let spec: unknown = { type: 'categorical', choices: ['a', 'b'] }
    for (let i = 0; i < 63; i++) spec = { type: 'group', decisions: { x: spec } }
    const space = SearchSpace.fromJSON({ name: 'deep', decisions: { x: spec } })
    expect(space.size()).toBe(2n)
  })

  it('refuses __proto__ and the other names every object has', () => {
    const proto = JSON.parse(
      '{"name":"p","decisions":{"__proto__":{"type":"categorical","choices":["a","b"]}}}',
    )
    expectCode(() => SearchSpace.fromJSON(proto), 'E_INVALID_SPACE', /"__proto__" is a property/)
    for (const name of ['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype']) {
      expectCode(
        () =>
          SearchSpace.fromJSON({
            name: 'p',
            decisions: { [name]: { type: 'categorical', choices: ['a', 'b'] } },
          }),
        'E_INVALID_SPACE',
        new RegExp(`^Invalid search space: ${name}: `),
      )
    }
    const nested = JSON.parse(
      '{"name":"p","decisions":{"g":{"type":"group","decisions":{"__proto__":{"type":"int","low":0,"high":3}}}}}',
    )
    expectCode(() => SearchSpace.fromJSON(nested), 'E_INVALID_SPACE', /g\.__proto__/)
    expect(defineSpace('ok', { proto_: { type: 'int', low: 0, high: 1 } }).size()).toBe(2n)
  })
})

describe('toTrialResult', () => {
  const base = { id: 0, arch: {}, key: 'k' }
  it('says an objective is a string (or missing) rather than non-finite', () => {
    const s = toTrialResult({ ...base, outcome: { metrics: { objective: '0.29' as never } } })
    expect(s.error?.code).toBe('E_BAD_METRICS')
    expect(s.error?.message).toMatch(/is a string \("0\.29"\), not a number/)
    expect(s.error?.message).not.toMatch(/non-finite/)
    const missing = toTrialResult({ ...base, outcome: { metrics: { accuracy: 0.5 } as never } })
    expect(missing.error?.message).toMatch(/without an objective/)
    const nan = toTrialResult({ ...base, outcome: { metrics: { objective: Number.NaN } } })
    expect(nan.error?.message).toMatch(/non-finite objective \(NaN\)/)
  })
})
