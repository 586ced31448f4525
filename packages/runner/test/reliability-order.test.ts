import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runExperiment, type StoredTrial } from '../src/index'
import { fixtures, greedy, tmp } from './helpers'

const misbehaving = join(fixtures, 'rel-misbehaving-evaluator.ts')

const brief = (trials: StoredTrial[]) =>
  trials.map((t) => ({ id: t.id, key: t.key, status: t.status, objective: t.objective }))

/** Trial ids in the order their evaluations finished. */
const finishOrder = (trials: StoredTrial[]) =>
  [...trials]
    .sort((x, y) => (x.timings?.finishedAt ?? 0) - (y.timings?.finishedAt ?? 0) || x.id - y.id)
    .map((t) => t.id)

const strategies = [
  { name: 'evolution', options: { populationSize: 4, sampleSize: 2 } },
  { name: 'local-search', options: { initialSamples: 3 } },
  { name: greedy, options: {} },
]

describe('parallel searches with the same seed', () => {
  for (const executor of ['threads', 'inline'] as const) {
    for (const strategy of strategies) {
      const label = strategy.name === greedy ? 'a learning test strategy' : strategy.name
      it(`run the same trials whatever order evaluations finish in (${label}, ${executor})`, async () => {
        // the same objectives; other evaluation times (the salt), so another finish order
        const run = (salt: string) =>
          runExperiment({
            out: join(tmp(), 'exp'),
            config: {
              space: 'nb201',
              strategy,
              evaluator: {
                name: `${misbehaving}#${executor === 'threads' ? 'expensive' : 'cheap'}`,
                options: { mode: 'ok', jitterMs: 30, jitterSalt: salt },
              },
              executor,
              budget: 18,
              workers: 3,
              seed: 7,
            },
          })
        const a = await run('a')
        const b = await run('b')
        expect(finishOrder(a.trials)).not.toEqual(finishOrder(b.trials))
        expect(brief(a.trials)).toEqual(brief(b.trials))
      }, 20_000)
    }
  }
})
