import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isNaskitError } from '@naskit/core'
import { describe, expect, it } from 'vitest'
import { readExperiment, runCli, runExperiment } from '../src/index'
import { captureIo, synthetic, tmp } from './helpers'

async function cli(args: string[], cwd: string) {
  const c = captureIo(cwd)
  const code = await runCli(args, c.io)
  return { code, out: c.out.join(''), err: c.err.join('') }
}

/** A message a user may see: coded, one line of cause, no stack trace. */
function expectCoded(text: string, code: string): void {
  expect(text).toContain(`error ${code}: `)
  expect(text).not.toMatch(/\n\s+at /)
}

const base = (extra: string) =>
  `export default { space: 'nb201', evaluator: ${JSON.stringify(synthetic)}, budget: 2${extra} }\n`

describe('a config file that does not load', () => {
  it('throws at import: E_BAD_CONFIG naming the file and the line', async () => {
    const cwd = tmp()
    writeFileSync(
      join(cwd, 'naskit.config.ts'),
      "const a = 1\nthrow new Error('no API key in the environment')\nexport default {}\n",
    )
    const r = await cli(['search'], cwd)
    expect(r.code).toBe(1)
    expectCoded(r.err, 'E_BAD_CONFIG')
    expect(r.err).toContain(`Config file ${join(cwd, 'naskit.config.ts')} does not load`)
    expect(r.err).toContain('no API key in the environment')
    expect(r.err).toContain(`${join(cwd, 'naskit.config.ts')}:2:`)
  })

  it('has a syntax error: E_BAD_CONFIG naming the file', async () => {
    for (const name of ['naskit.config.ts', 'naskit.config.mjs']) {
      const cwd = tmp()
      writeFileSync(join(cwd, name), "export default { space: 'nb201', }}\n")
      const r = await cli(['search'], cwd)
      expect(r.code).toBe(1)
      expectCoded(r.err, 'E_BAD_CONFIG')
      expect(r.err).toContain(join(cwd, name))
    }
    const cwd = tmp()
    writeFileSync(join(cwd, 'c.json'), '{ "space": "nb201", }')
    const json = await cli(['search', '--config', 'c.json'], cwd)
    expectCoded(json.err, 'E_BAD_CONFIG')
    expect(json.err).toContain('not valid JSON')
  })

  it('exports something that is not a config object', async () => {
    const cwd = tmp()
    writeFileSync(join(cwd, 'naskit.config.mjs'), 'export default [1, 2]\n')
    const r = await cli(['search'], cwd)
    expectCoded(r.err, 'E_BAD_CONFIG')
    expect(r.err).toContain('must default-export a config object')
  })
})

describe('a plugin module that does not load', () => {
  it('an evaluator with a syntax error: E_PLUGIN_LOAD naming its file', async () => {
    for (const name of ['bad-evaluator.mjs', 'bad-evaluator.ts']) {
      const cwd = tmp()
      writeFileSync(
        join(cwd, name),
        "export default { name: 'x', cost: 'cheap', evaluate(arch) { return 1 +* 2 } }\n",
      )
      const r = await cli(['search', '--space', 'nb201', '--evaluator', `./${name}`], cwd)
      expect(r.code).toBe(1)
      expectCoded(r.err, 'E_PLUGIN_LOAD')
      expect(r.err).toContain(`Evaluator module ${join(cwd, name)} does not load`)
    }
  })

  it('an evaluator or a strategy that throws at import: E_PLUGIN_LOAD with the reason', async () => {
    const cwd = tmp()
    writeFileSync(join(cwd, 'ev.mjs'), "throw new RangeError('needs a GPU')\n")
    writeFileSync(join(cwd, 'st.mjs'), "throw new Error('strategy import failed')\n")
    const ev = await cli(['search', '--space', 'nb201', '--evaluator', './ev.mjs'], cwd)
    expectCoded(ev.err, 'E_PLUGIN_LOAD')
    expect(ev.err).toContain('RangeError: needs a GPU')
    expect(ev.err).toContain(join(cwd, 'ev.mjs'))
    const st = await cli(
      ['search', '--space', 'nb201', '--evaluator', synthetic, '--strategy', './st.mjs'],
      cwd,
    )
    expectCoded(st.err, 'E_PLUGIN_LOAD')
    expect(st.err).toContain('strategy import failed')
    expect(st.err).toContain(join(cwd, 'st.mjs'))
  })
})

