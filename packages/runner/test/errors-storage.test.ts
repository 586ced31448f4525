import { execFileSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
  writeSync,
  openSync,
  closeSync,
} from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { isNaskitError } from '@naskit/core'
import { describe, expect, it, vi } from 'vitest'
import { acquireLock, LOCK_FILE, readExperiment, runCli, runExperiment, Store } from '../src/index'
import { storageError } from '../src/store'
import { captureIo, synthetic, tmp } from './helpers'

/** Runs a command line in-process; what it printed, and its exit code. */
async function cli(args: string[], cwd: string) {
  const c = captureIo(cwd)
  const code = await runCli(args, c.io)
  return { code, out: c.out.join(''), err: c.err.join('') }
}

/** A message a user may see: coded, with no stack trace or raw driver error. */
function expectCoded(text: string, code: string): void {
  expect(text).toContain(`error ${code}: `)
  expect(text).not.toMatch(/\n\s+at /)
  expect(text).not.toMatch(/^(SqliteError|Error|TypeError)/m)
}

const search = (out: string, budget: number) => [
  'search',
  '--space',
  'nb201',
  '--evaluator',
  synthetic,
  '--budget',
  String(budget),
  '--out',
  out,
  '--quiet',
]

function run(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** Whether this machine lets the tests mount a small tmpfs and a read-only bind mount (root on Linux). */
const CAN_MOUNT = (() => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false
  const d = mkdtempSync(join(tmpdir(), 'naskit-mount-probe-'))
  try {
    if (!run('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', d])) return false
    run('umount', [d])
    if (!run('mount', ['--bind', d, d])) return false
    const ro = run('mount', ['-o', 'remount,ro,bind', d])
    run('umount', [d])
    return ro
  } finally {
    rmSync(d, { recursive: true, force: true })
  }
})()

/** Whether `chattr +i` works on the temporary folder's file system (root, ext4 and the like). */
const CAN_CHATTR = (() => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false
  const d = mkdtempSync(join(tmpdir(), 'naskit-chattr-probe-'))
  const f = join(d, 'f')
  writeFileSync(f, 'x')
  try {
    if (!run('chattr', ['+i', f])) return false
    return run('chattr', ['-i', f])
  } finally {
    rmSync(d, { recursive: true, force: true })
  }
})()

if (!CAN_MOUNT)
  console.warn('errors-storage: the real full-disk and read-only mount tests need root and mount')
if (!CAN_CHATTR) console.warn('errors-storage: the immutable-file test needs root and chattr')

/** Fills the rest of the file system holding `dir`, to the last byte. */
function fillUp(dir: string): void {
  const fd = openSync(join(dir, 'filler'), 'w')
  const chunk = Buffer.alloc(4096, 1)
  try {
    for (;;) writeSync(fd, chunk)
  } catch (error) {
    expect((error as { code?: string }).code).toBe('ENOSPC')
  } finally {
    closeSync(fd)
  }
  // and the last partial block
  try {
    writeFileSync(join(dir, 'filler2'), Buffer.alloc(1, 1))
  } catch {
    // full
  }
}

function readonlyCopies(): string[] {
  return readdirSync(tmpdir()).filter((n) => n.startsWith('naskit-readonly-'))
}

describe('storageError', () => {
  it('names a full disk, a read-only store, a denied read and an I/O error by code', () => {
    const e = (code: string, message = 'x') => Object.assign(new Error(message), { code })
    const cases: Array<[unknown, boolean, string]> = [
      [e('SQLITE_FULL', 'database or disk is full'), true, 'E_DISK_FULL'],
      [e('ENOSPC', 'ENOSPC: no space left on device, write'), true, 'E_DISK_FULL'],
      [e('EDQUOT'), true, 'E_DISK_FULL'],
      [e('SQLITE_READONLY', 'attempt to write a readonly database'), true, 'E_READ_ONLY'],
      [e('SQLITE_READONLY_DBMOVED'), true, 'E_READ_ONLY'],
      [e('EROFS'), false, 'E_READ_ONLY'],
      [e('EACCES'), true, 'E_READ_ONLY'],
      [e('EPERM'), true, 'E_READ_ONLY'],
      [e('EACCES'), false, 'E_PERMISSION'],
      [e('EIO'), true, 'E_IO'],
      [e('SQLITE_IOERR_WRITE'), true, 'E_IO'],
    ]
    for (const [error, writing, code] of cases) {
      const coded = storageError(error, 'write /x/naskit.db', { writing })
      expect(coded?.code, String((error as Error).message)).toBe(code)
      expect(coded?.message).toMatch(/^Cannot write \/x\/naskit\.db: /)
    }
    expect(storageError(new TypeError('x is not a function'), 'write it')).toBeNull()
  })

  it('turns a full disk or a read-only store met by a commit into E_DISK_FULL / E_READ_ONLY', () => {
    const dir = tmp()
    const store = Store.open(dir, { create: true })
    try {
      for (const [code, expected] of [
        ['SQLITE_FULL', 'E_DISK_FULL'],
        ['SQLITE_READONLY', 'E_READ_ONLY'],
      ] as const) {
        const spy = vi.spyOn(store.db, 'transaction').mockImplementation((() => () => {
          throw Object.assign(new Error('injected'), { code })
        }) as never)
        const error = (() => {
          try {
            store.commit({ checkpoint: { state: {}, nextTrialId: 0 } })
          } catch (err) {
            return err
          }
        })()
        spy.mockRestore()
        expect(isNaskitError(error, expected), String(error)).toBe(true)
        expect((error as Error).message).toContain(join(dir, 'naskit.db'))
        expect((error as Error).message).toContain(
          expected === 'E_DISK_FULL' ? `naskit search --out ${dir}` : 'copy the folder',
        )
      }
    } finally {
      store.close()
    }
  })
})

