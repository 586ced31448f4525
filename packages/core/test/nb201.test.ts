import { existsSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { isNaskitError, NB201_OPS, nb201FromString, nb201Space, nb201ToString } from '../src/index'

const here = dirname(fileURLToPath(import.meta.url))
const csvPath = resolve(here, '../../../../shared/data/nasbench201/nb201.csv')

describe('nb201Space', () => {
  const space = nb201Space()

  it('has 6 edges × 5 ops = 15,625 architectures', () => {
    expect(space.size()).toBe(15_625n)
    expect(space.kind).toBe('nb201')
    expect(space.encodingLength).toBe(30)
  })

  it('round-trips all 15,625 architectures through arch strings', () => {
    const seen = new Set<string>()
    for (const arch of space.enumerate()) {
      const text = nb201ToString(arch)
      const back = nb201FromString(text)
      expect(back).toEqual(arch)
      expect(space.isValid(back)).toBe(true)
      seen.add(text)
    }
    expect(seen.size).toBe(15_625)
  })

  it('parses every arch string of the NAS-Bench-201 table', () => {
    expect(existsSync(csvPath), `the table is expected at ${csvPath}`).toBe(true)
    const lines = readFileSync(csvPath, 'utf8').trim().split('\n')
    const header = (lines[0] as string).split(',')
    const col = header.indexOf('arch')
    const keys = new Set<string>()
    for (const line of lines.slice(1)) {
      const text = line.split(',')[col] as string
      const arch = nb201FromString(text)
      expect(nb201ToString(arch)).toBe(text)
      keys.add(space.key(arch))
    }
    expect(keys.size).toBe(15_625)
  })

  it('parses the documented example', () => {
    const arch = nb201FromString(
      '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|',
    )
    expect(arch).toEqual({
      cell: {
        nodes: [
          { inputs: [0], ops: ['nor_conv_3x3'] },
          { inputs: [0, 1], ops: ['nor_conv_3x3', 'avg_pool_3x3'] },
          { inputs: [0, 1, 2], ops: ['skip_connect', 'nor_conv_3x3', 'skip_connect'] },
        ],
      },
    })
    expect(NB201_OPS).toHaveLength(5)
  })

  it('rejects malformed strings and unknown ops with E_PARSE_ARCH', () => {
    const bad: Array<[string, RegExp]> = [
      [
        '|conv_9x9~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|',
        /unknown op "conv_9x9"/,
      ],
      [
        '|nor_conv_3x3~1|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|',
        /must read from node 0/,
      ],
      ['|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|', /expected '\+'/],
      [
        '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|x',
        /unexpected text/,
      ],
      ['nor_conv_3x3', /expected '\|'/],
      ['', /expected '\|'/],
    ]
    for (const [text, why] of bad) {
      try {
        nb201FromString(text)
        expect.unreachable(text)
      } catch (e) {
        expect(isNaskitError(e, 'E_PARSE_ARCH')).toBe(true)
        expect((e as Error).message).toMatch(why)
      }
    }
  })
})