describe('the experiment folder', () => {
  it('--out below a file: E_BAD_CONFIG naming the file', async () => {
    const cwd = tmp()
    writeFileSync(join(cwd, 'afile'), 'x')
    for (const out of ['afile/sub', 'afile/sub/deeper']) {
      const r = await cli(
        ['search', '--space', 'nb201', '--evaluator', synthetic, '--out', out],
        cwd,
      )
      expect(r.code).toBe(1)
      expectCoded(r.err, 'E_BAD_CONFIG')
      expect(r.err).toContain(`${join(cwd, 'afile')} is a file, not a folder`)
      expect(r.err).not.toContain('ENOTDIR')
    }
  })

  it('config out: 42 (or any non-string): E_BAD_CONFIG naming out', async () => {
    const cwd = tmp()
    writeFileSync(join(cwd, 'naskit.config.mjs'), base(', out: 42'))
    const r = await cli(['search'], cwd)
    expect(r.code).toBe(1)
    expectCoded(r.err, 'E_BAD_CONFIG')
    expect(r.err).toContain('out: must be a folder path (a non-empty string), got 42')
    const error = await runExperiment({
      baseDir: cwd,
      config: { space: 'nb201', evaluator: synthetic, out: { dir: 'x' } as never },
    }).catch((e) => e)
    expect(isNaskitError(error, 'E_BAD_CONFIG')).toBe(true)
    expect(error.message).toContain('got {"dir":"x"}')
  })
})

describe('config values', () => {
  it('graceMs must be a number of milliseconds ("soon" would make Ctrl-C wait forever)', async () => {
    const cwd = tmp()
    for (const [i, grace] of ["'soon'", '-1', 'Infinity', '1e12'].entries()) {
      writeFileSync(join(cwd, `g${i}.mjs`), base(`, graceMs: ${grace}`))
      const r = await cli(['search', '--config', `g${i}.mjs`, '--out', `r${i}`], cwd)
      expect(r.code, grace).toBe(1)
      expectCoded(r.err, 'E_BAD_CONFIG')
      expect(r.err).toContain('graceMs: must be a number of milliseconds')
    }
    expect(
      readExperiment(
        (
          await runExperiment({
            out: join(cwd, 'ok'),
            config: { space: 'nb201', evaluator: synthetic, budget: 1, graceMs: 0 },
          })
        ).dir,
      ).config?.graceMs,
    ).toBe(0)
  })

  it('shows strings quoted, so that "3" and 3 differ', async () => {
    const cwd = tmp()
    const cases: Array<[string, string]> = [
      [", workers: '3'", 'workers: must be a positive integer, got "3"'],
      [", seed: '7'", 'seed: must be an integer, got "7"'],
      [", maxFailures: '2'", 'maxFailures: must be a positive integer, got "2"'],
      [
        ", executor: 'thread'",
        'executor: must be auto, threads, inline or a redis://host:port URL, got "thread"',
      ],
      [", budget: { trials: '5' }", 'budget.trials: must be a positive integer, got "5"'],
      [", space: 'nb-201'", 'space: unknown built-in space "nb-201"'],
    ]
    for (const [i, [extra, message]] of cases.entries()) {
      // a file per case: a module is imported once per process
      writeFileSync(
        join(cwd, `c${i}.mjs`),
        `export default { space: 'nb201', evaluator: ${JSON.stringify(synthetic)}${extra} }\n`,
      )
      const r = await cli(['search', '--config', `c${i}.mjs`, '--out', 'never'], cwd)
      expect(r.err, extra).toContain(message)
    }
    expect(existsSync(join(cwd, 'never'))).toBe(false)
  })

  it('a seed must be an integer: 1.5 is refused, not run as seed 1', async () => {
    const error = await runExperiment({
      out: join(tmp(), 'x'),
      config: { space: 'nb201', evaluator: synthetic, budget: 1, seed: 1.5 },
    }).catch((e) => e)
    expect(isNaskitError(error, 'E_BAD_CONFIG')).toBe(true)
    expect(error.message).toContain('seed: must be an integer, got 1.5')
  })
})

describe('an evaluator returning a string objective', () => {
  it('fails the trial saying the objective is a string', async () => {
    const cwd = tmp()
    mkdirSync(join(cwd, 'ev'))
    writeFileSync(
      join(cwd, 'ev', 'index.mjs'),
      "export default Object.assign(() => ({ objective: '0.29' }), { cost: 'cheap' })\n",
    )
    const result = await runExperiment({
      out: join(cwd, 'exp'),
      config: { space: 'nb201', evaluator: join(cwd, 'ev', 'index.mjs'), budget: 1 },
    })
    const error = result.trials[0]?.error
    expect(error?.code).toBe('E_BAD_METRICS')
    expect(error?.message).toContain('is a string ("0.29"), not a number')
    expect(error?.message).not.toContain('non-finite')
  })
})
