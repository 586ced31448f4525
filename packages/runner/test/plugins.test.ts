import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isNaskitError, randomStrategy } from '@naskit/core'
import { describe, expect, it } from 'vitest'
import { installCommand, listStrategies, loadEvaluator, loadStrategy } from '../src/index'
import { fixtures, greedy, synthetic, tmp } from './helpers'

describe('loadStrategy', () => {
  it('gives the core random strategy for `random`', async () => {
    const s = await loadStrategy('random', tmp())
    expect(s.plugin).toBe(randomStrategy)
  })

  it('loads a strategy module by path, relative to the base folder', async () => {
    const s = await loadStrategy('./greedy-strategy.ts', fixtures)
    expect(s.plugin.name).toBe('greedy')
    expect(s.ref?.file).toBe(greedy)
  })

  it('loads a package by name from the project, with `strategies` and #name', async () => {
    const project = tmp()
    const pkg = join(project, 'node_modules', '@acme', 'naskit-strategy-pair')
    const { mkdirSync } = await import('node:fs')
    mkdirSync(pkg, { recursive: true })
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({
        name: '@acme/naskit-strategy-pair',
        version: '2.3.4',
        type: 'module',
        exports: { '.': './index.js' },
      }),
    )
    writeFileSync(
      join(pkg, 'index.js'),
      `const make = (name) => ({ name, kind: 'sampling', description: name + ' strategy', options: {}, create: () => ({ ask: () => [], tell() {}, state: () => null, restore() {} }) })
       export const strategies = [make('first'), make('second')]`,
    )
    const second = await loadStrategy('@acme/naskit-strategy-pair#second', project)
    expect(second.plugin.name).toBe('second')
    expect(second.ref?.version).toBe('2.3.4')
    const noDefault = await loadStrategy('@acme/naskit-strategy-pair', project).catch((e) => e)
    expect(isNaskitError(noDefault, 'E_BAD_PLUGIN')).toBe(true)
    expect(noDefault.message).toContain('"@acme/naskit-strategy-pair#name"')
    const listing = await listStrategies(project)
    expect(listing.map((s) => s.name)).toEqual(
      expect.arrayContaining(['random', 'first', 'second']),
    )
    expect(listing.find((s) => s.name === 'second')?.version).toBe('2.3.4')
  })

  it('says what is installed and how to install a missing strategy', async () => {
    const project = tmp()
    writeFileSync(join(project, 'pnpm-lock.yaml'), '')
    const error = await loadStrategy('rl', project).catch((e) => e)
    expect(isNaskitError(error, 'E_UNKNOWN_STRATEGY')).toBe(true)
    expect(error.message).toContain('comes from @naskit/strategy-rl, which is not installed')
    expect(error.message).toContain('pnpm add @naskit/strategy-rl')
    expect(error.message).toMatch(/Installed strategies: random/)
    const other = await loadStrategy('foo', join(project, '..')).catch((e) => e)
    expect(other.message).toContain('npm install naskit-strategy-foo')
    const path = await loadStrategy('./nope.ts', project).catch((e) => e)
    expect(isNaskitError(path, 'E_UNKNOWN_STRATEGY')).toBe(true)
  })

  it('rejects a module that is not a strategy plugin', async () => {
    const dir = tmp()
    writeFileSync(join(dir, 'bad.mjs'), 'export default { name: "bad" }\n')
    const error = await loadStrategy('./bad.mjs', dir).catch((e) => e)
    expect(isNaskitError(error, 'E_BAD_PLUGIN')).toBe(true)
    expect(error.message).toContain('kind')
  })

  it('builds install commands for npm, pnpm and yarn projects', () => {
    const dir = tmp()
    writeFileSync(join(dir, 'yarn.lock'), '')
    expect(installCommand('x', dir)).toBe('yarn add x')
  })
})

describe('loadEvaluator', () => {
  it('loads a default export, or one of `evaluators` by #name', async () => {
    const a = await loadEvaluator(synthetic, tmp())
    expect(a.plugin.name).toBe('synthetic')
    expect(a.plugin.cost).toBe('cheap')
    const b = await loadEvaluator('./cpu-evaluator.ts#cpu', fixtures)
    expect(b.plugin.cost).toBe('expensive')
    expect(b.ref?.pick).toBe('cpu')
    const c = await loadEvaluator('./cpu-evaluator.ts', fixtures)
    expect(c.plugin.name).toBe('cpu')
    const d = await loadEvaluator('./cpu-evaluator.ts#gpu', fixtures).catch((e) => e)
    expect(isNaskitError(d, 'E_UNKNOWN_EVALUATOR')).toBe(true)
    expect(d.message).toContain('It provides: cpu')
  })

  it('maps built-in names to the packages that provide them', async () => {
    const project = tmp()
    const pkg = join(project, 'node_modules', '@naskit', 'benchmarks')
    const { mkdirSync } = await import('node:fs')
    mkdirSync(pkg, { recursive: true })
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({
        name: '@naskit/benchmarks',
        version: '1.0.0',
        type: 'module',
        exports: { '.': './index.js' },
      }),
    )
    writeFileSync(
      join(pkg, 'index.js'),
      `const table = (name) => ({ name, description: name, cost: 'cheap', options: {}, create: () => ({ name, evaluate: () => ({ objective: 1 }) }) })
       export const evaluators = { nb201: table('nb201'), other: table('other') }`,
    )
    const e = await loadEvaluator('nb201', project)
    expect(e.plugin.name).toBe('nb201')
    expect(e.ref).toMatchObject({
      pick: 'nb201',
      packageName: '@naskit/benchmarks',
      version: '1.0.0',
    })
  })

  // A built-in evaluator whose package is missing (the trainer is a devDependency here) is
  // checked by the pack smoke test, where only the runner is installed.
})
