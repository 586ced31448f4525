import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { Arch, Fidelity, JsonValue, MetricValue, TrialResult } from '@naskit/core'
import { NaskitError } from '@naskit/core'
import Database from 'better-sqlite3'

/** File name of the store inside an experiment folder. */
export const STORE_FILE = 'naskit.db'
/** `PRAGMA application_id` of naskit stores ("NASK"). */
export const APPLICATION_ID = 0x4e41534b
/** Version of the schema below. */
export const SCHEMA_VERSION = 1

const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE trials (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL,
  arch TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed')),
  objective REAL,
  metrics TEXT,
  error_code TEXT,
  error_message TEXT,
  meta TEXT,
  fidelity TEXT,
  worker TEXT,
  started_at INTEGER,
  finished_at INTEGER,
  duration_ms REAL,
  elapsed_ms REAL,
  attempts INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX trials_status ON trials (status);
CREATE TABLE checkpoint (
  slot INTEGER PRIMARY KEY CHECK (slot = 1),
  seq INTEGER NOT NULL,
  state TEXT NOT NULL,
  next_trial_id INTEGER NOT NULL,
  saved_at INTEGER NOT NULL
);
CREATE TABLE blobs (name TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE events (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, type TEXT NOT NULL, data TEXT);
`

/** A trial as stored. */
export interface StoredTrial extends TrialResult {
  status: 'ok' | 'failed'
  /** Run time of the experiment (summed over sessions) when the trial finished. */
  elapsedMs: number | null
  attempts: number
}

/** A trial that was running when the experiment stopped. */
export interface RunningTrial {
  id: number
  arch: Arch
  key: string
  meta?: JsonValue
  fidelity?: Fidelity
  attempts: number
}

/** The latest strategy checkpoint. */
export interface Checkpoint {
  seq: number
  state: JsonValue
  nextTrialId: number
}

interface TrialRow {
  id: number
  key: string
  arch: string
  status: 'running' | 'ok' | 'failed'
  objective: number | null
  metrics: string | null
  error_code: string | null
  error_message: string | null
  meta: string | null
  fidelity: string | null
  worker: string | null
  started_at: number | null
  finished_at: number | null
  duration_ms: number | null
  elapsed_ms: number | null
  attempts: number
}

function refuse(path: string, why: string): NaskitError {
  return new NaskitError(
    'E_BAD_STORE',
    `Refusing to use ${path}: ${why}. naskit never overwrites it; choose another --out folder, or move the file away if it is yours to discard.`,
  )
}

function noExperimentYet(dir: string): NaskitError {
  return new NaskitError(
    'E_NO_EXPERIMENT',
    `${dir} holds no experiment yet: its ${STORE_FILE} is empty (a search stopped before storing anything). Run \`naskit search --out ${dir}\` to start it.`,
  )
}

/**
 * better-sqlite3's native addon not loading (built for another Node.js version, or never built)
 * is no fault of the store: say what it is and the command that fixes it.
 */
export function nativeModuleError(error: unknown): NaskitError | null {
  const e = error as { code?: unknown; message?: unknown }
  const message = typeof e?.message === 'string' ? e.message : ''
  const mismatch = /NODE_MODULE_VERSION|was compiled against a different Node\.js version/.test(
    message,
  )
  const missing = /Could not locate the bindings file|better_sqlite3\.node/.test(message)
  if (!(e?.code === 'ERR_DLOPEN_FAILED' || mismatch || missing)) return null
  const why = mismatch
    ? `its native addon was built for another Node.js version than this one (${process.version})`
    : 'its native addon is missing or does not load'
  return new NaskitError(
    'E_NATIVE_MODULE',
    `The SQLite driver better-sqlite3 cannot start: ${why}. The experiment store is untouched. Rebuild the driver for this Node.js, in the folder where naskit is installed:\n  npm rebuild better-sqlite3\n(pnpm rebuild better-sqlite3 in a pnpm project), then run the command again.\nDetails: ${message.split('\n')[0]}`,
    { cause: error },
  )
}

function readHeader(path: string): Buffer {
  const fd = openSync(path, 'r')
  try {
    const buf = Buffer.alloc(100)
    const n = readSync(fd, buf, 0, 100, 0)
    return buf.subarray(0, n)
  } finally {
    closeSync(fd)
  }
}

/**
 * The experiment store: one SQLite database (WAL mode) per experiment folder holding the
 * metadata, the trials, the latest strategy checkpoint, blobs and events. A finished trial
 * and the checkpoint taken after it was told commit in one transaction.
 */
export class Store {
  readonly db: Database.Database
  readonly path: string
  private readonly stmts: ReturnType<Store['prepare']>

  private constructor(db: Database.Database, path: string) {
    this.db = db
    this.path = path
    this.stmts = this.prepare()
  }

