import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { resolveStrategy, runBenchCli } from '../src/index'
import { NB201_CSV } from './helpers'

function capture(env: NodeJS.ProcessEnv = { NASKIT_NB201: NB201_CSV }) {
  const io = { out: '', err: '' }
  return {
    io,
    opts: {
      stdout(t: string) {
        io.out += t
      },
      stderr(t: string) {
        io.err += t
      },
      env,
      cwd: process.cwd(),
    },
  }
}

describe('runBenchCli', () => {
  it('runs strategies × seeds and writes the markdown table, the plot and every run', async () => {
    const out = mkdtempSync(join(tmpdir(), 'naskit-bench-'))
    const { io, opts } = capture()
    const code = await runBenchCli(
      [
        'nb201',
        '--strategies',
        'random,evolution,local-search',
        '--queries',
        '30',
        '--seeds',
        '4',
        '--dataset',
        'imagenet16',
        '--out',
        out,
      ],
      opts,
    )
    expect(code, io.err).toBe(0)
    expect(io.out).toMatch(/ImageNet16-120 · 30 queries × 4 seeds/)
    expect(io.out).toMatch(/\| evolution \|/)
    expect(io.out).toMatch(/\| local-search \|/)
    expect(io.out).toMatch(/45\.24 ± 1\.18/)
    expect(readFileSync(join(out, 'results.md'), 'utf8')).toBe(io.out)
    expect(readFileSync(join(out, 'curves.svg'), 'utf8')).toMatch(/^<svg/)
    const json = JSON.parse(readFileSync(join(out, 'runs.json'), 'utf8'))
    expect(json.runs).toHaveLength(12)
    expect(io.err).toMatch(/12 runs/)
  })

  it('prints JSON with --json and takes the table from --nb201 and options per strategy', async () => {
    const out = mkdtempSync(join(tmpdir(), 'naskit-bench-'))
    const { io, opts } = capture({})
    const code = await runBenchCli(
      [
        'nb201',
        '--strategies',
        'evolution',
        '--queries',
        '12',
        '--seeds',
        '2',
        '--json',
        '--out',
        out,
        '--nb201',
        NB201_CSV,
        '--options',
        '{"evolution":{"populationSize":4,"sampleSize":2}}',
      ],
      opts,
    )
    expect(code, io.err).toBe(0)
    const json = JSON.parse(io.out)
    expect(json.dataset).toBe('cifar10')
    expect(json.summaries[0].strategy).toBe('evolution')
    expect(json.runs.map((r: { queries: number }) => r.queries)).toEqual([12, 12])
  })

  it('says how to point at the table when none is given', async () => {
    const { io, opts } = capture({})
    expect(
      await runBenchCli(
        ['nb201', '--seeds', '1', '--out', mkdtempSync(join(tmpdir(), 'nb-'))],
        opts,
      ),
    ).toBe(1)
    expect(io.err).toMatch(/--nb201 PATH.*NASKIT_NB201/)
  })

  it('rejects bad arguments with a usage message', async () => {
    const bad = async (argv: string[], code: number, match: RegExp) => {
      const { io, opts } = capture()
      expect(await runBenchCli(argv, opts)).toBe(code)
      expect(io.err).toMatch(match)
    }
    await bad(['nb201', '--bogus'], 2, /Unknown option '--bogus'[\s\S]*Usage/)
    await bad(['nb301'], 2, /only tabular benchmark is nb201/)
    await bad(
      ['nb201', '--dataset', 'mnist'],
      1,
      /--dataset must be one of cifar10, cifar100, imagenet16/,
    )
    await bad(['nb201', '--queries', '0'], 1, /--queries must be a positive integer/)
    await bad(['nb201', '--options', '{nope'], 1, /--options is not valid JSON/)
    await bad(
      ['nb201', '--strategies', 'random', '--options', '{"evolution":{}}'],
      1,
      /not in --strategies/,
    )
    await bad(
      ['nb201', '--strategies', 'no-such-strategy-pkg'],
      1,
      /Unknown strategy "no-such-strategy-pkg"/,
    )
  })

  it('accepts the command word in front, as the naskit CLI passes it', async () => {
    const { io, opts } = capture()
    const out = mkdtempSync(join(tmpdir(), 'naskit-bench-'))
    expect(
      await runBenchCli(
        [
          'bench',
          'nb201',
          '--seeds',
          '2',
          '--queries',
          '5',
          '--strategies',
          'random',
          '--out',
          out,
        ],
        opts,
      ),
    ).toBe(0)
    expect(io.out).toMatch(/5 queries × 2 seeds/)
  })

  it('prints help', async () => {
    const { io, opts } = capture()
    expect(await runBenchCli(['--help'], opts)).toBe(0)
    expect(io.out).toMatch(/naskit bench nb201/)
    expect(existsSync(join(process.cwd(), 'runs'))).toBe(false)
  })
})

