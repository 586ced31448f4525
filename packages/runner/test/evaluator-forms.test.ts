import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isNaskitError } from '@naskit/core'
import { describe, expect, it } from 'vitest'
import { loadEvaluator, loadStrategy, readExperiment, runCli, runExperiment } from '../src/index'
import { captureIo, packageDir, tmp } from './helpers'

const countConvs = `(arch) => arch.cell.nodes.flatMap((n) => n.ops).filter((o) => o === 'nor_conv_3x3').length`

describe('evaluator modules', () => {
  it('accepts a default-exported evaluate function returning a number', async () => {
    const dir = tmp()
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}')
    writeFileSync(join(dir, 'score.ts'), `export default async ${countConvs}\n`)
    const e = await loadEvaluator('./score.ts', dir)
    expect(e.plugin.name).toBe('score')
    expect(e.plugin.cost).toBe('expensive')
    const out = join(dir, 'run')
    await runExperiment({
      out,
      config: { space: 'nb201', evaluator: './score.ts', budget: 5, seed: 3, workers: 2 },
      baseDir: dir,
    })
    const trials = readExperiment(out).trials
    expect(trials).toHaveLength(5)
    for (const t of trials) {
      expect(t.status).toBe('ok')
      const convs = (t.arch as unknown as { cell: { nodes: Array<{ ops: string[] }> } }).cell.nodes
        .flatMap((n) => n.ops)
        .filter((o) => o === 'nor_conv_3x3').length
      expect(t.metrics?.objective).toBe(convs)
    }
  })

  it('accepts a plain { name, evaluate } evaluator object (cost: cheap runs in-process)', async () => {
    const dir = tmp()
    writeFileSync(
      join(dir, 'plain.mjs'),
      `export default { name: 'plain', cost: 'cheap', evaluate: (arch) => ({ objective: 0.5, convs: (${countConvs})(arch) }) }\n`,
    )
    const e = await loadEvaluator('./plain.mjs', dir)
    expect(e.plugin).toMatchObject({ name: 'plain', cost: 'cheap' })
    const out = join(dir, 'run')
    await runExperiment({
      out,
      config: { space: 'nb201', evaluator: './plain.mjs', budget: 3, seed: 1 },
      baseDir: dir,
    })
    const trials = readExperiment(out).trials
    expect(trials.map((t) => t.metrics?.objective)).toEqual([0.5, 0.5, 0.5])
    expect(typeof trials[0]?.metrics?.convs).toBe('number')
  })

  it('fails a trial whose evaluate function returns no number or metrics, with E_BAD_METRICS', async () => {
    const dir = tmp()
    writeFileSync(join(dir, 'bad.mjs'), `export default () => 'high'\n`)
    const out = join(dir, 'run')
    await runExperiment({
      out,
      config: {
        space: 'nb201',
        evaluator: './bad.mjs',
        budget: 2,
        seed: 1,
        executor: 'inline',
        maxFailures: 5,
      },
      baseDir: dir,
    })
    const trials = readExperiment(out).trials
    expect(trials.length).toBeGreaterThan(0)
    for (const t of trials) {
      expect(t.status).toBe('failed')
      expect(JSON.stringify(t.error)).toContain('E_BAD_METRICS')
    }
  })

  it('names the three accepted forms when a module exports none of them', async () => {
    const dir = tmp()
    writeFileSync(join(dir, 'none.mjs'), 'export const x = 1\n')
    const e = await loadEvaluator('./none.mjs', dir).catch((err) => err)
    expect(isNaskitError(e, 'E_BAD_PLUGIN')).toBe(true)
    expect(e.message).toMatch(/a function \(arch, ctx\) => number \| metrics/)
    expect(e.message).toMatch(/\{ name, evaluate\(arch, ctx\) \}/)
    const wrongCost = join(dir, 'cost.mjs')
    writeFileSync(wrongCost, "export default { name: 'c', cost: 'free', evaluate: () => 1 }\n")
    const c = await loadEvaluator('./cost.mjs', dir).catch((err) => err)
    expect(isNaskitError(c, 'E_BAD_PLUGIN')).toBe(true)
    expect(c.message).toContain("cost must be 'cheap'")
  })
})

