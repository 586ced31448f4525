import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isNaskitError, nb201FromString, nb201ToString } from '@naskit/core'
import { Nb201Network, validateNb201 } from '../src/models/nb201.js'
import { useCpu, useWasm } from './helpers.js'

// The table lives outside the repository (../shared/data beside it), or where NASKIT_NB201 says.
const here = path.dirname(fileURLToPath(import.meta.url))
const CSV =
  process.env.NASKIT_NB201 ?? path.resolve(here, '../../../../shared/data/nasbench201/nb201.csv')

interface Row {
  index: number
  arch: string
  params: number
  flops: number
}

function sampleRows(count: number): Row[] {
  const lines = readFileSync(CSV, 'utf8').trim().split('\n')
  const header = lines[0]!.split(',')
  const col = (name: string) => header.indexOf(name)
  const rows = lines.slice(1)
  // a deterministic spread of rows, plus the extremes
  const picks = new Set<number>([0, 1651, 6111, 9930])
  for (let i = 0; picks.size < count; i++) picks.add((i * 7919 + 13) % rows.length)
  return [...picks].map((i) => {
    const f = rows[i]!.split(',')
    return {
      index: Number(f[col('index')]),
      arch: f[col('arch')]!,
      params: Number(f[col('params_m')]),
      flops: Number(f[col('flops_m')]),
    }
  })
}

describe('NAS-Bench-201 network', () => {
  beforeAll(async () => {
    await useWasm()
  })
  afterAll(async () => {
    await useCpu()
  })

  const rows = existsSync(CSV) ? sampleRows(24) : []

  it('finds the NAS-Bench-201 table beside the checkout', () => {
    expect(existsSync(CSV), `expected the table at ${CSV}`).toBe(true)
  })

  it.each(rows)('arch $index: params and FLOPs equal the table', (row) => {
    const arch = nb201FromString(row.arch)
    expect(nb201ToString(arch)).toBe(row.arch)
    const net = new Nb201Network(validateNb201(arch), {
      channels: 16,
      cellsPerStage: 5,
      numClasses: 10,
    })
    expect(net.paramCount() / 1e6).toBeCloseTo(row.params, 6)
    expect(net.paramCount()).toBe(Math.round(row.params * 1e6))
    expect(net.flops() / 1e6).toBeCloseTo(row.flops, 5)
    net.dispose()
  })

  it('forward pass: logits for a batch, training and eval, no leaked tensors', () => {
    const before = tf.memory().numTensors
    const arch =
      '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|none~2|'
    const net = new Nb201Network(validateNb201(nb201FromString(arch)), {
      channels: 4,
      cellsPerStage: 1,
      numClasses: 3,
      inputShape: [8, 8, 3],
    })
    const vars = tf.memory().numTensors
    tf.tidy(() => {
      const x = tf.randomNormal([2, 8, 8, 3]) as tf.Tensor4D
      expect(net.apply(x, true).shape).toEqual([2, 3])
      expect(net.apply(x, false).shape).toEqual([2, 3])
    })
    expect(tf.memory().numTensors).toBe(vars)
    net.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })

  it('rejects malformed architectures with E_INVALID_ARCH', () => {
    let err: unknown
    try {
      validateNb201({
        cell: {
          nodes: [
            { inputs: [0], ops: ['none'] },
            { inputs: [0, 2], ops: ['none', 'none'] },
          ],
        },
      })
    } catch (e) {
      err = e
    }
    expect(isNaskitError(err, 'E_INVALID_ARCH')).toBe(true)
  })
})
