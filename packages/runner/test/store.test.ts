import { readFileSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { isNaskitError } from '@naskit/core'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { acquireLock, runExperiment, STORE_FILE, Store } from '../src/index'
import { synthetic, tmp } from './helpers'

describe('Store', () => {
  it('commits finished trials, started trials and the checkpoint together', () => {
    const dir = tmp()
    const store = Store.open(dir, { create: true })
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal')
    store.commit({
      started: [{ id: 0, key: 'k0', arch: { a: 1 }, startedAt: 1 }],
      checkpoint: { state: { n: 1 }, nextTrialId: 1 },
    })
    expect(store.runningTrials().map((t) => t.id)).toEqual([0])
    expect(() =>
      store.transaction(() => {
        store.commit({
          finished: [
            {
              id: 0,
              key: 'k0',
              arch: { a: 1 },
              status: 'ok',
              objective: 0.5,
              metrics: { objective: 0.5 },
            },
          ],
          checkpoint: { state: { n: 2 }, nextTrialId: 1 },
        })
        throw new Error('crash before commit')
      }),
    ).toThrow('crash before commit')
    expect(store.checkpoint()).toEqual({ seq: 1, state: { n: 1 }, nextTrialId: 1 })
    expect(store.trials()).toEqual([])
    store.commit({
      finished: [
        {
          id: 0,
          key: 'k0',
          arch: { a: 1 },
          status: 'failed',
          objective: null,
          metrics: {},
          error: { code: 'E_X', message: 'boom' },
        },
      ],
      checkpoint: { state: { n: 2 }, nextTrialId: 1 },
    })
    expect(store.trials()[0]?.error).toEqual({ code: 'E_X', message: 'boom' })
    expect(store.checkpoint()?.seq).toBe(2)
    expect(store.counts()).toEqual({ ok: 0, failed: 1, running: 0 })
    store.close()
  })

  it('refuses a corrupt file without touching it', async () => {
    const dir = tmp()
    const file = join(dir, STORE_FILE)
    writeFileSync(file, 'this is not a database, just some text that happens to be here')
    const before = readFileSync(file)
    const error = await runExperiment({
      out: dir,
      config: { space: 'nb201', evaluator: synthetic, budget: 2 },
    }).catch((e) => e)
    expect(isNaskitError(error, 'E_BAD_STORE')).toBe(true)
    expect(error.message).toContain('not an SQLite database')
    expect(readFileSync(file).equals(before)).toBe(true)
  })

  it('refuses another application’s SQLite database', () => {
    const dir = tmp()
    const db = new Database(join(dir, STORE_FILE))
    db.exec('CREATE TABLE songs (title TEXT)')
    db.close()
    const error = (() => {
      try {
        Store.open(dir, { create: true })
      } catch (e) {
        return e as Error
      }
    })()
    expect(isNaskitError(error, 'E_BAD_STORE')).toBe(true)
    expect(error?.message).toContain('another application')
  })

  it('refuses a truncated naskit database', async () => {
    const dir = tmp()
    await runExperiment({ out: dir, config: { space: 'nb201', evaluator: synthetic, budget: 30 } })
    const file = join(dir, STORE_FILE)
    const bytes = readFileSync(file)
    writeFileSync(file, bytes.subarray(0, 4096 + 100))
    expect(() => Store.open(dir)).toThrow(/Refusing to use/)
  })
})

describe('acquireLock', () => {
  it('refuses a second runner on the same folder, clearly', async () => {
    const dir = tmp()
    const lock = acquireLock(dir)
    const error = await runExperiment({
      out: dir,
      config: { space: 'nb201', evaluator: synthetic, budget: 2 },
    }).catch((e) => e)
    expect(isNaskitError(error, 'E_LOCKED')).toBe(true)
    expect(error.message).toContain(`is in use by process ${process.pid}`)
    lock.release()
    const ok = await runExperiment({
      out: dir,
      config: { space: 'nb201', evaluator: synthetic, budget: 2 },
    })
    expect(ok.status).toBe('completed')
  })

  it('takes over the lock of a process that no longer runs', () => {
    const dir = tmp()
    writeFileSync(
      join(dir, 'naskit.lock'),
      JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), startedAt: 1 }),
    )
    const lock = acquireLock(dir)
    expect(JSON.parse(readFileSync(lock.path, 'utf8')).pid).toBe(process.pid)
    lock.release()
  })
})