  /** True when `dir` holds an experiment store. */
  static exists(dir: string): boolean {
    return existsSync(join(dir, STORE_FILE))
  }

  /**
   * Opens the store of an experiment folder, creating it when `create` is set and there is
   * none. A file that is not a naskit store (corrupt, foreign, or from a newer version) is
   * refused with `E_BAD_STORE`, never overwritten.
   */
  static open(dir: string, opts: { create?: boolean; readonly?: boolean } = {}): Store {
    const path = join(dir, STORE_FILE)
    const existed = existsSync(path)
    if (!existed && !opts.create) {
      throw new NaskitError(
        'E_NO_EXPERIMENT',
        `No experiment in ${dir} (no ${STORE_FILE}). Run \`naskit search --out ${dir}\` first.`,
      )
    }
    if (existed) {
      const stat = statSync(path)
      if (!stat.isFile()) throw refuse(path, 'it is not a regular file')
      // created, then stopped before its first commit (even by kill -9): no experiment yet
      if (stat.size === 0 && opts.readonly) throw noExperimentYet(dir)
      const header = readHeader(path)
      if (
        header.length > 0 &&
        header.subarray(0, 16).toString('latin1') !== 'SQLite format 3\u0000'
      ) {
        throw refuse(path, 'it is not an SQLite database (corrupt or foreign file)')
      }
      if (
        header.length >= 72 &&
        header.readUInt32BE(68) !== APPLICATION_ID &&
        header.readUInt32BE(68) !== 0
      ) {
        throw refuse(path, 'it is an SQLite database of another application')
      }
    } else {
      mkdirSync(dir, { recursive: true })
    }
    let db: Database.Database
    try {
      db = new Database(path, { readonly: opts.readonly === true, fileMustExist: existed })
    } catch (error) {
      throw (
        nativeModuleError(error) ??
        refuse(path, `it cannot be opened (${(error as Error).message})`)
      )
    }
    try {
      if (!existed || (db.pragma('application_id', { simple: true }) === 0 && Store.isEmpty(db))) {
        if (opts.readonly) throw noExperimentYet(dir)
        db.pragma('journal_mode = WAL')
        db.transaction(() => {
          db.exec(SCHEMA)
          db.pragma(`application_id = ${APPLICATION_ID}`)
          db.pragma(`user_version = ${SCHEMA_VERSION}`)
        })()
      } else {
        Store.check(db, path)
        if (!opts.readonly) db.pragma('journal_mode = WAL')
      }
      db.pragma('synchronous = NORMAL')
      db.pragma('busy_timeout = 5000')
    } catch (error) {
      db.close()
      if (error instanceof NaskitError) throw error
      throw refuse(path, `it is damaged (${(error as Error).message})`)
    }
    return new Store(db, path)
  }

  private static isEmpty(db: Database.Database): boolean {
    return (
      (
        db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as {
          n: number
        }
      ).n === 0
    )
  }

  private static check(db: Database.Database, path: string): void {
    const app = db.pragma('application_id', { simple: true })
    if (app !== APPLICATION_ID)
      throw refuse(path, 'it is an SQLite database of another application')
    const version = db.pragma('user_version', { simple: true }) as number
    if (version > SCHEMA_VERSION) {
      throw refuse(
        path,
        `it was written by a newer naskit (store version ${version}, this one reads ${SCHEMA_VERSION}); upgrade @naskit/runner`,
      )
    }
    const result = db.pragma('quick_check', { simple: true })
    if (result !== 'ok') throw refuse(path, `it is damaged (${String(result)})`)
    const tables = new Set(
      (
        db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{
          name: string
        }>
      ).map((r) => r.name),
    )
    for (const t of ['meta', 'trials', 'checkpoint', 'blobs', 'events'])
      if (!tables.has(t)) throw refuse(path, `its table "${t}" is missing`)
  }

