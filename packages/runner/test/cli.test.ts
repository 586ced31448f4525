import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { applyFlags, readExperiment, runCli } from '../src/index'
import { captureIo, exited, packageDir, spawnCli, synthetic, tmp } from './helpers'

describe('applyFlags', () => {
  it('overrides the config with flags', () => {
    const c = applyFlags(
      {
        space: 'nb201',
        strategy: { name: 'evolution', options: { populationSize: 10 } },
        evaluator: 'nb201',
        budget: { trials: 5, target: 0.9 },
      },
      {
        budget: '50',
        time: '90',
        workers: '2',
        seed: '7',
        strategyOptions: '{"populationSize": 20}',
        grace: '5',
      },
    )
    expect(c).toMatchObject({
      strategy: { name: 'evolution', options: { populationSize: 20 } },
      budget: { trials: 50, time: '90s', target: 0.9 },
      workers: 2,
      seed: 7,
      graceMs: 5000,
    })
    expect(() => applyFlags({}, { strategyOptions: '[1]', strategy: 'x' })).toThrow(
      /must be a JSON object/,
    )
    expect(() => applyFlags({}, { workers: 'two' })).toThrow(/--workers must be a number/)
  })
})

describe('naskit CLI', () => {
  it('searches from a config file, with flags overriding it, then resumes and exports', async () => {
    const dir = tmp()
    // a project with @naskit/runner installed
    mkdirSync(join(dir, 'node_modules', '@naskit'), { recursive: true })
    symlinkSync(packageDir, join(dir, 'node_modules', '@naskit', 'runner'), 'dir')
    writeFileSync(
      join(dir, 'naskit.config.ts'),
      `import { defineConfig } from '@naskit/runner'\nexport default defineConfig({ space: 'nb201', evaluator: ${JSON.stringify(synthetic)}, budget: 100, seed: 9 })\n`,
    )
    const a = captureIo(dir)
    expect(await runCli(['search', '--budget', '6', '--out', 'runs/x'], a.io)).toBe(0)
    expect(a.err.join('')).toContain('Searching into')
    expect(readExperiment(join(dir, 'runs/x')).trials).toHaveLength(6)

    const b = captureIo(dir)
    expect(await runCli(['search', '--out', 'runs/x', '--budget', '9', '--json'], b.io)).toBe(0)
    const events = b.out
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(events[0]).toMatchObject({ type: 'start', resumed: true, done: 6 })
    expect(events.filter((e) => e.type === 'trial').map((e) => e.trial.id)).toEqual([6, 7, 8])
    expect(events.at(-1)).toMatchObject({ type: 'end', status: 'completed', done: 9 })

    const c = captureIo(dir)
    expect(await runCli(['export', 'runs/x', '--top', '2', '--format', 'csv'], c.io)).toBe(0)
    const csv = c.out.join('').trim().split('\n')
    expect(csv[0]).toBe(
      'rank,id,status,objective,flops,params,duration_ms,error_code,error_message,key,arch',
    )
    expect(csv).toHaveLength(3)

    const d = captureIo(dir)
    expect(await runCli(['search', '--out', 'runs/x', '--seed', '3'], d.io)).toBe(1)
    expect(d.err.join('')).toContain('error E_CONFIG_MISMATCH')
    expect(await runCli(['export', 'runs/x', '--format', 'tfjs'], d.io)).toBe(1)
    expect(d.err.join('')).toContain(
      'error E_BAD_OPTIONS: Evaluator "synthetic" cannot export trained models',
    )
  })

  it('reads a JSON config given with --config, and writes the report', async () => {
    const dir = tmp()
    writeFileSync(
      join(dir, 'exp.json'),
      JSON.stringify({
        space: 'nb201',
        evaluator: { name: synthetic, options: { delayMs: 1 } },
        budget: { trials: 5 },
        out: 'runs/j',
      }),
    )
    const a = captureIo(dir)
    expect(await runCli(['search', '--config', 'exp.json', '--quiet'], a.io)).toBe(0)
    const b = captureIo(dir)
    expect(await runCli(['report', 'runs/j', '--file', 'r.html'], b.io)).toBe(0)
    expect(b.out.join('')).toBe(`Report written to ${join(dir, 'r.html')}\n`)
    expect(readFileSync(join(dir, 'r.html'), 'utf8')).toContain(
      '<title>naskit · nb201 / random / synthetic</title>',
    )
    const c = captureIo(dir)
    writeFileSync(join(dir, 'broken.json'), '{ nope')
    expect(await runCli(['search', '--config', 'broken.json'], c.io)).toBe(1)
    expect(c.err.join('')).toContain('error E_BAD_CONFIG: Config file')
  })

  it('prints clear errors for unknown strategies, commands and missing packages', async () => {
    const dir = tmp()
    const a = captureIo(dir)
    expect(
      await runCli(
        [
          'search',
          '--space',
          'nb201',
          '--strategy',
          'nope',
          '--evaluator',
          synthetic,
          '--out',
          'x',
        ],
        a.io,
      ),
    ).toBe(1)
    expect(a.err.join('')).toContain(
      'error E_UNKNOWN_STRATEGY: Unknown strategy "nope".\nInstalled strategies: random',
    )
    const b = captureIo(dir)
    expect(await runCli(['frobnicate'], b.io)).toBe(2)
    expect(b.err.join('')).toContain('Unknown command "frobnicate"')
    const c = captureIo(dir)
    expect(await runCli(['worker', '--executor', 'http://x:1'], c.io)).toBe(1)
    expect(c.err.join('')).toContain('error E_BAD_CONFIG: naskit worker needs --executor redis://')
    const e = captureIo(dir)
    expect(await runCli(['report', dir], e.io)).toBe(1)
    expect(e.err.join('')).toContain('E_NO_EXPERIMENT')
  })

  it('delegates `naskit bench` to the installed @naskit/benchmarks', async () => {
    const dir = tmp()
    const pkg = join(dir, 'node_modules', '@naskit', 'benchmarks')
    mkdirSync(pkg, { recursive: true })
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({
        name: '@naskit/benchmarks',
        version: '9.9.9',
        type: 'module',
        exports: { '.': './index.js' },
      }),
    )
    writeFileSync(
      join(pkg, 'index.js'),
      'export async function runBenchCli(argv) { globalThis.benchArgv = argv; return 7 }\n',
    )
    const a = captureIo(dir)
    expect(await runCli(['bench', 'nb201', '--strategies', 'random', '--json'], a.io)).toBe(7)
    expect((globalThis as { benchArgv?: string[] }).benchArgv).toEqual([
      'nb201',
      '--strategies',
      'random',
      '--json',
    ])
    writeFileSync(join(pkg, 'index.js'), 'export const nothing = 1\n')
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({
        name: '@naskit/benchmarks',
        version: '9.9.8',
        type: 'module',
        exports: { '.': './old.js' },
      }),
    )
    writeFileSync(join(pkg, 'old.js'), 'export const nothing = 1\n')
    const b = captureIo(dir)
    expect(await runCli(['bench'], b.io)).toBe(1)
    expect(b.err.join('')).toContain('does not export runBenchCli(argv); upgrade it')
  })

  it('on SIGINT, lets running trials finish, exits 130 and prints the resume command', async () => {
    const dir = tmp()
    const child = spawnCli(
      [
        'search',
        '--space',
        'nb201',
        '--evaluator',
        synthetic,
        '--evaluator-options',
        '{"delayMs": 40}',
        '--budget',
        '500',
        '--out',
        'exp',
      ],
      dir,
    )
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (child.output.stderr.includes('Searching into')) {
          clearInterval(timer)
          setTimeout(resolve, 300)
        }
      }, 20)
    })
    child.kill('SIGINT')
    const { code } = await exited(child)
    expect(code).toBe(130)
    expect(child.output.stderr).toContain(`Resume with: naskit search --out ${join(dir, 'exp')}`)
    const data = readExperiment(join(dir, 'exp'))
    expect(data.running).toBe(0)
    expect(data.status?.status).toBe('interrupted')
    expect(data.trials.length).toBeGreaterThan(0)
  }, 30_000)
})
