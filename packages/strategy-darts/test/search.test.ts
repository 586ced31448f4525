import { dartsSpace, type JsonValue, nb201Space } from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { type DartsSearchOptions, dartsSearch } from '../src/search.js'
import { DartsSupernet } from '../src/supernet.js'
import { mnistSubset, useBackend } from './helpers.js'

beforeAll(async () => {
  await useBackend('wasm')
})

const tiny = (over: Partial<DartsSearchOptions> = {}): DartsSearchOptions => ({
  space: nb201Space(),
  dataset: mnistSubset(512),
  trainSize: 128,
  resolution: 8,
  channels: 4,
  layers: 1,
  batchSize: 32,
  epochs: 2,
  seed: 7,
  ptEvalImages: 64,
  ptTuneSteps: 2,
  ...over,
})

type Checkpoint = { state: JsonValue; blobs: Record<string, Uint8Array> }

describe('dartsSearch', () => {
  it('runs a tiny end-to-end search (defaults: darts-pt) on an MNIST subset and disposes every tensor', {
    timeout: 60_000,
  }, async () => {
    const before = tf.memory().numTensors
    const progress: number[] = []
    const r = await dartsSearch(
      tiny({ ptEvalImages: 32, onProgress: (p) => progress.push(p.fraction) }),
    )
    expect(tf.memory().numTensors).toBe(before)
    expect(nb201Space().isValid(r.arch)).toBe(true)
    expect(r.epochs).toBe(2)
    expect(r.history).toHaveLength(2)
    for (const row of r.weights.normal) {
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5)
    }
    // the architecture parameters moved away from their initialisation (Adam, lr 3e-4)
    const init = new DartsSupernet(nb201Space(), { channels: 4, layers: 1, seed: 7 })
    const alpha0 = init.alphaValues().normal!.flat()
    init.dispose()
    const moved = Math.max(...r.alphas.normal.flat().map((a, i) => Math.abs(a - alpha0[i]!)))
    expect(moved).toBeGreaterThan(5e-4)
    expect(r.peakBytes).toBeGreaterThan(r.paramBytes)
    expect(progress.at(-1)).toBe(1)
    expect(progress.every((p, i) => i === 0 || p >= progress[i - 1]!)).toBe(true)
    // darts-pt: `none` is never a candidate and each edge keeps the op whose removal cost most
    const scores = r.selection!.scores.normal!
    const nodes = (r.arch.cell as { nodes: Array<{ ops: string[] }> }).nodes
    r.edges.forEach((edge, e) => {
      expect(Number.isNaN(scores[e]![0]!)).toBe(true)
      const best = scores[e]!.reduce((b, s, k) => (k > 0 && s > scores[e]![b]! ? k : b), 1)
      expect(nodes[edge.node - 1]!.ops[edge.input]).toBe(r.ops[best])
    })
  })

  it('darts-pt with the loss criterion ranks candidates by the validation loss they add', {
    timeout: 60_000,
  }, async () => {
    const r = await dartsSearch(tiny({ epochs: 1, ptEvalImages: 32, ptCriterion: 'loss' }))
    expect(nb201Space().isValid(r.arch)).toBe(true)
    const scores = r.selection!.scores.normal!
    const nodes = (r.arch.cell as { nodes: Array<{ ops: string[] }> }).nodes
    r.edges.forEach((edge, e) => {
      const best = scores[e]!.reduce((b, s, k) => (k > 0 && s > scores[e]![b]! ? k : b), 1)
      expect(nodes[edge.node - 1]!.ops[edge.input]).toBe(r.ops[best])
    })
    // accuracy scores move in steps of 1/32 (plus a 1e-3 · loss tie-break); loss scores do not
    const offGrid = scores
      .flat()
      .filter((v) => Number.isFinite(v))
      .some((v) => Math.abs(v * 32 - Math.round(v * 32)) > 0.05)
    expect(offGrid).toBe(true)
  })

  it('searches the darts space (alpha and beta) and derives two cells', {
    timeout: 60_000,
  }, async () => {
    const space = dartsSpace()
    const r = await dartsSearch(
      tiny({ space, channels: 2, layers: 3, epochs: 1, trainSize: 64, remedy: 'none' }),
    )
    expect(space.isValid(r.arch)).toBe(true)
    expect(r.weights.normal).toHaveLength(14)
    expect(r.weights.reduce).toHaveLength(14)
    expect(r.weights.reduce).not.toEqual(r.weights.normal)
    expect(r.arch).toEqual(r.history[0]!.arch)
  })

  it('selects by perturbation (darts-pt) on the darts space: ops per edge, then two edges per node', {
    timeout: 120_000,
  }, async () => {
    // two cheap candidates besides `none` keep the 28 edges' perturbations fast
    const space = dartsSpace({ ops: ['none', 'skip_connect', 'max_pool_3x3'] })
    const before = tf.memory().numTensors
    const r = await dartsSearch(
      tiny({
        space,
        resolution: 4,
        channels: 2,
        layers: 3,
        epochs: 1,
        trainSize: 64,
        ptEvalImages: 16,
        ptTuneSteps: 1,
      }),
    )
    expect(tf.memory().numTensors).toBe(before)
    expect(space.isValid(r.arch)).toBe(true)
    const sel = r.selection!
    const cells = r.arch as Record<string, { nodes: Array<{ inputs: number[]; ops: string[] }> }>
    for (const kind of ['normal', 'reduce'] as const) {
      const scores = sel.scores[kind]!
      const edgeScores = sel.edgeScores[kind]!
      expect(scores).toHaveLength(14)
      expect(edgeScores.every((s) => Number.isFinite(s))).toBe(true)
      const nodes = cells[kind]!.nodes
      expect(nodes).toHaveLength(4)
      nodes.forEach((n, k) => {
        const node = k + 2
        const incoming = r.edges.map((e, i) => ({ ...e, i })).filter((e) => e.node === node)
        // the two kept edges are the two whose removal costs most
        const ranked = incoming
          .slice()
          .sort((a, b) => edgeScores[b.i]! - edgeScores[a.i]! || a.input - b.input)
        expect(n.inputs).toEqual(
          ranked
            .slice(0, 2)
            .map((e) => e.input)
            .sort((a, b) => a - b),
        )
        // each kept edge carries the op whose removal cost most (`none` never scored)
        n.inputs.forEach((input, j) => {
          const e = incoming.find((x) => x.input === input)!
          const row = scores[e.i]!
          expect(Number.isNaN(row[r.ops.indexOf('none')]!)).toBe(true)
          let best = -1
          row.forEach((s, o) => {
            if (!Number.isNaN(s) && (best < 0 || s > row[best]!)) best = o
          })
          expect(n.ops[j]).toBe(r.ops[best])
        })
      })
    }
  })

  it('resumes from an epoch checkpoint to the same result as an uninterrupted run', {
    timeout: 60_000,
  }, async () => {
    const saved: Checkpoint[] = []
    const opts = { remedy: 'gdas' as const }
    const full = await dartsSearch(
      tiny({
        ...opts,
        checkpoint: (state, blobs) => {
          saved.push({ state: JSON.parse(JSON.stringify(state)), blobs })
        },
      }),
    )
    expect(saved).toHaveLength(2)
    expect(Object.keys(saved[0]!.blobs).sort()).toEqual(['adam', 'alphas', 'sgd', 'weights'])
    // "kill" after epoch 1: a fresh search resumes from its checkpoint
    const resumed = await dartsSearch(tiny({ ...opts, resume: saved[0]! }))
    expect(resumed.resumedAfter).toBe(1)
    expect(resumed.epochs).toBe(2)
    expect(resumed.alphas).toEqual(full.alphas)
    expect(resumed.arch).toEqual(full.arch)
    expect(resumed.history.map((h) => h.trainLoss)).toEqual(full.history.map((h) => h.trainLoss))
    // a checkpoint written with other options is refused
    await expect(
      dartsSearch(tiny({ ...opts, channels: 8, resume: saved[0]! })),
    ).rejects.toMatchObject({
      code: 'E_BAD_STATE',
    })
  })

  it('stops with E_ABORTED when its signal is aborted', async () => {
    const before = tf.memory().numTensors
    const ctl = new AbortController()
    ctl.abort()
    await expect(dartsSearch(tiny({ signal: ctl.signal }))).rejects.toMatchObject({
      code: 'E_ABORTED',
    })
    expect(tf.memory().numTensors).toBe(before)
  })

  it('runs second order end to end', { timeout: 60_000 }, async () => {
    const r = await dartsSearch(tiny({ order: 'second', epochs: 1, remedy: 'none' }))
    expect(nb201Space().isValid(r.arch)).toBe(true)
    expect(r.selection).toBeUndefined()
  })

  it('rejects a trainSize too small for one batch per half', async () => {
    await expect(dartsSearch(tiny({ trainSize: 40 }))).rejects.toMatchObject({
      code: 'E_BAD_OPTIONS',
    })
  })
})
