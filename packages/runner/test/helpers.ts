import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterEach } from 'vitest'
import { findPackage } from '@naskit/core/node'

export const fixtures = join(import.meta.dirname, 'fixtures')
export const synthetic = join(fixtures, 'synthetic-evaluator.ts')
export const cpu = `${join(fixtures, 'cpu-evaluator.ts')}#cpu`
export const greedy = join(fixtures, 'greedy-strategy.ts')
export const packageDir = join(import.meta.dirname, '..')

const dirs: string[] = []
/** A temporary folder, removed after the test. */
export function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'naskit-runner-'))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** Captures what the CLI writes. */
export function captureIo(cwd?: string) {
  const out: string[] = []
  const err: string[] = []
  return {
    out,
    err,
    io: {
      stdout: { write: (t: string) => void out.push(t) },
      stderr: { write: (t: string) => void err.push(t) },
      ...(cwd ? { cwd } : {}),
    },
  }
}

/** `node` arguments that run the CLI from its TypeScript sources in a child process. */
export function cliNodeArgs(): string[] {
  const tsx = findPackage('tsx', [packageDir])
  if (!tsx) throw new Error('tsx is needed to run the CLI from sources in tests')
  return [
    '--conditions=@naskit/source',
    '--import',
    pathToFileURL(tsx.entry).href,
    join(packageDir, 'src', 'cli.ts'),
  ]
}

/** Starts `naskit …` in a child process. */
export function spawnCli(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): ChildProcess & { output: { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, [...cliNodeArgs(), ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0', ...env },
  })
  const output = { stdout: '', stderr: '' }
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    output.stdout += d
  })
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    output.stderr += d
  })
  return Object.assign(child, { output })
}

/** Waits for a child to exit; resolves with its code and signal. */
export function exited(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode })
    else child.on('exit', (code, signal) => resolve({ code, signal }))
  })
}

/** The image library, as the trainer (which depends on it) loads it: for writing test images. */
export type SharpLike = (
  input: Buffer,
  options: { raw: { width: number; height: number; channels: 1 | 3 } },
) => {
  png(): { toFile(file: string): Promise<unknown> }
  toColourspace(space: string): { png(): { toFile(file: string): Promise<unknown> } }
}
export function loadSharp(): SharpLike {
  const trainerEntry = fileURLToPath(import.meta.resolve('@naskit/trainer-tfjs'))
  const mod = createRequire(trainerEntry)('sharp') as SharpLike | { default: SharpLike }
  return typeof mod === 'function' ? mod : mod.default
}
