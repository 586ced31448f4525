import {
  accessSync,
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  statSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
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
  /**
   * Fields of the stored row that cannot be read (not valid JSON), with the reason and the text
   * as stored; such a field is left empty (`arch` and `metrics` `{}`, `meta`, `fidelity` absent).
   * Absent when the row is whole.
   */
  damaged?: Partial<Record<'arch' | 'metrics' | 'meta' | 'fidelity', DamagedField>>
}

/** A stored field that is not valid JSON. */
export interface DamagedField {
  /** Why it cannot be read (the JSON parser's message). */
  message: string
  /** The text as stored. */
  text: string
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

/** The `code` of a Node.js file system error (`ENOSPC`…) or of an SQLite error (`SQLITE_FULL`…). */
function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : ''
}

function firstLine(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message
  const text = typeof message === 'string' ? message : String(error)
  return text.split('\n')[0] as string
}

/**
 * A file system or SQLite error as a coded {@link NaskitError}: a full disk (or quota) is
 * `E_DISK_FULL`, a read-only file, folder or mount `E_READ_ONLY`, a denied read `E_PERMISSION`,
 * an input/output error `E_IO`; null for any other error. `action` says what naskit was doing
 * ("write the experiment store /x/naskit.db"); `hint` is added to the advice.
 */
export function storageError(
  error: unknown,
  action: string,
  opts: {
    writing?: boolean
    hint?: string
    /** What is read-only or denied, when not the thing `action` names ("the folder /x"). */
    subject?: string
  } = {},
): NaskitError | null {
  if (error instanceof NaskitError) return error
  const code = codeOf(error)
  const detail =
    code !== '' && !firstLine(error).startsWith(code)
      ? `${code}: ${firstLine(error)}`
      : firstLine(error)
  const hint = opts.hint ? ` ${opts.hint}` : ''
  const make = (c: string, message: string) =>
    new NaskitError(c, message, { cause: error, details: { code } })
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL')
    return make(
      'E_DISK_FULL',
      `Cannot ${action}: the disk is full (${detail}). Free space on that disk (or raise the quota), then run the command again.${hint}`,
    )
  if (
    code === 'EROFS' ||
    code.startsWith('SQLITE_READONLY') ||
    (opts.writing && (code === 'EACCES' || code === 'EPERM'))
  )
    return make(
      'E_READ_ONLY',
      `Cannot ${action}: ${opts.subject ?? 'it'} is read-only (${detail}). Make it writable (chmod u+w, or mount the disk read-write), then run the command again.${hint}`,
    )
  if (code === 'EACCES' || code === 'EPERM')
    return make(
      'E_PERMISSION',
      `Cannot ${action}: permission denied (${detail}). Give this user access to it (chmod u+rw), then run the command again.`,
    )
  if (code === 'EIO' || code.startsWith('SQLITE_IOERR'))
    return make(
      'E_IO',
      `Cannot ${action}: the disk reported an input/output error (${detail}). Check the disk (it may be full, failing or disconnected), then run the command again.${hint}`,
    )
  return null
}

/** True when `dir` cannot be written (a read-only mount, or no write permission). */
function unwritable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK)
    return false
  } catch {
    return true
  }
}

/** Advice for a store that cannot be written. */
export function readOnlyHint(dir: string): string {
  return `naskit report and naskit export read a read-only experiment; to continue the search, copy the folder ${dir} somewhere writable and resume the copy with \`naskit search --out COPY\`.`
}

/** A store SQLite cannot read where it is (it would need to create files beside it). */
class CannotReadInPlace extends Error {
  constructor(override readonly cause: unknown) {
    super(firstLine(cause))
  }
}