  private prepare() {
    const db = this.db
    return {
      getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
      insertRunning: db.prepare(
        `INSERT INTO trials (id, key, arch, status, meta, fidelity, worker, started_at, attempts)
         VALUES (@id, @key, @arch, 'running', @meta, @fidelity, NULL, @started_at, 1)
         ON CONFLICT (id) DO UPDATE SET status = 'running', attempts = attempts + 1, started_at = excluded.started_at
         WHERE trials.status = 'running' AND trials.key = excluded.key`,
      ),
      finish: db.prepare(
        `INSERT INTO trials (id, key, arch, status, objective, metrics, error_code, error_message, meta, fidelity, worker, started_at, finished_at, duration_ms, elapsed_ms)
         VALUES (@id, @key, @arch, @status, @objective, @metrics, @error_code, @error_message, @meta, @fidelity, @worker, @started_at, @finished_at, @duration_ms, @elapsed_ms)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, objective = excluded.objective, metrics = excluded.metrics,
           error_code = excluded.error_code, error_message = excluded.error_message, worker = excluded.worker,
           started_at = excluded.started_at, finished_at = excluded.finished_at, duration_ms = excluded.duration_ms, elapsed_ms = excluded.elapsed_ms
         WHERE trials.status = 'running' AND trials.key = excluded.key`,
      ),
      saveCheckpoint: db.prepare(
        `INSERT INTO checkpoint (slot, seq, state, next_trial_id, saved_at) VALUES (1, @seq, @state, @next, @at)
         ON CONFLICT (slot) DO UPDATE SET seq = excluded.seq, state = excluded.state, next_trial_id = excluded.next_trial_id, saved_at = excluded.saved_at`,
      ),
      trialById: db.prepare<[number], { key: string; status: string }>(
        'SELECT key, status FROM trials WHERE id = ?',
      ),
      maxTrialId: db.prepare<[], { id: number | null }>('SELECT max(id) AS id FROM trials'),
      getCheckpoint: db.prepare<[], { seq: number; state: string; next_trial_id: number }>(
        'SELECT seq, state, next_trial_id FROM checkpoint WHERE slot = 1',
      ),
      event: db.prepare('INSERT INTO events (at, type, data) VALUES (?, ?, ?)'),
      setBlob: db.prepare(
        'INSERT INTO blobs (name, data) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET data = excluded.data',
      ),
    }
  }

  getMeta<T = JsonValue>(key: string): T | undefined {
    const row = this.stmts.getMeta.get(key)
    return row === undefined ? undefined : (JSON.parse(row.value) as T)
  }

  setMeta(key: string, value: unknown): void {
    this.stmts.setMeta.run(key, JSON.stringify(value))
  }

  event(type: string, data?: unknown): void {
    this.stmts.event.run(Date.now(), type, data === undefined ? null : JSON.stringify(data))
  }

  /**
   * Commits one scheduler step atomically: trials that finished, trials that started, and
   * the strategy checkpoint taken after telling the former and asking the latter.
   */
  commit(step: {
    finished?: ReadonlyArray<TrialResult & { elapsedMs?: number }>
    started?: ReadonlyArray<{
      id: number
      key: string
      arch: Arch
      meta?: JsonValue
      fidelity?: Fidelity
      startedAt: number
    }>
    checkpoint?: { state: JsonValue; nextTrialId: number }
    events?: ReadonlyArray<{ type: string; data?: unknown }>
  }): void {
    this.transaction(() => {
      for (const t of step.started ?? []) {
        const r = this.stmts.insertRunning.run({
          id: t.id,
          key: t.key,
          arch: JSON.stringify(t.arch),
          meta: t.meta === undefined ? null : JSON.stringify(t.meta),
          fidelity: t.fidelity === undefined ? null : JSON.stringify(t.fidelity),
          started_at: t.startedAt,
        })
        if (r.changes !== 1) this.conflict(t.id, t.key, 'start')
      }
      for (const t of step.finished ?? []) {
        const r = this.stmts.finish.run({
          id: t.id,
          key: t.key,
          arch: JSON.stringify(t.arch),
          status: t.status,
          objective: t.objective,
          metrics: JSON.stringify(t.metrics),
          error_code: t.error?.code ?? null,
          error_message: t.error?.message ?? null,
          meta: t.meta === undefined ? null : JSON.stringify(t.meta),
          fidelity: t.fidelity === undefined ? null : JSON.stringify(t.fidelity),
          worker: t.worker ?? null,
          started_at: t.timings?.startedAt ?? null,
          finished_at: t.timings?.finishedAt ?? null,
          duration_ms: t.timings?.durationMs ?? null,
          elapsed_ms: t.elapsedMs ?? null,
        })
        if (r.changes !== 1) this.conflict(t.id, t.key, 'finish')
      }
      if (step.checkpoint) {
        const prev = this.stmts.getCheckpoint.get()
        this.stmts.saveCheckpoint.run({
          seq: (prev?.seq ?? 0) + 1,
          state: JSON.stringify(step.checkpoint.state),
          next: step.checkpoint.nextTrialId,
          at: Date.now(),
        })
      }
      for (const e of step.events ?? []) this.event(e.type, e.data)
    })
  }

  /**
   * A trial row is written once as running and once as finished, never over another trial or
   * over a finished one: the whole step is rolled back and the run stops with `E_BAD_STORE`.
   */
  private conflict(id: number, key: string, what: 'start' | 'finish'): never {
    const row = this.stmts.trialById.get(id)
    const found = row
      ? `it already holds ${row.status === 'running' ? 'the running' : `the ${row.status}`} trial ${id} with key ${row.key}`
      : 'it has no such trial'
    throw new NaskitError(
      'E_BAD_STORE',
      `Refusing to ${what} trial ${id} (key ${key}) in ${this.path}: ${found}. Stored trials are never overwritten; the store is unchanged. Resume the experiment to continue after its last trial.`,
      { details: { trialId: id, key, stored: row ?? null } },
    )
  }

