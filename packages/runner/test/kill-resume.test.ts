import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readExperiment, runExperiment } from '../src/index'
import { exited, greedy, spawnCli, synthetic, tmp } from './helpers'

const brief = (
  trials: Array<{ id: number; key: string; status: string; objective: number | null }>,
) => trials.map((t) => ({ id: t.id, key: t.key, status: t.status, objective: t.objective }))

const BUDGET = 60

/** Kill points: after `trials` new trial events of a session, plus `delayMs` (mid-evaluation). */
const KILLS = [
  { trials: 0, delayMs: 0 },
  { trials: 3, delayMs: 0 },
  { trials: 5, delayMs: 4 },
  { trials: 7, delayMs: 9 },
  { trials: 4, delayMs: 2 },
  { trials: 6, delayMs: 13 },
]

describe('resume after SIGKILL', () => {
  it(`ends with exactly the trials and best of an uninterrupted run, killed at ${KILLS.length} points`, async () => {
    const base = tmp()
    const evaluatorOptions = { delayMs: 20, failEvery: 9 }
    const baseline = await runExperiment({
      out: join(base, 'baseline'),
      config: {
        space: 'nb201',
        strategy: greedy,
        evaluator: { name: synthetic, options: evaluatorOptions },
        budget: BUDGET,
        seed: 11,
      },
    })
    expect(baseline.trials).toHaveLength(BUDGET)
    const reference = brief(baseline.trials)

    const out = join(base, 'killed')
    const first = [
      'search',
      '--space',
      'nb201',
      '--strategy',
      greedy,
      '--evaluator',
      synthetic,
      '--evaluator-options',
      JSON.stringify(evaluatorOptions),
      '--budget',
      String(BUDGET),
      '--seed',
      '11',
      '--out',
      out,
      '--json',
    ]
    let finishedBefore = 0
    for (const [i, kill] of KILLS.entries()) {
      const child = spawnCli(i === 0 ? first : ['search', '--out', out, '--json'], base)
      await new Promise<void>((resolve, reject) => {
        const timer = setInterval(() => {
          const lines = child.output.stdout.split('\n').filter(Boolean)
          const started = lines.some((l) => l.includes('"type":"start"'))
          const trials = lines.filter((l) => l.includes('"type":"trial"')).length
          if (started && trials >= kill.trials) {
            clearInterval(timer)
            setTimeout(resolve, kill.delayMs)
          }
          if (child.exitCode !== null) {
            clearInterval(timer)
            reject(new Error(`the search ended before kill point ${i}: ${child.output.stderr}`))
          }
        }, 1)
      })
      child.kill('SIGKILL')
      const { signal } = await exited(child)
      expect(signal).toBe('SIGKILL')
      const data = readExperiment(out)
      const ids = data.trials.map((t) => t.id)
      expect(new Set(ids).size, 'no duplicate trials').toBe(ids.length)
      expect(
        brief(data.trials),
        `the finished trials after kill ${i} are the baseline's first ones`,
      ).toEqual(reference.slice(0, data.trials.length))
      expect(data.trials.length).toBeGreaterThanOrEqual(finishedBefore)
      if (kill.trials > 0)
        expect(data.running, 'killed while a trial was running: it is rerun on resume').toBe(1)
      finishedBefore = data.trials.length
    }
    expect(finishedBefore).toBeLessThan(BUDGET)

    const last = spawnCli(['search', '--out', out], base)
    const { code } = await exited(last)
    expect(code, last.output.stderr).toBe(0)
    const data = readExperiment(out)
    expect(brief(data.trials)).toEqual(reference)
    expect(data.running).toBe(0)
    const best = data.trials
      .filter((t) => t.status === 'ok')
      .sort((a, b) => (b.objective as number) - (a.objective as number) || a.id - b.id)[0]
    expect(best?.id).toBe(baseline.best?.id)
  }, 120_000)
})
