import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRng, isNaskitError, nb201FromString, nb201Space } from '@naskit/core'
import { describe, expect, it } from 'vitest'
import { loadNb201Table, NB201_ROWS, parseNb201Csv, resolveNb201Path } from '../src/index'
import { NB201_CSV } from './helpers'

const text = readFileSync(NB201_CSV, 'utf8')
const lines = text.split('\n')

function expectCode(fn: () => unknown, code: string, match: RegExp) {
  let error: unknown
  try {
    fn()
  } catch (e) {
    error = e
  }
  expect(isNaskitError(error, code), String(error)).toBe(true)
  expect((error as Error).message).toMatch(match)
}

describe('loadNb201Table', () => {
  const table = loadNb201Table(NB201_CSV)

  it('loads every architecture of the NAS-Bench-201 space', () => {
    expect(table.size).toBe(NB201_ROWS)
    expect(table.columns).toContain('cifar10_valid_12ep')
  })

  it('finds the published optima', () => {
    expect(table.best('cifar10_test').value).toBeCloseTo(94.3733, 4)
    expect(table.archAt(table.best('cifar10_test').row)).toBe(
      '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|',
    )
    expect(table.best('cifar100_test').value).toBeCloseTo(73.5133, 4)
    expect(table.best('imagenet16_test').value).toBeCloseTo(47.3111, 4)
  })

  it('looks architectures up by the nb201 space key', () => {
    const space = nb201Space()
    const rng = createRng(3)
    for (let i = 0; i < 200; i++) {
      const arch = space.sample(rng)
      const row = table.rowOf(arch)
      expect(row).toBeGreaterThanOrEqual(0)
      expect(space.key(nb201FromString(table.archAt(row)))).toBe(space.key(arch))
      expect(table.rowOfKey(space.key(arch))).toBe(row)
    }
    expect(table.rowOfKey('cell=nope')).toBe(-1)
  })

  it('reads the documented values of architecture 0', () => {
    const row = table.rowOf(nb201FromString(table.archAt(0)))
    expect(table.row(row)).toMatchObject({
      index: 0,
      cifar10_test: 85.8633,
      cifar100_test: 52.9133,
      params_m: 0.129306,
    })
  })

  it('names the offending decision for an architecture outside the space', () => {
    expectCode(() => table.requireRow({ cell: { nodes: [] } }), 'E_INVALID_ARCH', /nodes/)
  })

  it('reuses a loaded table for the same file', () => {
    expect(loadNb201Table(NB201_CSV)).toBe(table)
    expect(loadNb201Table(NB201_CSV, { cache: false })).not.toBe(table)
  })
})

describe('table checks', () => {
  it('asks for a path when none is given', () => {
    expectCode(() => resolveNb201Path(undefined, {}), 'E_NB201_NOT_FOUND', /NASKIT_NB201/)
  })

  it('reads the path from NASKIT_NB201', () => {
    expect(resolveNb201Path(undefined, { NASKIT_NB201: NB201_CSV })).toBe(NB201_CSV)
  })

  it('says when the file does not exist', () => {
    expectCode(() => loadNb201Table('/no/such/nb201.csv'), 'E_NB201_NOT_FOUND', /does not exist/)
  })

  it('names missing columns', () => {
    const header = (lines[0] as string).replace('cifar100_valid_12ep', 'c100v')
    expectCode(
      () => parseNb201Csv([header, ...lines.slice(1)].join('\n')),
      'E_NB201_BAD_TABLE',
      /missing column cifar100_valid_12ep/,
    )
  })

  it('counts the rows', () => {
    expectCode(
      () => parseNb201Csv(lines.slice(0, 1001).join('\n')),
      'E_NB201_BAD_TABLE',
      /1000 data rows; NAS-Bench-201 has 15625/,
    )
    const extra = [...lines.filter((l) => l !== ''), lines[1]].join('\n')
    expectCode(() => parseNb201Csv(extra), 'E_NB201_BAD_TABLE', /15626 data rows/)
  })

  it('names a bad number with its line and column', () => {
    const broken = [...lines]
    broken[5] = (broken[5] as string).replace(/,([0-9.]+),/, ',oops,')
    expectCode(
      () => parseNb201Csv(broken.join('\n')),
      'E_NB201_BAD_TABLE',
      /line 6, column "cifar10_test" is "oops"/,
    )
  })

  it('rejects short rows, bad arch strings and repeated architectures', () => {
    const short = [...lines]
    short[7] = (short[7] as string).split(',').slice(0, 5).join(',')
    expectCode(() => parseNb201Csv(short.join('\n')), 'E_NB201_BAD_TABLE', /line 8\) has 5 fields/)
    const arch = [...lines]
    arch[3] = (arch[3] as string).replace('~0|', '~7|')
    expectCode(() => parseNb201Csv(arch.join('\n')), 'E_NB201_BAD_TABLE', /line 4 has arch/)
    const twice = [...lines]
    const archOf1 = (lines[1] as string).split(',')[1] as string
    twice[2] = (twice[2] as string).replace((lines[2] as string).split(',')[1] as string, archOf1)
    expectCode(
      () => parseNb201Csv(twice.join('\n')),
      'E_NB201_BAD_TABLE',
      /line 3 repeats the architecture/,
    )
  })

  it('accepts CRLF line endings', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nb201-'))
    const file = join(dir, 'crlf.csv')
    writeFileSync(file, text.replaceAll('\n', '\r\n'))
    const t = loadNb201Table(file)
    expect(t.size).toBe(NB201_ROWS)
    expect(t.column('flops_m')[0]).toBeCloseTo(15.64737, 6)
  })

  it('parses numbers exactly as Number() does', () => {
    const t = loadNb201Table(NB201_CSV)
    for (const r of [0, 1, 777, 15624]) {
      const fields = (lines[r + 1] as string).split(',')
      const header = (lines[0] as string).split(',')
      for (let c = 0; c < header.length; c++) {
        if (header[c] === 'arch') continue
        expect(t.column(header[c] as string)[r]).toBe(Number(fields[c]))
      }
    }
  })
})
