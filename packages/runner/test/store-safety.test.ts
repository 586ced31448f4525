import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { isNaskitError } from '@naskit/core'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import {
  acquireLock,
  exportTrials,
  readExperiment,
  runCli,
  runExperiment,
  STORE_FILE,
  Store,
} from '../src/index'
import { captureIo, exited, greedy, spawnCli, synthetic, tmp } from './helpers'

const config = (budget: number, evaluatorOptions: Record<string, number> = {}) => ({
  space: 'nb201',
  strategy: greedy,
  evaluator: { name: synthetic, options: evaluatorOptions },
  budget,
  seed: 3,
})

const brief = (
  trials: Array<{ id: number; key: string; status: string; objective: number | null }>,
) => trials.map((t) => ({ id: t.id, key: t.key, status: t.status, objective: t.objective }))

async function cli(args: string[], cwd: string) {
  const c = captureIo(cwd)
  const code = await runCli(args, c.io)
  return { code, out: c.out.join(''), err: c.err.join('') }
}

describe('report and export never write over an experiment’s files', () => {
  it('refuses --file on the store, its log, shm, journal or lock, by any path', async () => {
    const cwd = tmp()
    const dir = join(cwd, 'exp')
    await runExperiment({ out: dir, config: config(5) })
    const before = readFileSync(join(dir, STORE_FILE))
    writeFileSync(join(dir, 'naskit.db-wal'), '')
    writeFileSync(join(dir, 'naskit.db-journal'), '')
    writeFileSync(join(dir, 'naskit.lock'), '{}')
    symlinkSync(dir, join(cwd, 'alias'), 'dir')
    symlinkSync(join(dir, STORE_FILE), join(cwd, 'link.json'))
    const targets = [
      'exp/naskit.db',
      join(dir, 'naskit.db'),
      'exp/../exp/./naskit.db',
      'alias/naskit.db',
      'link.json',
      'exp/naskit.db-wal',
      'alias/naskit.db-shm',
      'exp/naskit.db-journal',
      'exp/naskit.lock',
    ]
    for (const command of ['export', 'report']) {
      for (const file of targets) {
        const r = await cli([command, 'exp', '--file', file], cwd)
        expect(r.code, `${command} --file ${file}`).toBe(1)
        expect(r.err).toContain('error E_WOULD_OVERWRITE')
        expect(r.err).toMatch(/Refusing to write .*(naskit\.(db|lock)|link\.json)/)
      }
    }
    expect(readFileSync(join(dir, STORE_FILE))).toEqual(before)
    expect(readExperiment(dir).trials).toHaveLength(5)
    // another experiment's store is refused too
    const other = join(cwd, 'other')
    await runExperiment({ out: other, config: config(2) })
    const r = await cli(['export', 'exp', '--file', 'other/naskit.db'], cwd)
    expect(r.err).toContain('error E_WOULD_OVERWRITE')
    expect(readExperiment(other).trials).toHaveLength(2)
    // an SQLite file under another name as well
    copyFileSync(join(other, STORE_FILE), join(cwd, 'copy.sqlite'))
    expect((await cli(['export', 'exp', '--file', 'copy.sqlite'], cwd)).err).toContain(
      'E_WOULD_OVERWRITE',
    )
    // an ordinary file is written
    expect((await cli(['export', 'exp', '--file', 'exp/out.json'], cwd)).code).toBe(0)
    expect(JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')).allTrials).toHaveLength(5)
    expect((await cli(['report', 'exp', '--file', 'r.html'], cwd)).code).toBe(0)
  })

  it('gives a coded error for a folder or a missing folder', async () => {
    const cwd = tmp()
    const dir = join(cwd, 'exp')
    await runExperiment({ out: dir, config: config(2) })
    for (const command of ['export', 'report']) {
      const folder = await cli([command, 'exp', '--file', 'exp'], cwd)
      expect(folder.code).toBe(1)
      expect(folder.err).toContain('error E_BAD_OPTIONS')
      expect(folder.err).toContain('it is a folder')
      expect(folder.err).not.toContain('EISDIR')
      const missing = await cli([command, 'exp', '--file', 'nope/out.txt'], cwd)
      expect(missing.code).toBe(1)
      expect(missing.err).toContain('error E_BAD_OPTIONS')
      expect(missing.err).toContain('does not exist')
      expect(missing.err).not.toContain('ENOENT')
    }
    const error = await exportTrials(dir, { file: dir }).catch((e) => e)
    expect(isNaskitError(error, 'E_BAD_OPTIONS')).toBe(true)
  })
})

describe('a store that never held an experiment', () => {
  const emptyStores: Array<[string, (dir: string) => void]> = [
    [
      '0 bytes with a journal (killed right after creating it)',
      (dir) => {
        writeFileSync(join(dir, STORE_FILE), '')
        writeFileSync(join(dir, 'naskit.db-journal'), '')
      },
    ],
    [
      'SQLite without tables',
      (dir) => {
        const db = new Database(join(dir, STORE_FILE))
        db.pragma('journal_mode = WAL')
        db.close()
      },
    ],
  ]
  for (const [name, make] of emptyStores) {
    it(`${name}: report/export say no experiment yet, search creates it`, async () => {
      const cwd = tmp()
      const dir = join(cwd, 'exp')
      mkdirSync(dir)
      make(dir)
      // the lock of the killed process
      writeFileSync(
        join(dir, 'naskit.lock'),
        JSON.stringify({ pid: 2 ** 22 + 4321, host: hostname(), startedAt: 1 }),
      )
      for (const command of ['export', 'report']) {
        const r = await cli([command, 'exp'], cwd)
        expect(r.code).toBe(1)
        expect(r.err).toContain('error E_NO_EXPERIMENT')
        expect(r.err).toContain('no experiment yet')
        expect(r.err).not.toContain('move the file away')
      }
      const result = await runExperiment({ out: dir, config: config(4) })
      expect(result.status).toBe('completed')
      expect(readExperiment(dir).trials).toHaveLength(4)
    })
  }

  it('is created again after a search is killed as soon as naskit.db appears', async () => {
    const cwd = tmp()
    const child = spawnCli(
      [
        'search',
        '--space',
        'nb201',
        '--evaluator',
        synthetic,
        '--budget',
        '6',
        '--seed',
        '1',
        '--out',
        'exp',
        '--quiet',
      ],
      cwd,
    )
    const file = join(cwd, 'exp', STORE_FILE)
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (existsSync(file) || child.exitCode !== null) {
          clearInterval(poll)
          child.kill('SIGKILL')
          resolve()
        }
      }, 1)
    })
    await exited(child)
    const again = ['search', '--space', 'nb201', '--evaluator', synthetic, '--budget', '6']
    const r = await cli([...again, '--seed', '1', '--out', 'exp'], cwd)
    expect(r.err).not.toContain('E_BAD_STORE')
    expect(r.code, r.err).toBe(0)
    expect(readExperiment(join(cwd, 'exp')).trials).toHaveLength(6)
  }, 60_000)

  it('the lock, not a look at a store being created, decides who runs', async () => {
    for (const content of [
      Buffer.alloc(0),
      Buffer.concat([Buffer.from('SQLite format 3\u0000', 'latin1'), Buffer.alloc(40)]),
    ]) {
      const dir = tmp()
      const winner = acquireLock(dir)
      writeFileSync(join(dir, STORE_FILE), content)
      const error = await runExperiment({ out: dir, config: config(2) }).catch((e) => e)
      expect(isNaskitError(error, 'E_LOCKED')).toBe(true)
      expect(error.message).not.toContain('move the file away')
      expect(readFileSync(join(dir, STORE_FILE))).toEqual(content)
      winner.release()
    }
  })
})

