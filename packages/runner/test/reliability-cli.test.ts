import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readExperiment } from '../src/index'
import { exited, fixtures, spawnCli, tmp } from './helpers'

const cheap = `${join(fixtures, 'rel-misbehaving-evaluator.ts')}#cheap`

async function search(dir: string, options: object, extra: string[] = []) {
  const child = spawnCli(
    [
      'search',
      '--space',
      'nb201',
      '--evaluator',
      cheap,
      '--evaluator-options',
      JSON.stringify(options),
      '--out',
      'exp',
      ...extra,
    ],
    dir,
  )
  const { code } = await exited(child)
  return { code, stderr: child.output.stderr }
}

describe('naskit search with an in-process evaluator that', () => {
  it('never settles: fails the trial, says why, and exits 1', async () => {
    const dir = tmp()
    const { code, stderr } = await search(dir, { mode: 'never', on: [1] }, ['--budget', '4'])
    expect(code).toBe(1)
    expect(stderr).toContain('The evaluation of trial 1 can never finish')
    expect(stderr).toContain('Resume with: naskit search --out')
    const data = readExperiment(join(dir, 'exp'))
    expect(data.running).toBe(0)
    expect(data.trials.find((t) => t.id === 1)?.error?.code).toBe('E_EVALUATION_UNSETTLED')
  }, 30_000)

  it('calls process.exit(0): exits non-zero, naming the running trial', async () => {
    const dir = tmp()
    const { code, stderr } = await search(dir, { mode: 'exit', on: [3] }, ['--budget', '10'])
    expect(code).toBe(1)
    expect(stderr).toContain('the process is exiting (code 0) while trial 3 was running')
    expect(stderr).toContain('Did the evaluator call process.exit()?')
    expect(stderr).toContain(`resume with: naskit search --out ${join(dir, 'exp')}`)
    expect(readExperiment(join(dir, 'exp')).trials).toHaveLength(3)
  }, 30_000)

  it('hangs, with --trial-timeout: fails that trial with E_TRIAL_TIMEOUT and finishes', async () => {
    const dir = tmp()
    const { code, stderr } = await search(dir, { mode: 'sleep', ms: 60_000, on: [1] }, [
      '--budget',
      '3',
      '--trial-timeout',
      '0.5',
    ])
    expect(stderr).toContain('Finished the budget of 3 trials')
    expect(code).toBe(0)
    const data = readExperiment(join(dir, 'exp'))
    expect(data.config?.trialTimeoutMs).toBe(500)
    expect(data.trials.find((t) => t.id === 1)?.error?.code).toBe('E_TRIAL_TIMEOUT')
  }, 30_000)
})
