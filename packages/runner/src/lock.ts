import { hostname } from 'node:os'
import { join } from 'node:path'
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { NaskitError } from '@naskit/core'

/** File name of the lock inside an experiment folder. */
export const LOCK_FILE = 'naskit.lock'

interface LockInfo {
  pid: number
  host: string
  startedAt: number
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM'
  }
}

function readLock(path: string): LockInfo | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockInfo
  } catch {
    return null
  }
}

/** A held experiment lock; `release()` removes it. */
export interface ExperimentLock {
  path: string
  release(): void
}

/**
 * Takes the lock of an experiment folder so that a second runner cannot write to it. A lock
 * left by a process that no longer runs (killed, crashed) on this host is taken over.
 * `E_LOCKED` names the process that holds it.
 */
export function acquireLock(dir: string): ExperimentLock {
  const path = join(dir, LOCK_FILE)
  const info: LockInfo = { pid: process.pid, host: hostname(), startedAt: Date.now() }
  const tmp = join(dir, `${LOCK_FILE}.${process.pid}.${Math.random().toString(36).slice(2)}`)
  writeFileSync(tmp, JSON.stringify(info))
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(tmp, path)
        return {
          path,
          release() {
            const held = readLock(path)
            if (held && held.pid === info.pid && held.startedAt === info.startedAt) {
              try {
                unlinkSync(path)
              } catch {
                // already gone
              }
            }
          },
        }
      } catch (error) {
        if ((error as { code?: string }).code !== 'EEXIST') throw error
      }
      const held = readLock(path)
      const stale = held === null ? attempt > 0 : held.host === info.host && !alive(held.pid)
      if (!stale) {
        const who = held
          ? `process ${held.pid} on ${held.host}, running since ${new Date(held.startedAt).toISOString()}`
          : 'another process'
        throw new NaskitError(
          'E_LOCKED',
          `Experiment ${dir} is in use by ${who}. Wait for it to finish or stop it (Ctrl-C) before resuming; if that process is gone, delete ${path}.`,
        )
      }
      try {
        unlinkSync(path)
      } catch {
        // someone else removed it first
      }
    }
    throw new NaskitError(
      'E_LOCKED',
      `Could not take the lock ${path}; another runner is starting on ${dir}.`,
    )
  } finally {
    try {
      unlinkSync(tmp)
    } catch {
      // ignore
    }
  }
}
