import { existsSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker, type WorkerOptions } from 'node:worker_threads'
import { NaskitError } from '../errors'
import { findPackage } from './modules'

/** How {@link startWorker} starts a worker thread: a script file, or code to evaluate. */
export interface WorkerLaunch {
  script: URL | string
  eval: boolean
  execArgv: string[]
}

/** Where a worker module lives: built, and (when running from sources) as TypeScript. */
export interface WorkerEntryOptions {
  /**
   * The TypeScript source of the worker module. Used when the built entry does not exist
   * (running from sources: tests, tsx): it is loaded through tsx's loader with the
   * `@naskit/source` condition, so workspace packages resolve to their sources too.
   */
  sourceEntry?: URL | string
}

const asPath = (p: URL | string): string =>
  p instanceof URL || p.startsWith('file:') ? fileURLToPath(p) : p

function resolveLaunch(
  entry: URL | string,
  options: WorkerEntryOptions,
): WorkerLaunch | { problem: string } {
  const built = asPath(entry)
  if (existsSync(built)) return { script: pathToFileURL(built), eval: false, execArgv: [] }
  const source = options.sourceEntry === undefined ? null : asPath(options.sourceEntry)
  if (source === null || !existsSync(source))
    return { problem: `No worker script was found at ${built}; build the package (dist/).` }
  const tsx = findPackage('tsx/esm/api', [dirname(source), process.cwd()])
  if (!tsx) {
    return {
      problem: `Starting a worker thread from the TypeScript sources (${source}) needs tsx; build the package (dist/) or install tsx.`,
    }
  }
  const code = `import(${JSON.stringify(pathToFileURL(tsx.entry).href)}).then((m) => { m.register(); return import(${JSON.stringify(pathToFileURL(source).href)}) })`
  return { script: code, eval: true, execArgv: ['--conditions=@naskit/source'] }
}

/**
 * How a worker thread on the module `entry` (the built `.js` file) would start here, or null
 * when it cannot: neither the built entry nor, with tsx installed, `sourceEntry` exists.
 */
export function workerLaunch(
  entry: URL | string,
  options: WorkerEntryOptions = {},
): WorkerLaunch | null {
  const launch = resolveLaunch(entry, options)
  return 'problem' in launch ? null : launch
}

/**
 * Starts a worker thread on the module `entry` (see {@link workerLaunch}) with `workerData`.
 * `E_WORKER_INIT` says what is missing when it cannot start.
 */
export function startWorker(
  entry: URL | string,
  workerData: unknown,
  options: WorkerEntryOptions & Omit<WorkerOptions, 'eval' | 'workerData'> = {},
): Worker {
  const { sourceEntry, ...workerOptions } = options
  const launch = resolveLaunch(entry, sourceEntry === undefined ? {} : { sourceEntry })
  if ('problem' in launch) throw new NaskitError('E_WORKER_INIT', launch.problem)
  return new Worker(launch.script, {
    ...workerOptions,
    eval: launch.eval,
    execArgv: [...launch.execArgv, ...(workerOptions.execArgv ?? [])],
    workerData,
  })
}