describe('write-ahead log and backups', () => {
  it('checkpoints the log into naskit.db while a run goes on, and empties it at the end', async () => {
    const dir = tmp()
    const copy = tmp()
    let copied = false
    await runExperiment({
      out: dir,
      config: config(40),
      onEvent: (e) => {
        if (e.type === 'trial' && e.trial.id === 30 && !copied) {
          copied = true
          // naskit.db alone, as a copy that forgets the -wal file would have it
          copyFileSync(join(dir, STORE_FILE), join(copy, STORE_FILE))
        }
      },
    })
    expect(copied).toBe(true)
    const alone = Store.open(copy, { readonly: true })
    expect(alone.trials().length).toBeGreaterThanOrEqual(20)
    alone.close()
    const wal = join(dir, 'naskit.db-wal')
    expect(existsSync(wal) ? statSync(wal).size : 0).toBe(0)
  })

  it('export --format json holds every trial with arch, metrics, status, error and timings', async () => {
    const cwd = tmp()
    const dir = join(cwd, 'exp')
    const result = await runExperiment({ out: dir, config: config(14, { failEvery: 4 }) })
    const r = await cli(['export', 'exp', '--format', 'json'], cwd)
    expect(r.code).toBe(0)
    const json = JSON.parse(r.out)
    expect(json.trials).toHaveLength(10) // the ranked top 10
    expect(json.allTrials).toHaveLength(14)
    expect(json.experiment.config.seed).toBe(3)
    expect(json.experiment.status.status).toBe('completed')
    for (const t of result.trials) {
      const e = json.allTrials.find((x: { id: number }) => x.id === t.id)
      expect(e).toMatchObject({
        id: t.id,
        key: t.key,
        status: t.status,
        objective: t.objective,
        arch: t.arch,
        metrics: t.metrics,
        error: t.error ?? null,
        timings: t.timings,
        attempts: 1,
      })
    }
    const failed = result.trials.filter((t) => t.status === 'failed')
    expect(failed.length).toBeGreaterThan(0)
    expect(json.allTrials.filter((t: { status: string }) => t.status === 'failed')).toHaveLength(
      failed.length,
    )
  })
})