describe('names a user mistypes', () => {
  it('suggests the nearest installed strategy and lists strategies by the name to type', async () => {
    const dir = tmp()
    const e = await loadStrategy('evolutoin', dir).catch((err) => err)
    expect(isNaskitError(e, 'E_UNKNOWN_STRATEGY')).toBe(true)
    expect(e.message).toContain('Did you mean "evolution"?')
    expect(e.message).not.toMatch(/^Install it with/m)
    const { io, out } = captureIo(dir)
    expect(await runCli(['strategies'], io)).toBe(0)
    const first = out
      .join('')
      .split('\n')
      .filter((l) => /^\S/.test(l) && !l.startsWith('Use one'))
      .map((l) => l.split(/\s+/)[0])
    expect(first).toEqual(expect.arrayContaining(['random', 'evolution', 'local-search']))
  })

  it('suggests the nearest built-in evaluator', async () => {
    const e = await loadEvaluator('mnsit', tmp()).catch((err) => err)
    expect(isNaskitError(e, 'E_UNKNOWN_EVALUATOR')).toBe(true)
    expect(e.message).toContain('Did you mean "mnist"?')
    const typo = await loadEvaluator('nb210', tmp()).catch((err) => err)
    expect(typo.message).toContain('Did you mean "nb201"?')
  })

  it('answers a misspelt --strategy on the command line with the suggestion', async () => {
    const dir = tmp()
    writeFileSync(join(dir, 'score.mjs'), `export default ${countConvs}\n`)
    const { io, err } = captureIo(dir)
    const code = await runCli(
      ['search', '--space', 'nb201', '--strategy', 'evolutoin', '--evaluator', './score.mjs'],
      io,
    )
    expect(code).toBe(1)
    expect(err.join('')).toContain(
      'error E_UNKNOWN_STRATEGY: Unknown strategy "evolutoin". Did you mean "evolution"?',
    )
  })
})

describe('the naskit command file', () => {
  it('exists in the sources, so installs can link it before a build, and says when the build is missing', () => {
    const root = tmp()
    mkdirSync(join(root, 'bin'))
    copyFileSync(join(packageDir, 'bin', 'naskit.js'), join(root, 'bin', 'naskit.js'))
    writeFileSync(join(root, 'package.json'), '{"type":"module"}')
    const r = spawnSync(process.execPath, [join(root, 'bin', 'naskit.js'), '--help'], {
      encoding: 'utf8',
    })
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('@naskit/runner is not built')
    expect(r.stderr).toContain('build')
    const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'))
    expect(pkg.bin.naskit).toBe('./bin/naskit.js')
    expect(pkg.files).toContain('bin')
  })
})

describe('evaluator warnings', () => {
  it('reach the event stream once, from worker threads too', async () => {
    const dir = tmp()
    writeFileSync(
      join(dir, 'warns.mjs'),
      `export default {
  name: 'warns', description: 'warns', cost: 'expensive', options: {},
  create: ({ log }) => ({ name: 'warns', evaluate: () => { log.warn('training at 28 px instead'); return 1 } }),
}\n`,
    )
    for (const executor of ['threads', 'inline'] as const) {
      const warnings: string[] = []
      await runExperiment({
        out: join(dir, executor),
        config: {
          space: 'nb201',
          evaluator: './warns.mjs',
          budget: 4,
          seed: 1,
          workers: 2,
          executor,
        },
        baseDir: dir,
        onEvent: (e) => {
          if (e.type === 'warning') warnings.push(e.message)
        },
      })
      expect(warnings, executor).toEqual(['training at 28 px instead'])
    }
  })
})
