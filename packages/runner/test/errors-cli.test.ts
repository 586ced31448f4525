import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { LOCK_FILE, readExperiment, runCli, runExperiment } from '../src/index'
import { captureIo, fixtures, synthetic, tmp } from './helpers'

async function cli(args: string[], cwd: string) {
  const c = captureIo(cwd)
  const code = await runCli(args, c.io)
  return { code, out: c.out.join(''), err: c.err.join('') }
}

function expectCoded(text: string, code: string): void {
  expect(text).toContain(`error ${code}: `)
  expect(text).not.toMatch(/\n\s+at /)
  expect(text).not.toContain('Unknown option')
}

const search = ['search', '--space', 'nb201', '--evaluator', synthetic]

describe('flag values', () => {
  it('a negative number is a value, refused with the range the flag takes', async () => {
    const cwd = tmp()
    const cases: Array<[string[], string]> = [
      [['--budget', '-1'], '--budget must be a positive integer (a number of trials), got -1.'],
      [['--workers', '-3'], '--workers must be a positive integer, got -3.'],
      [['--time', '-5'], '--time must be a positive duration such as 90s, 30m, 2h, got -5.'],
      [['--max-failures', '-2'], '--max-failures must be a positive integer, got -2.'],
      [['--grace', '-1'], '--grace must be a number of seconds ≥ 0, got -1.'],
      [['--budget=-4'], '--budget must be a positive integer (a number of trials), got -4.'],
      [['--budget', '0'], '--budget must be a positive integer (a number of trials), got 0.'],
      [['--budget', '2.5'], '--budget must be a positive integer (a number of trials), got 2.5.'],
      [['--seed', '1.5'], '--seed must be an integer, got 1.5.'],
      [['--budget', 'ten'], '--budget must be a number, got "ten".'],
      [['--budget', '3', '--budget', '4'], '--budget is given 2 times ("3", "4"); give it once.'],
    ]
    for (const [flags, message] of cases) {
      const r = await cli([...search, '--out', 'never', ...flags], cwd)
      expect(r.code, flags.join(' ')).toBe(1)
      expectCoded(r.err, 'E_BAD_CONFIG')
      expect(r.err, flags.join(' ')).toContain(message)
    }
    expect(existsSync(join(cwd, 'never'))).toBe(false)
    for (const [command, flags] of [
      ['export', ['--top', '-1']],
      ['report', ['--top', '-2']],
    ] as const) {
      const r = await cli([command, 'never', ...flags], cwd)
      expectCoded(r.err, 'E_BAD_CONFIG')
      expect(r.err).toContain('--top must be a positive integer')
    }
    const w = await cli(['worker', '--executor', 'redis://127.0.0.1:1', '--concurrency', '-1'], cwd)
    expectCoded(w.err, 'E_BAD_CONFIG')
    expect(w.err).toContain('--concurrency must be a positive integer, got -1.')
  })

  it('takes negative values where they are valid: --target, and --seed (a seed like any other)', async () => {
    const cwd = tmp()
    const r = await cli(
      [...search, '--out', 'neg', '--budget', '3', '--seed', '-1', '--target', '-0.5', '--quiet'],
      cwd,
    )
    expect(r.err).not.toContain('error')
    expect(r.code).toBe(0)
    const stored = readExperiment(join(cwd, 'neg')).config
    expect(stored?.seed).toBe(-1)
    expect(stored?.budget.target).toBe(-0.5)
    // a distinct seed: not the trials of seed 0 or 1
    const zero = await runExperiment({
      out: join(cwd, 'zero'),
      config: { space: 'nb201', evaluator: synthetic, budget: 3, seed: 0 },
    })
    const keys = (dir: string) => readExperiment(dir).trials.map((t) => t.key)
    expect(keys(join(cwd, 'neg'))).not.toEqual(keys(zero.dir))
  })

  it('--out "" is refused, not a search into ./0', async () => {
    const cwd = tmp()
    for (const flags of [['--out', ''], ['--out=']]) {
      const r = await cli([...search, '--budget', '2', ...flags], cwd)
      expect(r.code).toBe(1)
      expectCoded(r.err, 'E_BAD_CONFIG')
      expect(r.err).toContain('--out needs a value, got an empty string.')
    }
    expect(readdirSync(cwd)).toEqual([])
    // a folder named 0 is still a folder name
    expect((await cli([...search, '--budget', '1', '--out', '0', '--quiet'], cwd)).code).toBe(0)
    expect(existsSync(join(cwd, '0', 'naskit.db'))).toBe(true)
  })
})