describe('resolveStrategy', () => {
  it('finds random in core and evolution, local-search in @naskit/strategy-evolution', async () => {
    expect((await resolveStrategy('random')).name).toBe('random')
    expect((await resolveStrategy('evolution')).name).toBe('evolution')
    expect((await resolveStrategy('local-search')).name).toBe('local-search')
  })

  it('loads a package by name, or one of its strategies with package#name', async () => {
    expect((await resolveStrategy('@naskit/strategy-evolution')).name).toBe('evolution')
    expect((await resolveStrategy('@naskit/strategy-evolution#local-search')).name).toBe(
      'local-search',
    )
    await expect(resolveStrategy('@naskit/strategy-evolution#nope')).rejects.toThrow(
      /provides: evolution, local-search/,
    )
  })
})

describe('strategies by the names naskit search takes', () => {
  const strategySource = (name: string) =>
    `let n = 0
export default {
  name: '${name}', kind: 'sampling', description: 'first-come order', options: {},
  create: ({ space, rng }) => {
    let r = rng
    return {
      ask: (k) => Array.from({ length: k }, () => ({ arch: space.sample(r) })),
      tell() { n++ },
      state: () => ({ rng: r.state() }),
      restore(s) { r = r.constructor.fromState(s.rng) },
    }
  },
}
`
  function project(): string {
    const dir = mkdtempSync(join(tmpdir(), 'naskit-bench-resolve-'))
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}')
    const pkg = join(dir, 'node_modules', 'naskit-strategy-drift')
    mkdirSync(pkg, { recursive: true })
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({
        name: 'naskit-strategy-drift',
        version: '0.0.1',
        type: 'module',
        exports: './index.js',
      }),
    )
    writeFileSync(join(pkg, 'index.js'), strategySource('drift'))
    writeFileSync(join(dir, 'mine.ts'), strategySource('mine'))
    return dir
  }

  it('finds naskit-strategy-* packages by their short name and TypeScript strategy files', async () => {
    const dir = project()
    expect((await resolveStrategy('drift', dir)).name).toBe('drift')
    expect((await resolveStrategy('./mine.ts', dir)).name).toBe('mine')
    const { io, opts } = capture()
    const code = await runBenchCli(
      [
        'nb201',
        '--strategies',
        'drift,./mine.ts',
        '--queries',
        '10',
        '--seeds',
        '2',
        '--workers',
        '1',
        '--out',
        join(dir, 'out'),
      ],
      { ...opts, cwd: dir },
    )
    expect(io.err).not.toMatch(/error/i)
    expect(code).toBe(0)
    expect(io.out).toMatch(/drift/)
    expect(io.out).toMatch(/mine/)
  })

  it('suggests the nearest strategy for a typo', async () => {
    const dir = project()
    await expect(resolveStrategy('evolutoin', dir)).rejects.toThrow(/Did you mean "evolution"\?/)
    await expect(resolveStrategy('drfit', dir)).rejects.toThrow(/Did you mean "drift"\?/)
  })
})

describe('--seeds and --seed-offset', () => {
  it('takes a count, a count with an offset, or a range A:B', async () => {
    const { parseSeeds } = await import('../src/index')
    expect(parseSeeds(undefined)).toHaveLength(100)
    expect(parseSeeds('3')).toEqual([0, 1, 2])
    expect(parseSeeds('3', '10000')).toEqual([10000, 10001, 10002])
    expect(parseSeeds('10000:10003')).toEqual([10000, 10001, 10002, 10003])
    expect(parseSeeds('7:7')).toEqual([7])
    for (const bad of ['0', '-2', 'x', '5:3', '1:2:3', '1.5'])
      expect(() => parseSeeds(bad), bad).toThrow(/--seeds/)
    expect(() => parseSeeds('1:4', '10')).toThrow(/--seed-offset goes with --seeds N/)
    expect(() => parseSeeds('4', '-1')).toThrow(/--seed-offset must be an integer/)
  })

  it('runs the seeds of a range and names them in the report', async () => {
    const out = mkdtempSync(join(tmpdir(), 'naskit-bench-'))
    const { io, opts } = capture()
    const code = await runBenchCli(
      [
        'nb201',
        '--strategies',
        'random',
        '--queries',
        '5',
        '--seeds',
        '10000:10002',
        '--json',
        '--out',
        out,
      ],
      opts,
    )
    expect(code, io.err).toBe(0)
    const json = JSON.parse(io.out)
    expect(json.seeds).toEqual([10000, 10001, 10002])
    expect(json.runs.map((r: { seed: number }) => r.seed)).toEqual([10000, 10001, 10002])
    expect(readFileSync(join(out, 'results.md'), 'utf8')).toMatch(
      /5 queries × 3 seeds \(seeds 10000–10002\)/,
    )
    const offset = capture()
    expect(
      await runBenchCli(
        [
          'nb201',
          '--strategies',
          'random',
          '--queries',
          '5',
          '--seeds',
          '2',
          '--seed-offset',
          '50',
          '--json',
          '--out',
          out,
        ],
        offset.opts,
      ),
    ).toBe(0)
    expect(JSON.parse(offset.io.out).seeds).toEqual([50, 51])
  })

  it('rejects a bad range with a usage message', async () => {
    const { io, opts } = capture()
    expect(await runBenchCli(['nb201', '--seeds', '9:3'], opts)).toBe(1)
    expect(io.err).toMatch(/--seeds A:B needs integers with A ≤ B.*\[E_BAD_OPTIONS\]/)
  })
})
