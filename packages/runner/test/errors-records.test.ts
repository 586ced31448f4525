import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { exportTrials, runCli, runExperiment, STORE_FILE, Store } from '../src/index'
import { captureIo, synthetic, tmp } from './helpers'

async function cli(args: string[], cwd: string) {
  const c = captureIo(cwd)
  const code = await runCli(args, c.io)
  return { code, out: c.out.join(''), err: c.err.join('') }
}

function expectCoded(text: string, code: string): void {
  expect(text).toContain(`error ${code}: `)
  expect(text).not.toMatch(/\n\s+at /)
  expect(text).not.toContain('SyntaxError')
}

/** An experiment of `n` trials in `cwd/exp`, whose store `damage` then edits with SQL. */
async function damaged(n: number, ...statements: string[]): Promise<{ cwd: string; dir: string }> {
  const cwd = tmp()
  const dir = join(cwd, 'exp')
  await runExperiment({
    out: dir,
    config: { space: 'nb201', evaluator: synthetic, budget: n, seed: 3 },
  })
  const db = new Database(join(dir, STORE_FILE))
  for (const sql of statements) db.prepare(sql).run()
  db.close()
  return { cwd, dir }
}

describe('a damaged record in the store', () => {
  it('does not block the export of the other trials: marked, and warned about', async () => {
    const { cwd, dir } = await damaged(
      6,
      `UPDATE trials SET metrics = '{"objective": 0.5,' WHERE id = 2`,
      `UPDATE trials SET arch = 'not json' WHERE id = 4`,
    )
    const json = await cli(['export', 'exp', '--top', '6'], cwd)
    expect(json.code).toBe(0)
    expect(json.err).toMatch(/^warning: Trial 2 of .*"metrics" is not valid JSON/m)
    expect(json.err).toMatch(/^warning: Trial 4 of .*"arch" is not valid JSON/m)
    const data = JSON.parse(json.out)
    expect(data.allTrials.map((t: { id: number }) => t.id)).toEqual([0, 1, 2, 3, 4, 5])
    const two = data.allTrials[2]
    expect(two.damaged.metrics).toMatchObject({ text: '{"objective": 0.5,' })
    expect(two.objective).toEqual(expect.any(Number)) // its own column is whole
    expect(two.arch.cell).toBeDefined()
    const four = data.allTrials[4]
    expect(four.arch).toBeNull()
    expect(four.damaged.arch.text).toBe('not json')
    expect(data.trials).toHaveLength(6)
    expect(data.experiment.warnings).toHaveLength(2)

    const csv = await cli(['export', 'exp', '--format', 'csv', '--top', '6'], cwd)
    expect(csv.code).toBe(0)
    const lines = csv.out.trim().split('\n')
    expect(lines[0]?.endsWith(',key,arch,damaged')).toBe(true)
    expect(lines).toHaveLength(7)
    expect(csv.out).toContain('arch: ')

    const report = await cli(['report', 'exp', '--top', '6'], cwd)
    expect(report.code).toBe(0)
    expect(report.err).toContain('warning: Trial 4')

    const warnings: string[] = []
    await exportTrials(dir, { onWarning: (m) => warnings.push(m) })
    expect(warnings).toHaveLength(2)

    // a search goes on after it: the damaged rows stay as they are
    const more = await cli(['search', '--out', 'exp', '--budget', '8', '--quiet'], cwd)
    expect(more.code).toBe(0)
    const store = Store.open(dir, { readonly: true })
    expect(store.trials().map((t) => t.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    store.close()
  })

  it('a damaged checkpoint: E_BAD_RECORD on resume, the export still works', async () => {
    const { cwd } = await damaged(4, `UPDATE checkpoint SET state = '{"rng": [1, 2'`)
    const resume = await cli(['search', '--out', 'exp', '--budget', '6', '--quiet'], cwd)
    expect(resume.code).toBe(1)
    expectCoded(resume.err, 'E_BAD_RECORD')
    expect(resume.err).toContain('strategy checkpoint')
    expect(resume.err).toContain('naskit export')
    const exported = await cli(['export', 'exp'], cwd)
    expect(exported.code).toBe(0)
    expect(JSON.parse(exported.out).allTrials).toHaveLength(4)
  })

  it('a damaged configuration: E_BAD_RECORD on resume; report and export warn and go on', async () => {
    const { cwd } = await damaged(3, `UPDATE meta SET value = '{"space": ' WHERE key = 'config'`)
    const resume = await cli(['search', '--out', 'exp', '--quiet'], cwd)
    expect(resume.code).toBe(1)
    expectCoded(resume.err, 'E_BAD_RECORD')
    expect(resume.err).toContain('setting "config"')
    const exported = await cli(['export', 'exp'], cwd)
    expect(exported.code).toBe(0)
    expect(exported.err).toContain('warning: The stored setting "config"')
    expect(JSON.parse(exported.out).allTrials).toHaveLength(3)
    const report = await cli(['report', 'exp'], cwd)
    expect(report.code).toBe(0)
    expect(report.err).toContain('warning: The stored setting "config"')
  })

  it('a damaged trial that was running: E_BAD_RECORD naming it on resume', async () => {
    const { cwd } = await damaged(
      3,
      `INSERT INTO trials (id, key, arch, status, attempts) VALUES (3, 'k3', '{"cell":', 'running', 1)`,
    )
    const resume = await cli(['search', '--out', 'exp', '--budget', '5', '--quiet'], cwd)
    expect(resume.code).toBe(1)
    expectCoded(resume.err, 'E_BAD_RECORD')
    expect(resume.err).toContain('arch of trial 3')
  })
})
