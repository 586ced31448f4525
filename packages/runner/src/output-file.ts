import { closeSync, openSync, readdirSync, readSync, realpathSync, statSync } from 'node:fs'
import { rename, unlink, writeFile } from 'node:fs/promises'
import { basename, dirname, join, resolve as resolvePath } from 'node:path'
import { NaskitError } from '@naskit/core'
import { LOCK_FILE } from './lock'
import { STORE_FILE, storageError } from './store'

/** Names of the files that make up an experiment's store and lock. */
const EXPERIMENT_FILE = new RegExp(
  `^(${STORE_FILE.replace('.', '\\.')}(-wal|-shm|-journal)?|${LOCK_FILE.replace('.', '\\.')}(\\..*)?)$`,
)

/** Headers of SQLite databases, write-ahead logs and rollback journals. */
function isSqliteFile(path: string): boolean {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    return false
  }
  try {
    const buf = Buffer.alloc(16)
    const n = readSync(fd, buf, 0, 16, 0)
    if (n >= 16 && buf.toString('latin1') === 'SQLite format 3\u0000') return true
    if (n >= 4 && (buf.readUInt32BE(0) === 0x377f0682 || buf.readUInt32BE(0) === 0x377f0683))
      return true
    return n >= 8 && buf.subarray(0, 8).equals(Buffer.from('d9d505f920a163d7', 'hex'))
  } finally {
    closeSync(fd)
  }
}

function realOrNull(path: string): string | null {
  try {
    return realpathSync(path)
  } catch {
    return null
  }
}

function wouldOverwrite(file: string, why: string): NaskitError {
  return new NaskitError(
    'E_WOULD_OVERWRITE',
    `Refusing to write ${file}: ${why}. naskit never writes over an experiment's files; choose another --file.`,
    { details: { file } },
  )
}

/**
 * Checks that `file` may be written by `naskit report` / `naskit export` of the experiment in
 * `experimentDir`: never the experiment's store (`naskit.db`, its `-wal`, `-shm`, `-journal`)
 * or lock, compared by real path (through symlinks and relative paths) and by file identity,
 * never any SQLite database, log or journal, and never a folder or a path into a missing
 * folder. Returns the absolute path.
 */
export function checkOutputFile(file: string, experimentDir: string): string {
  const abs = resolvePath(file)
  const parent = dirname(abs)
  let parentStat: ReturnType<typeof statSync>
  try {
    parentStat = statSync(parent)
  } catch {
    throw new NaskitError(
      'E_BAD_OPTIONS',
      `Cannot write ${abs}: the folder ${parent} does not exist. Create it first or choose another --file.`,
    )
  }
  if (!parentStat.isDirectory())
    throw new NaskitError('E_BAD_OPTIONS', `Cannot write ${abs}: ${parent} is not a folder.`)
  let target = join(realOrNull(parent) ?? parent, basename(abs))
  const existing = realOrNull(abs)
  if (existing !== null) {
    target = existing
    if (statSync(existing).isDirectory()) {
      throw new NaskitError(
        'E_BAD_OPTIONS',
        `Cannot write ${abs}: it is a folder. Give a file name with --file (e.g. ${join(abs, 'out.json')}).`,
      )
    }
  }
  if (EXPERIMENT_FILE.test(basename(abs)) || EXPERIMENT_FILE.test(basename(target)))
    throw wouldOverwrite(abs, `it is an experiment's ${basename(target)}`)

  // the experiment's own files, wherever their real paths lead
  const dir = resolvePath(experimentDir)
  const dirs = [dir, realOrNull(dir)].filter((d): d is string => d !== null)
  const protectedPaths = new Set<string>()
  const protectedIds = new Set<string>()
  for (const d of dirs) {
    let names: string[] = []
    try {
      names = readdirSync(d).filter((n) => EXPERIMENT_FILE.test(n))
    } catch {
      // no folder: nothing to protect there
    }
    for (const n of [STORE_FILE, `${STORE_FILE}-wal`, `${STORE_FILE}-shm`, ...names]) {
      const p = join(d, n)
      protectedPaths.add(p)
      const real = realOrNull(p)
      if (real !== null) {
        protectedPaths.add(real)
        try {
          const s = statSync(real)
          protectedIds.add(`${s.dev}:${s.ino}`)
        } catch {
          // gone meanwhile
        }
      }
    }
  }
  if (protectedPaths.has(abs) || protectedPaths.has(target))
    throw wouldOverwrite(abs, `it is a file of the experiment store in ${dir}`)
  if (existing !== null) {
    const s = statSync(existing)
    if (protectedIds.has(`${s.dev}:${s.ino}`))
      throw wouldOverwrite(abs, `it is a file of the experiment store in ${dir} (a link to it)`)
    if (isSqliteFile(existing))
      throw wouldOverwrite(abs, 'it is an SQLite database, write-ahead log or journal')
  }
  return abs
}

/**
 * Writes `text` to `file` after {@link checkOutputFile}, whole or not at all: into a temporary
 * file beside it, then renamed over it, so a full disk leaves an existing file as it was and no
 * partial one. A full disk is `E_DISK_FULL`, a read-only folder `E_READ_ONLY`; other file system
 * errors are `E_BAD_OPTIONS`.
 */
export async function writeOutputFile(
  file: string,
  experimentDir: string,
  text: string,
): Promise<string> {
  const abs = checkOutputFile(file, experimentDir)
  // write through a symlink to the file it points to, as writing in place would
  const target = realOrNull(abs) ?? join(realOrNull(dirname(abs)) ?? dirname(abs), basename(abs))
  const tmp = join(
    dirname(target),
    `.${basename(target)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`,
  )
  try {
    await writeFile(tmp, text)
    await rename(tmp, target)
  } catch (error) {
    await unlink(tmp).catch(() => undefined)
    const code = (error as { code?: string }).code ?? 'unknown'
    throw (
      storageError(error, `write ${abs}`, {
        writing: true,
        hint: 'Or write it elsewhere with --file FILE.',
        ...((error as { path?: unknown }).path === tmp
          ? { subject: `the folder ${dirname(target)}` }
          : {}),
      }) ??
      new NaskitError(
        'E_BAD_OPTIONS',
        `Cannot write ${abs} (${code}): ${(error as Error).message}`,
        { cause: error },
      )
    )
  }
  return abs
}