describe('the experiment lock', () => {
  it('a garbage or empty naskit.lock is taken over, with a warning', async () => {
    const cwd = tmp()
    const dir = join(cwd, 'exp')
    expect((await cli([...search, '--out', 'exp', '--budget', '2', '--quiet'], cwd)).code).toBe(0)
    for (const [content, said] of [
      ['garbage', 'it holds "garbage", not a naskit lock'],
      ['', 'it is empty'],
      ['{"pid": "x"}', 'it holds "{\\"pid\\": \\"x\\"}", not a naskit lock'],
    ] as const) {
      writeFileSync(join(dir, LOCK_FILE), content)
      const budget = readExperiment(dir).trials.length + 1
      const r = await cli(['search', '--out', 'exp', '--budget', String(budget), '--quiet'], cwd)
      expect(r.code, content).toBe(0)
      expect(r.err).toContain(
        `warning: The lock ${join(dir, LOCK_FILE)} is not a valid lock (${said}`,
      )
      expect(readExperiment(dir).trials).toHaveLength(budget)
      expect(existsSync(join(dir, LOCK_FILE))).toBe(false)
    }
    // the lock of a live process on this host is not
    writeFileSync(
      join(dir, LOCK_FILE),
      JSON.stringify({ pid: process.pid, host: hostname(), startedAt: Date.now() }),
    )
    const held = await cli(['search', '--out', 'exp', '--budget', '9', '--quiet'], cwd)
    expect(held.code).toBe(1)
    expectCoded(held.err, 'E_LOCKED')
  })
})

describe('a budget below the trials already run', () => {
  it('is refused with E_BAD_CONFIG and keeps the stored budget', async () => {
    const cwd = tmp()
    const dir = join(cwd, 'exp')
    const ctrl = new AbortController()
    // an experiment of budget 20 stopped after 6 trials
    const first = await runExperiment({
      out: dir,
      config: { space: 'nb201', evaluator: synthetic, budget: 20 },
      signal: ctrl.signal,
      onEvent: (e) => {
        if (e.type === 'trial' && e.done >= 6) ctrl.abort()
      },
    })
    expect(first.status).toBe('interrupted')
    const done = readExperiment(dir).trials.length
    expect(done).toBeGreaterThanOrEqual(6)

    const low = await cli(['search', '--out', 'exp', '--budget', '3', '--quiet'], cwd)
    expect(low.code).toBe(1)
    expectCoded(low.err, 'E_BAD_CONFIG')
    expect(low.err).toContain(`A budget of 3 trials is below the ${done} trials`)
    expect(low.err).toContain('its own budget: 20 trials')
    expect(low.err).toContain('leave --budget out')
    expect(readExperiment(dir).config?.budget.trials).toBe(20)
    expect(readExperiment(dir).trials).toHaveLength(done)

    // its own budget goes on; a higher one is taken
    expect((await cli(['search', '--out', 'exp', '--quiet'], cwd)).code).toBe(0)
    expect(readExperiment(dir).trials).toHaveLength(20)
    expect((await cli(['search', '--out', 'exp', '--budget', '22', '--quiet'], cwd)).code).toBe(0)
    expect(readExperiment(dir).config?.budget.trials).toBe(22)
  })
})

describe('an unexpected error', () => {
  it('is one line with E_INTERNAL, its stack only with NASKIT_DEBUG', async () => {
    const cwd = tmp()
    const args = [...search, '--strategy', join(fixtures, 'err-broken-strategy.ts'), '--quiet']
    const r = await cli([...args, '--out', 'a'], cwd)
    expect(r.code).toBe(1)
    expectCoded(r.err, 'E_INTERNAL')
    expect(r.err).toContain("TypeError: Cannot read properties of undefined (reading 'cell')")
    expect(r.err).toContain('NASKIT_DEBUG=1')
    process.env.NASKIT_DEBUG = '1'
    try {
      const debug = await cli([...args, '--out', 'b'], cwd)
      expect(debug.err).toMatch(/\n\s+at /)
    } finally {
      delete process.env.NASKIT_DEBUG
    }
  })
})