function damagedRecord(path: string, what: string, error: unknown, advice: string): NaskitError {
  return new NaskitError(
    'E_BAD_RECORD',
    `The experiment store ${path} holds a damaged ${what}: it is not valid JSON (${firstLine(error)}). ${advice}`,
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
  /** The private copy a read-only store was opened from (removed on close), or null. */
  private readonly snapshotDir: string | null

  private constructor(db: Database.Database, path: string, snapshotDir: string | null = null) {
    this.db = db
    this.path = path
    this.snapshotDir = snapshotDir
    this.stmts = this.prepare()
  }

  /** True when `dir` holds an experiment store. */
  static exists(dir: string): boolean {
    return existsSync(join(dir, STORE_FILE))
  }

  /**
   * Opens the store of an experiment folder, creating it when `create` is set and there is
   * none. A file that is not a naskit store (corrupt, foreign, or from a newer version) is
   * refused with `E_BAD_STORE`, never overwritten. A store on a read-only folder or disk opens
   * for reading (from a private copy when SQLite cannot read it in place); opening it for
   * writing is `E_READ_ONLY`, and a full disk `E_DISK_FULL`.
   */
  static open(dir: string, opts: { create?: boolean; readonly?: boolean } = {}): Store {
    const path = join(dir, STORE_FILE)
    const existed = existsSync(path)
    try {
      return Store.openAt(dir, path, existed, opts, null)
    } catch (error) {
      if (!(error instanceof CannotReadInPlace)) throw error
    }
    // SQLite needs to create `naskit.db-shm` to read a store in place; in a read-only folder it
    // reads a private copy of the store and its write-ahead log instead
    let copy: string | null = null
    try {
      copy = mkdtempSync(join(tmpdir(), 'naskit-readonly-'))
      copyFileSync(path, join(copy, STORE_FILE))
      if (existsSync(`${path}-wal`)) copyFileSync(`${path}-wal`, join(copy, `${STORE_FILE}-wal`))
      return Store.openAt(dir, path, true, opts, copy)
    } catch (error) {
      if (copy !== null) rmSync(copy, { recursive: true, force: true })
      const cause = error instanceof CannotReadInPlace ? error.cause : error
      // (a NaskitError, such as E_BAD_STORE for a damaged copy, comes back as it is)
      throw (
        storageError(cause, `read the experiment store ${path} (through a copy in ${tmpdir()})`) ??
        refuse(path, `it cannot be read (${firstLine(cause)})`)
      )
    }
  }

  /** Opens `path` (or, with `snapshotDir`, its copy there) as {@link Store.open} describes. */
  private static openAt(
    dir: string,
    path: string,
    existed: boolean,
    opts: { create?: boolean; readonly?: boolean },
    snapshotDir: string | null,
  ): Store {
    const file = snapshotDir === null ? path : join(snapshotDir, STORE_FILE)
    if (!existed && !opts.create) {
      throw new NaskitError(
        'E_NO_EXPERIMENT',
        `No experiment in ${dir} (no ${STORE_FILE}). Run \`naskit search --out ${dir}\` first.`,
      )
    }
    const writeHint = opts.readonly ? '' : readOnlyHint(dir)
    if (existed) {
      const stat = statSync(path)
      if (!stat.isFile()) throw refuse(path, 'it is not a regular file')
      // created, then stopped before its first commit (even by kill -9): no experiment yet
      if (stat.size === 0 && opts.readonly) throw noExperimentYet(dir)
      let header: Buffer
      try {
        header = readHeader(path)
      } catch (error) {
        throw storageError(error, `read the experiment store ${path}`) ?? error
      }
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
      try {
        mkdirSync(dir, { recursive: true })
      } catch (error) {
        throw storageError(error, `create the experiment folder ${dir}`, { writing: true }) ?? error
      }
    }
    const action = `${opts.readonly ? 'read' : 'write'} the experiment store ${path}`
    // a store that cannot be written (read-only mount, immutable file) is not a damaged one
    const readOnly = (error: unknown): NaskitError | null => {
      const code = codeOf(error)
      if (opts.readonly && snapshotDir === null && existed) {
        if (code === 'SQLITE_CANTOPEN' || code.startsWith('SQLITE_READONLY'))
          throw new CannotReadInPlace(error)
      }
      if (code === 'SQLITE_BUSY')
        return new NaskitError(
          'E_LOCKED',
          `Cannot ${action}: another process keeps it busy (${firstLine(error)}). Wait for it to finish, then run the command again.`,
          { cause: error },
        )
      if (!opts.readonly && code === 'SQLITE_CANTOPEN' && unwritable(existed ? path : dir)) {
        const rofs = Object.assign(new Error(firstLine(error)), { code: 'EROFS' })
        return storageError(rofs, action, { hint: writeHint })
      }
      return storageError(error, action, { writing: !opts.readonly, hint: writeHint })
    }
    let db: Database.Database
    try {
      db = new Database(file, { readonly: opts.readonly === true, fileMustExist: existed })
    } catch (error) {
      throw (
        nativeModuleError(error) ??
        readOnly(error) ??
        refuse(path, `it cannot be opened (${(error as Error).message})`)
      )
    }
    try {
      db.pragma('busy_timeout = 5000')
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
        if (!opts.readonly) {
          db.pragma('journal_mode = WAL')
          if (snapshotDir === null) Store.probeWrite(db)
        }
      }
      db.pragma('synchronous = NORMAL')
    } catch (error) {
      db.close()
      if (error instanceof NaskitError) throw error
      throw readOnly(error) ?? refuse(path, `it is damaged (${(error as Error).message})`)
    }
    return new Store(db, path, snapshotDir)
  }

  /**
   * SQLite opens a file it cannot write (an immutable or read-only file in a writable folder)
   * for reading without a word; a write rolled back at once tells.
   */
  private static probeWrite(db: Database.Database): void {
    const version = db.pragma('user_version', { simple: true }) as number
    db.exec('BEGIN IMMEDIATE')
    try {
      db.pragma(`user_version = ${version}`)
    } finally {
      db.exec('ROLLBACK')
    }
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

  /** A stored setting; `E_BAD_RECORD` when its stored text is not valid JSON. */
  getMeta<T = JsonValue>(key: string): T | undefined {
    const row = this.stmts.getMeta.get(key)
    if (row === undefined) return undefined
    try {
      return JSON.parse(row.value) as T
    } catch (error) {
      throw damagedRecord(
        this.path,
        `setting "${key}"`,
        error,
        `Save the trials with \`naskit export ${dirname(this.path)} --format json --file FILE\` and start a new experiment in another folder.`,
      )
    }
  }

  setMeta(key: string, value: unknown): void {
    this.writing(() => this.stmts.setMeta.run(key, JSON.stringify(value)))
  }

  event(type: string, data?: unknown): void {
    this.writing(() =>
      this.stmts.event.run(Date.now(), type, data === undefined ? null : JSON.stringify(data)),
    )
  }

  /** Runs a write; a full disk or a read-only store becomes `E_DISK_FULL` / `E_READ_ONLY`. */
  private writing<T>(fn: () => T): T {
    try {
      return fn()
    } catch (error) {
      const dir = dirname(this.path)
      const coded = storageError(error, `write to the experiment store ${this.path}`, {
        writing: true,
        hint: ['SQLITE_FULL', 'ENOSPC', 'EDQUOT'].includes(codeOf(error))
          ? `Every trial committed before is kept; resume with \`naskit search --out ${dir}\`.`
          : readOnlyHint(dir),
      })
      throw coded ?? error
    }
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
    const row = this.writing(
      () => this.db.pragma(`wal_checkpoint(${mode})`) as Array<{ busy: number }>,
    )
    return row[0]?.busy === 0
  }

  /** Runs `fn` in one transaction (rolled back when it throws). */
  transaction<T>(fn: () => T): T {
    return this.writing(() => this.db.transaction(fn)())
  }

  /** The latest strategy checkpoint; `E_BAD_RECORD` when it cannot be read. */
  checkpoint(): Checkpoint | null {
    const row = this.stmts.getCheckpoint.get()
    if (!row) return null
    let state: JsonValue
    try {
      state = JSON.parse(row.state) as JsonValue
    } catch (error) {
      throw damagedRecord(
        this.path,
        'strategy checkpoint',
        error,
        `The search cannot continue from it. Save the trials with \`naskit export ${dirname(this.path)} --format json --file FILE\` and start a new experiment in another folder.`,
      )
    }
    return { seq: row.seq, state, nextTrialId: row.next_trial_id }
  }

  setBlobs(blobs: Record<string, Uint8Array>): void {
    this.writing(() => {
      for (const [name, data] of Object.entries(blobs))
        this.stmts.setBlob.run(name, Buffer.from(data))
    })
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

  /**
   * Finished trials (ok and failed), by id. A row with a field that is not valid JSON is still
   * returned, with that field empty and listed in `damaged`.
   */
  trials(): StoredTrial[] {
    const rows = this.db
      .prepare("SELECT * FROM trials WHERE status != 'running' ORDER BY id")
      .all() as TrialRow[]
    return rows.map(toStoredTrial)
  }

  /**
   * Trials that were running when the experiment last stopped; `E_BAD_RECORD` when one of them
   * cannot be read (it could not be run again).
   */
  runningTrials(): RunningTrial[] {
    const rows = this.db
      .prepare("SELECT * FROM trials WHERE status = 'running' ORDER BY id")
      .all() as TrialRow[]
    return rows.map((r) => {
      const t = toStoredTrial(r)
      const bad = Object.entries(t.damaged ?? {})[0]
      if (bad) {
        throw damagedRecord(
          this.path,
          `${bad[0]} of trial ${r.id} (running when the search stopped)`,
          { message: bad[1].message },
          `The trial cannot be run again. Save the trials with \`naskit export ${dirname(this.path)} --format json --file FILE\` and start a new experiment in another folder.`,
        )
      }
      return {
        id: r.id,
        key: r.key,
        arch: t.arch,
        attempts: r.attempts,
        ...(t.meta === undefined ? {} : { meta: t.meta }),
        ...(t.fidelity === undefined ? {} : { fidelity: t.fidelity }),
      }
    })
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
      data: e.data === null ? null : (parseOr(e.data, 'data') as unknown),
    }))
  }

  close(): void {
    if (this.db.open) this.db.close()
    if (this.snapshotDir !== null) rmSync(this.snapshotDir, { recursive: true, force: true })
  }
}

