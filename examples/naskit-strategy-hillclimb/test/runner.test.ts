import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { defineEvaluator } from '@naskit/core'
import { runCli, runExperiment } from '@naskit/runner'
import { afterAll, describe, expect, it } from 'vitest'

// A project that installed this package: node_modules/naskit-strategy-hillclimb → this folder.
const project = mkdtempSync(join(tmpdir(), 'hillclimb-project-'))
mkdirSync(join(project, 'node_modules'))
symlinkSync(
  resolve(import.meta.dirname, '..'),
  join(project, 'node_modules', 'naskit-strategy-hillclimb'),
  'dir',
)
afterAll(() => rmSync(project, { recursive: true, force: true }))

const countConvs = defineEvaluator({
  name: 'count-convs',
  description: 'Objective: number of 3x3 convolutions in the cell.',
  cost: 'cheap',
  options: {},
  create: () => ({
    name: 'count-convs',
    evaluate: (arch) => ({ objective: JSON.stringify(arch).split('nor_conv_3x3').length - 1 }),
  }),
})

describe('loaded by the runner', () => {
  it('resolves by package name with no change to naskit', async () => {
    const result = await runExperiment({
      baseDir: project,
      out: join(project, 'runs', 'by-package'),
      config: {
        space: 'nb201',
        strategy: 'naskit-strategy-hillclimb',
        evaluator: countConvs,
        budget: 60,
        seed: 1,
      },
    })
    expect(result.status).toBe('completed')
    expect(result.trials).toHaveLength(60)
    expect(new Set(result.trials.map((t) => t.key)).size).toBe(60)
    expect(result.best?.objective).toBeGreaterThanOrEqual(5)
  })

  it('resolves the short name `hillclimb` from the CLI and lists it in `naskit strategies`', async () => {
    const lines: string[] = []
    const io = {
      stdout: { write: (t: string) => void lines.push(t) },
      stderr: { write: (t: string) => void lines.push(t) },
      cwd: project,
    }
    const code = await runCli(['strategies'], io)
    expect(code).toBe(0)
    const listing = lines.join('')
    expect(listing).toContain('hillclimb  (naskit-strategy-hillclimb@0.1.0, sampling)')
    expect(listing).toContain('patience')

    const evaluatorFile = join(project, 'convs.mjs')
    const { writeFileSync } = await import('node:fs')
    writeFileSync(
      evaluatorFile,
      `export default { name: 'convs', description: 'convs', cost: 'cheap', options: {},
        create: () => ({ name: 'convs', evaluate: (a) => ({ objective: JSON.stringify(a).split('nor_conv_3x3').length - 1 }) }) }\n`,
    )
    const search = await runCli(
      [
        'search',
        '--space',
        'nb201',
        '--strategy',
        'hillclimb',
        '--evaluator',
        './convs.mjs',
        '--budget',
        '20',
        '--out',
        'runs/cli',
        '--quiet',
      ],
      io,
    )
    expect(search).toBe(0)
    const exported = JSON.parse(
      await (await import('@naskit/runner')).exportTrials(join(project, 'runs', 'cli'), { top: 1 }),
    )
    expect(exported.experiment.strategy).toBe('hillclimb')
  })
})