describe('a lock left behind', () => {
  it('removes temporary lock files of dead processes', () => {
    const dir = tmp()
    const dead = Number(
      execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']),
    )
    const orphan = join(dir, `${LOCK_FILE}.${dead}.abc123`)
    writeFileSync(orphan, JSON.stringify({ pid: dead, host: hostname(), startedAt: 1 }))
    // another host's one is not judged from here, nor a fresh empty one
    const foreign = join(dir, `${LOCK_FILE}.${dead}.def456`)
    writeFileSync(foreign, JSON.stringify({ pid: dead, host: 'elsewhere', startedAt: 1 }))
    const fresh = join(dir, `${LOCK_FILE}.${dead}.ghi789`)
    writeFileSync(fresh, '')
    const lock = acquireLock(dir)
    lock.release()
    expect(existsSync(orphan)).toBe(false)
    expect(existsSync(foreign)).toBe(true)
    expect(existsSync(fresh)).toBe(true)
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false)
  })
})

describe('a full disk (a real tmpfs)', () => {
  it.skipIf(!CAN_MOUNT)(
    'gives E_DISK_FULL for search, resume and report, keeps the trials, leaves no orphan file',
    async () => {
      const cwd = tmp()
      const disk = join(cwd, 'disk')
      mkdirSync(disk)
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=192k', 'tmpfs', disk])
      try {
        const first = await cli(search('disk/exp', 100_000), cwd)
        expect(first.code).toBe(1)
        expectCoded(first.err, 'E_DISK_FULL')
        expect(first.err).toContain('naskit search --out')
        const stored = readExperiment(join(disk, 'exp')).trials.length
        expect(stored).toBeGreaterThan(0)

        fillUp(disk)
        const resume = await cli(['search', '--out', 'disk/exp', '--quiet'], cwd)
        expect(resume.code).toBe(1)
        expectCoded(resume.err, 'E_DISK_FULL')

        const report = await cli(['report', 'disk/exp'], cwd)
        expect(report.code).toBe(1)
        expectCoded(report.err, 'E_DISK_FULL')
        expect(report.err).toContain('--file')

        // reading still works, and nothing half-written is left behind
        const exported = await cli(['export', 'disk/exp', '--top', '1'], cwd)
        expect(exported.code).toBe(0)
        expect(JSON.parse(exported.out).allTrials).toHaveLength(stored)
        const left = readdirSync(join(disk, 'exp'))
        expect(left.filter((n) => n.startsWith(`${LOCK_FILE}`))).toEqual([])
        expect(left.filter((n) => n.includes('report'))).toEqual([])
      } finally {
        run('umount', [disk]) || run('umount', ['-l', disk])
      }
    },
  )
})

describe('a read-only experiment', () => {
  it.skipIf(!CAN_MOUNT)(
    'on a read-only mount: report and export work, search is E_READ_ONLY',
    async () => {
      const cwd = tmp()
      const folder = join(cwd, 'ro')
      mkdirSync(folder)
      expect((await cli(search('ro/exp', 4), cwd)).code).toBe(0)
      const before = readonlyCopies()
      execFileSync('mount', ['--bind', folder, folder])
      try {
        execFileSync('mount', ['-o', 'remount,ro,bind', folder])
        const exported = await cli(['export', 'ro/exp', '--format', 'json'], cwd)
        expect(exported.err).toBe('')
        expect(exported.code).toBe(0)
        expect(JSON.parse(exported.out).allTrials).toHaveLength(4)
        const report = await cli(['report', 'ro/exp', '--file', 'report.html'], cwd)
        expect(report.code).toBe(0)
        expect(existsSync(join(cwd, 'report.html'))).toBe(true)

        const inPlace = await cli(['report', 'ro/exp'], cwd)
        expect(inPlace.code).toBe(1)
        expectCoded(inPlace.err, 'E_READ_ONLY')
        expect(inPlace.err).toContain('--file')

        const resume = await cli(['search', '--out', 'ro/exp', '--budget', '6', '--quiet'], cwd)
        expect(resume.code).toBe(1)
        expectCoded(resume.err, 'E_READ_ONLY')
        expect(resume.err).toContain('naskit report and naskit export read a read-only experiment')
        expect(resume.err).not.toContain('E_BAD_STORE')
        // the private copies the readers used are gone
        expect(readonlyCopies().filter((n) => !before.includes(n))).toEqual([])
      } finally {
        run('umount', [folder]) || run('umount', ['-l', folder])
      }
      expect(readExperiment(join(folder, 'exp')).trials).toHaveLength(4)
    },
  )

  it.skipIf(!CAN_CHATTR)(
    'an immutable store file: search is E_READ_ONLY, export works',
    async () => {
      const cwd = tmp()
      const dir = join(cwd, 'exp')
      await runExperiment({
        out: dir,
        config: { space: 'nb201', evaluator: synthetic, budget: 3 },
      })
      const file = join(dir, 'naskit.db')
      execFileSync('chattr', ['+i', file])
      try {
        const resume = await cli(['search', '--out', 'exp', '--budget', '5', '--quiet'], cwd)
        expect(resume.code).toBe(1)
        expectCoded(resume.err, 'E_READ_ONLY')
        expect(resume.err).toContain(file)
        const error = await runExperiment({ out: dir, config: { budget: 5 } }).catch((e) => e)
        expect(isNaskitError(error, 'E_READ_ONLY')).toBe(true)
        const exported = await cli(['export', 'exp'], cwd)
        expect(exported.code).toBe(0)
        expect(JSON.parse(exported.out).allTrials).toHaveLength(3)
      } finally {
        run('chattr', ['-i', file])
      }
    },
  )
})