/** `text` parsed, or, when it is not valid JSON, what {@link StoredTrial.damaged} records. */
function parseOr(text: string, field: string, damaged?: StoredTrial['damaged']): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    if (damaged) damaged[field as keyof typeof damaged] = { message: firstLine(error), text }
    return { damaged: { message: firstLine(error), text } }
  }
}

function toStoredTrial(r: TrialRow): StoredTrial {
  const damaged: NonNullable<StoredTrial['damaged']> = {}
  const field = <T>(text: string, name: string, empty: T): T => {
    const value = parseOr(text, name, damaged)
    return name in damaged ? empty : (value as T)
  }
  const t: StoredTrial = {
    id: r.id,
    key: r.key,
    arch: field<Arch>(r.arch, 'arch', {}),
    status: r.status as 'ok' | 'failed',
    objective: r.objective,
    metrics: r.metrics === null ? {} : field<Record<string, MetricValue>>(r.metrics, 'metrics', {}),
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
  if (r.meta !== null) {
    const meta = field<JsonValue | undefined>(r.meta, 'meta', undefined)
    if (meta !== undefined) t.meta = meta
  }
  if (r.fidelity !== null) {
    const fidelity = field<Fidelity | undefined>(r.fidelity, 'fidelity', undefined)
    if (fidelity !== undefined) t.fidelity = fidelity
  }
  if (r.worker !== null) t.worker = r.worker
  if (Object.keys(damaged).length > 0) t.damaged = damaged
  return t
}