describe('trial rows are never overwritten', () => {
  it('refuses to start or finish a trial over a finished one, rolling the step back', () => {
    const dir = tmp()
    const store = Store.open(dir, { create: true })
    const done = {
      id: 0,
      key: 'k0',
      arch: { a: 1 },
      status: 'ok' as const,
      objective: 0.5,
      metrics: { objective: 0.5 },
    }
    store.commit({ finished: [done], checkpoint: { state: { n: 1 }, nextTrialId: 1 } })
    expect(() =>
      store.commit({
        finished: [{ ...done, key: 'other', objective: 0.9, metrics: { objective: 0.9 } }],
        checkpoint: { state: { n: 2 }, nextTrialId: 1 },
      }),
    ).toThrow(/Refusing to finish trial 0 .*already holds the ok trial 0 with key k0/)
    expect(() =>
      store.commit({
        started: [{ id: 0, key: 'k9', arch: { a: 9 }, startedAt: 1 }],
        checkpoint: { state: { n: 3 }, nextTrialId: 1 },
      }),
    ).toThrow(/Refusing to start trial 0/)
    expect(() =>
      store.commit({ finished: [{ ...done, objective: 0.1, metrics: { objective: 0.1 } }] }),
    ).toThrow(/Refusing to finish trial 0/)
    expect(brief(store.trials())).toEqual([{ id: 0, key: 'k0', status: 'ok', objective: 0.5 }])
    expect(store.checkpoint()).toMatchObject({ seq: 1, state: { n: 1 } })
    expect(store.nextTrialId()).toBe(1)
    store.close()
  })

  it('resumes after the stored trials when the checkpoint’s next id lags behind them', async () => {
    const dir = tmp()
    await runExperiment({ out: dir, config: config(10) })
    const before = brief(readExperiment(dir).trials)
    expect(before.map((t) => t.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    const db = new Database(join(dir, STORE_FILE))
    db.prepare('UPDATE checkpoint SET next_trial_id = 3').run()
    db.close()
    const resumed = await runExperiment({ out: dir, config: config(15) })
    expect(resumed.status).toBe('completed')
    const after = brief(readExperiment(dir).trials)
    expect(after.slice(0, 10)).toEqual(before)
    expect(after.map((t) => t.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14])
  })
})