  /** The id the next new trial gets: past every stored trial and the checkpoint's next id. */
  nextTrialId(): number {
    const max = this.stmts.maxTrialId.get()?.id
    return Math.max(
      this.checkpoint()?.nextTrialId ?? 0,
      max === null || max === undefined ? 0 : max + 1,
    )
  }

  /**
   * Copies the trials committed to the write-ahead log (`naskit.db-wal`) into `naskit.db`.
   * `PASSIVE` never waits for readers; `TRUNCATE` (end of a run) also empties the log.
   * Returns false when readers kept it from finishing.
   */
  checkpointWal(mode: 'PASSIVE' | 'TRUNCATE' = 'PASSIVE'): boolean {
    if (this.db.readonly || !this.db.open) return false
    const row = this.db.pragma(`wal_checkpoint(${mode})`) as Array<{ busy: number }>
    return row[0]?.busy === 0
  }

  /** Runs `fn` in one transaction. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)()
  }

  checkpoint(): Checkpoint | null {
    const row = this.stmts.getCheckpoint.get()
    return row
      ? { seq: row.seq, state: JSON.parse(row.state) as JsonValue, nextTrialId: row.next_trial_id }
      : null
  }

  setBlobs(blobs: Record<string, Uint8Array>): void {
    for (const [name, data] of Object.entries(blobs))
      this.stmts.setBlob.run(name, Buffer.from(data))
  }

  blobs(): Record<string, Uint8Array> {
    const out: Record<string, Uint8Array> = {}
    for (const r of this.db.prepare('SELECT name, data FROM blobs').all() as Array<{
      name: string
      data: Buffer
    }>) {
      out[r.name] = new Uint8Array(r.data)
    }
    return out
  }

  /** Finished trials (ok and failed), by id. */
  trials(): StoredTrial[] {
    const rows = this.db
      .prepare("SELECT * FROM trials WHERE status != 'running' ORDER BY id")
      .all() as TrialRow[]
    return rows.map(toStoredTrial)
  }

  /** Trials that were running when the experiment last stopped. */
  runningTrials(): RunningTrial[] {
    const rows = this.db
      .prepare("SELECT * FROM trials WHERE status = 'running' ORDER BY id")
      .all() as TrialRow[]
    return rows.map((r) => ({
      id: r.id,
      key: r.key,
      arch: JSON.parse(r.arch) as Arch,
      attempts: r.attempts,
      ...(r.meta === null ? {} : { meta: JSON.parse(r.meta) as JsonValue }),
      ...(r.fidelity === null ? {} : { fidelity: JSON.parse(r.fidelity) as Fidelity }),
    }))
  }

  counts(): { ok: number; failed: number; running: number } {
    const out = { ok: 0, failed: 0, running: 0 }
    for (const r of this.db
      .prepare('SELECT status, count(*) AS n FROM trials GROUP BY status')
      .all() as Array<{ status: keyof typeof out; n: number }>) {
      out[r.status] = r.n
    }
    return out
  }

  events(): Array<{ at: number; type: string; data: unknown }> {
    return (
      this.db.prepare('SELECT at, type, data FROM events ORDER BY id').all() as Array<{
        at: number
        type: string
        data: string | null
      }>
    ).map((e) => ({
      at: e.at,
      type: e.type,
      data: e.data === null ? null : (JSON.parse(e.data) as unknown),
    }))
  }

  close(): void {
    if (this.db.open) this.db.close()
  }
}

function toStoredTrial(r: TrialRow): StoredTrial {
  const t: StoredTrial = {
    id: r.id,
    key: r.key,
    arch: JSON.parse(r.arch) as Arch,
    status: r.status as 'ok' | 'failed',
    objective: r.objective,
    metrics: r.metrics === null ? {} : (JSON.parse(r.metrics) as Record<string, MetricValue>),
    elapsedMs: r.elapsed_ms,
    attempts: r.attempts,
  }
  if (r.error_code !== null) t.error = { code: r.error_code, message: r.error_message ?? '' }
  if (r.started_at !== null && r.finished_at !== null) {
    t.timings = {
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      durationMs: r.duration_ms ?? r.finished_at - r.started_at,
    }
  }
  if (r.meta !== null) t.meta = JSON.parse(r.meta) as JsonValue
  if (r.fidelity !== null) t.fidelity = JSON.parse(r.fidelity) as Fidelity
  if (r.worker !== null) t.worker = r.worker
  return t
}
