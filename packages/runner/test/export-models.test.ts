import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Rng } from '@naskit/core'
import { describe, expect, it } from 'vitest'
import { trialRngState } from '../src/evaluate'
import { exportModels, runCli, runExperiment } from '../src/index'
import { captureIo, fixtures, tmp } from './helpers'

const sleepEval = join(fixtures, 'sleep-evaluator.ts')

describe('exporting trained models', () => {
  it('asks the evaluator to train the best trials again with their own seeds and save them', async () => {
    const dir = tmp()
    const out = join(dir, 'exp')
    const result = await runExperiment({
      out,
      config: {
        space: 'nb201',
        evaluator: { name: sleepEval, options: { delayMs: 0 } },
        budget: 6,
        seed: 9,
      },
    })
    const ranked = [...result.trials].sort((a, b) => (b.objective ?? 0) - (a.objective ?? 0))
    const { outDir, models } = await exportModels(out, { format: 'tfjs', top: 2 })
    expect(outDir).toBe(join(out, 'models'))
    expect(models.map((m) => m.trialId)).toEqual(ranked.slice(0, 2).map((t) => t.id))
    for (const m of models) {
      const saved = JSON.parse(readFileSync(join(m.dir, 'model.json'), 'utf8'))
      const trial = result.trials.find((t) => t.id === m.trialId)
      expect(saved.arch).toEqual(trial?.arch)
      expect(saved.seed).toBe(Rng.fromState(trialRngState(9, m.trialId)).seed())
      expect(m.metrics.objective).toBe(trial?.objective)
    }
    const index = JSON.parse(readFileSync(join(outDir, 'export.json'), 'utf8'))
    expect(index.models.map((m: { trialId: number }) => m.trialId)).toEqual(
      models.map((m) => m.trialId),
    )

    const c = captureIo(dir)
    expect(await runCli(['export', 'exp', '--format', 'tfjs', '--dir', 'best-model'], c.io)).toBe(0)
    expect(c.out.join('')).toContain(`#1 trial ${ranked[0]?.id} → ${join(dir, 'best-model')}`)
    expect(
      JSON.parse(
        readFileSync(join(dir, 'best-model', `trial-${ranked[0]?.id}`, 'model.json'), 'utf8'),
      ).trialId,
    ).toBe(ranked[0]?.id)
  })
})
