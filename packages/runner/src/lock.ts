import {
  closeSync,
  linkSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { NaskitError } from '@naskit/core'
import { readOnlyHint, storageError } from './store'

/** File name of the lock inside an experiment folder. */
export const LOCK_FILE = 'naskit.lock'

interface LockInfo {
  pid: number
  host: string
  startedAt: number
}

/** What a lock file holds: nothing (gone), a lock, or something that is not one. */
type LockRead =
  | { state: 'missing' }
  | { state: 'valid'; info: LockInfo; text: string }
  | { state: 'invalid'; text: string }

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM'
  }
}

function isLockInfo(v: unknown): v is LockInfo {
  const o = v as Partial<LockInfo> | null
  return (
    o !== null &&
    typeof o === 'object' &&
    Number.isInteger(o.pid) &&
    (o.pid as number) > 0 &&
    typeof o.host === 'string' &&
    typeof o.startedAt === 'number'
  )
}

function readLock(path: string): LockRead {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return { state: 'missing' }
    // unreadable: treat as a lock we cannot judge, which is never taken over
    return { state: 'valid', info: { pid: 0, host: '', startedAt: 0 }, text: '' }
  }
  try {
    const info = JSON.parse(text) as unknown
    if (isLockInfo(info)) return { state: 'valid', info, text }
  } catch {
    // not JSON
  }
  return { state: 'invalid', text }
}

function describeText(text: string): string {
  if (text.trim() === '') return 'it is empty'
  const shown = text.length > 60 ? `${text.slice(0, 60)}…` : text
  return `it holds ${JSON.stringify(shown)}, not a naskit lock`
}

/** A held experiment lock; `release()` removes it. */
export interface ExperimentLock {
  path: string
  release(): void
}

/** Temporary lock files (`naskit.lock.<pid>.<random>`) that a dead process left behind. */
function removeOrphans(dir: string, host: string): void {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return
  }
  for (const name of names) {
    const m = /^naskit\.lock\.(\d+)\.[a-z0-9]+$/.exec(name)
    if (!m || Number(m[1]) === process.pid) continue
    const file = join(dir, name)
    const read = readLock(file)
    let orphan = false
    if (read.state === 'valid') orphan = read.info.host === host && !alive(read.info.pid)
    else if (read.state === 'invalid') {
      // an empty or partial one (its writer ran out of space, or was killed while writing it)
      try {
        orphan = Date.now() - statSync(file).mtimeMs > 60_000
      } catch {
        orphan = false
      }
    }
    if (!orphan) continue
    try {
      unlinkSync(file)
    } catch {
      // gone meanwhile, or not ours to remove
    }
  }
}

/** Creates `path` holding `text` only if it does not exist: a hard link, else an exclusive create. */
function createExclusive(path: string, tmp: string, text: string): void {
  try {
    linkSync(tmp, path)
    return
  } catch (error) {
    const code = (error as { code?: string }).code
    // file systems without hard links
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(code ?? '')) throw error
  }
  const fd = openSync(path, 'wx')
  try {
    writeSync(fd, text)
  } catch (error) {
    closeSync(fd)
    try {
      unlinkSync(path)
    } catch {
      // ignore
    }
    throw error
  }
  closeSync(fd)
}

/**
 * Takes the lock of an experiment folder so that a second runner cannot write to it. A lock
 * left by a process that no longer runs (killed, crashed) on this host is taken over, and so,
 * with a warning through `onWarning`, is a lock file that is not a valid lock (empty or
 * garbage: naskit writes its locks whole). `E_LOCKED` names the process that holds it; a
 * read-only folder is `E_READ_ONLY`, a full disk `E_DISK_FULL`.
 */
export function acquireLock(dir: string, onWarning?: (message: string) => void): ExperimentLock {
  const path = join(dir, LOCK_FILE)
  const info: LockInfo = { pid: process.pid, host: hostname(), startedAt: Date.now() }
  const text = JSON.stringify(info)
  const tmp = join(dir, `${LOCK_FILE}.${process.pid}.${Math.random().toString(36).slice(2)}`)
  const coded = (error: unknown): unknown =>
    storageError(error, `create the experiment lock ${path}`, {
      writing: true,
      hint: readOnlyHint(dir),
      subject: `the folder ${dir}`,
    }) ?? error
  removeOrphans(dir, info.host)
  try {
    try {
      writeFileSync(tmp, text)
    } catch (error) {
      throw coded(error)
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        createExclusive(path, tmp, text)
        return {
          path,
          release() {
            const held = readLock(path)
            if (
              held.state === 'valid' &&
              held.info.pid === info.pid &&
              held.info.startedAt === info.startedAt
            ) {
              try {
                unlinkSync(path)
              } catch {
                // already gone
              }
            }
          },
        }
      } catch (error) {
        if ((error as { code?: string }).code !== 'EEXIST') throw coded(error)
      }
      const held = readLock(path)
      if (held.state === 'missing') continue // released meanwhile
      if (held.state === 'valid') {
        const { info: h } = held
        const stale = h.pid > 0 && h.host === info.host && !alive(h.pid)
        if (!stale) {
          const who =
            h.pid > 0
              ? `process ${h.pid} on ${h.host}, running since ${new Date(h.startedAt).toISOString()}`
              : 'another process (its lock cannot be read)'
          throw new NaskitError(
            'E_LOCKED',
            `Experiment ${dir} is in use by ${who}. Wait for it to finish or stop it (Ctrl-C) before resuming; if that process is gone, delete ${path}.`,
          )
        }
      } else {
        onWarning?.(
          `The lock ${path} is not a valid lock (${describeText(held.text)}); no runner holds it, so this one takes it over.`,
        )
      }
      // take over only what was judged stale, not a lock another runner has taken meanwhile
      const again = readLock(path)
      if (again.state !== 'missing' && 'text' in again && again.text === held.text) {
        try {
          unlinkSync(path)
        } catch {
          // someone else removed it first
        }
      }
    }
    throw new NaskitError(
      'E_LOCKED',
      `Could not take the lock ${path}; another runner is starting on ${dir}. Try again in a moment.`,
    )
  } finally {
    try {
      unlinkSync(tmp)
    } catch {
      // never written, or already gone
    }
  }
}
