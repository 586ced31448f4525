import { dartsSpace, nb201Space, nb201ToString } from '@naskit/core'
import { describe, expect, it } from 'vitest'
import { deriveArchitecture, deriveDartsCell, deriveNb201 } from '../src/derive.js'
import { cellLayout } from '../src/supernet.js'

describe('derive (nb201)', () => {
  const layout = cellLayout(nb201Space())
  // ops: none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3
  it('keeps the strongest op per edge and never picks none', () => {
    const w = [
      [0.9, 0.05, 0.02, 0.02, 0.01], // none strongest → skip_connect
      [0.1, 0.1, 0.1, 0.6, 0.1],
      [0.1, 0.1, 0.5, 0.2, 0.1],
      [0.3, 0.1, 0.1, 0.1, 0.4],
      [0.2, 0.2, 0.2, 0.2, 0.2], // a tie: the first non-none op in the space's order
      [0.5, 0.1, 0.1, 0.29, 0.01],
    ]
    const arch = deriveNb201(w, layout)
    expect(nb201ToString(arch)).toBe(
      '|skip_connect~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|avg_pool_3x3~0|skip_connect~1|nor_conv_3x3~2|',
    )
    expect(nb201Space().isValid(arch)).toBe(true)
  })

  it('rejects a matrix of the wrong shape', () => {
    expect(() => deriveNb201([[1, 2, 3, 4, 5]], layout)).toThrow(/6 edges × 5 ops/)
  })
})

describe('derive (darts)', () => {
  const space = dartsSpace()
  const layout = cellLayout(space)
  // ops: none, max_pool_3x3, avg_pool_3x3, skip_connect, sep_conv_3x3, sep_conv_5x5, dil_conv_3x3, dil_conv_5x5
  const row = (op: number, weight: number, noneWeight = 0) => {
    const r = new Array(8).fill((1 - weight - noneWeight) / 6)
    r[0] = noneWeight
    r[op] = weight
    return r
  }

  it('keeps, per node, the two incoming edges with the strongest non-none op', () => {
    // edges: node2 ← 0,1; node3 ← 0,1,2; node4 ← 0..3; node5 ← 0..4
    const w = [
      row(4, 0.5),
      row(3, 0.3),
      // node 3: edge from 0 has a huge `none`, which must not count
      row(5, 0.05, 0.9),
      row(6, 0.4),
      row(7, 0.35),
      // node 4
      row(1, 0.2),
      row(4, 0.6),
      row(2, 0.5),
      row(3, 0.1),
      // node 5
      row(5, 0.3),
      row(6, 0.31),
      row(7, 0.2),
      row(4, 0.25),
      row(3, 0.7),
    ]
    const cell = deriveDartsCell(w, layout)
    expect(cell.nodes).toEqual([
      { inputs: [0, 1], ops: ['sep_conv_3x3', 'skip_connect'] },
      { inputs: [1, 2], ops: ['dil_conv_3x3', 'dil_conv_5x5'] },
      { inputs: [1, 2], ops: ['sep_conv_3x3', 'avg_pool_3x3'] },
      { inputs: [1, 4], ops: ['dil_conv_3x3', 'skip_connect'] },
    ])
    const arch = deriveArchitecture(
      { normal: w, reduce: w.map((r) => r.slice().reverse()) },
      layout,
    )
    expect(space.isValid(arch)).toBe(true)
    expect(arch.normal).toEqual(cell)
  })

  it('needs beta for the darts space', () => {
    const w = layout.edges.map(() => row(4, 0.5))
    expect(() => deriveArchitecture({ normal: w, reduce: null }, layout)).toThrow(/beta/)
  })
})
