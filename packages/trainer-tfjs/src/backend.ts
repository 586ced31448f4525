import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { NaskitError } from './errors.js'
import { registerGradientKernels } from './kernels/register.js'

/** Backends a user can ask for. `auto` picks the fastest one that loads. */
export type BackendChoice = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu'
export type ConcreteBackend = Exclude<BackendChoice, 'auto'>

export const BACKEND_CHOICES: readonly BackendChoice[] = [
  'auto',
  'tensorflow-gpu',
  'tensorflow',
  'wasm',
  'cpu',
]

/** Order in which `auto` tries the backends. */
export const AUTO_ORDER: readonly ConcreteBackend[] = [
  'tensorflow-gpu',
  'tensorflow',
  'wasm',
  'cpu',
]

/**
 * A loader makes a backend available to tfjs (loads the package, registers kernels) and
 * returns the name that `tf.setBackend` knows it by. It throws when the backend cannot load.
 */
export type BackendLoader = () => Promise<string>

export interface SelectBackendOptions {
  /** Defaults to `NASKIT_BACKEND`, then `auto`. An explicit option wins over the variable. */
  backend?: BackendChoice
  /** Environment to read `NASKIT_BACKEND` from (default `process.env`). */
  env?: Record<string, string | undefined>
  /** Replace loaders (tests, custom builds). */
  loaders?: Partial<Record<ConcreteBackend, BackendLoader>>
  /**
   * Where the one summary line goes; `false` silences it. By default it goes to `console.info`,
   * once per process: choosing again with the same outcome logs nothing.
   */
  log?: ((line: string) => void) | false
  /** Switch tfjs to the chosen backend (default true). Tests of the logic can turn it off. */
  activate?: boolean
}

export interface BackendSelection {
  /** The naskit name of the chosen backend. */
  backend: ConcreteBackend
  /** The tfjs backend name (`tensorflow`, `wasm`, `cpu`). */
  tfBackend: string
  requested: BackendChoice
  /** Backends tried before the chosen one and why they were skipped. */
  skipped: Array<{ backend: ConcreteBackend; reason: string }>
  /** The summary line that was logged. */
  message: string
}

const requireHere = createRequire(import.meta.url)

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e)
  return (msg.split('\n').find((l) => l.trim() !== '') ?? msg).trim().slice(0, 160)
}

/**
 * Where the package loads its native addon from: `lib/napi-v<N>/tfjs_binding.node` for the
 * highest N-API version it is built for that this Node.js supports (as node-pre-gyp picks it),
 * wherever the addon came from (a download, or a build from source against another TensorFlow
 * C library such as the one in the Python wheel).
 */
export function nativeAddonPath(packageDir: string, napiVersion = process.versions.napi): string {
  const manifest = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as {
    binary?: { module_name?: string; module_path?: string; napi_versions?: number[] }
  }
  const binary = manifest.binary ?? {}
  const have = Number(napiVersion)
  const usable = (binary.napi_versions ?? []).filter((v) => v <= have)
  const version = usable.length > 0 ? Math.max(...usable) : have
  const modulePath = (binary.module_path ?? './lib/napi-v{napi_build_version}').replace(
    '{napi_build_version}',
    String(version),
  )
  return path.join(packageDir, modulePath, `${binary.module_name ?? 'tfjs_binding'}.node`)
}

/**
 * Finds the package's native addon without loading it: requiring a tfjs-node package whose
 * addon is missing registers half of its kernels before it throws, so we look first.
 */
function nativeAddonMissing(pkg: string): string | null {
  let dir: string
  try {
    dir = path.dirname(requireHere.resolve(`${pkg}/package.json`))
  } catch {
    return `${pkg} is not installed`
  }
  const addon = nativeAddonPath(dir)
  if (existsSync(addon)) return null
  return `${pkg} is installed but its native addon is not built (${path.relative(dir, addon)} is missing)`
}

const nodeLoads = new Map<string, Promise<string>>()

function loadNodeBinding(pkg: string): Promise<string> {
  let p = nodeLoads.get(pkg)
  if (p === undefined) {
    p = loadNodeBindingOnce(pkg)
    nodeLoads.set(pkg, p)
  }
  return p
}

async function loadNodeBindingOnce(pkg: string): Promise<string> {
  const missing = nativeAddonMissing(pkg)
  if (missing !== null) throw new Error(missing)
  // tfjs-node registers the `tensorflow` backend as a side effect of being required.
  requireHere(pkg)
  if (tf.findBackendFactory('tensorflow') == null) {
    throw new Error(`${pkg} loaded but did not register the "tensorflow" backend`)
  }
  return 'tensorflow'
}

const loggedLines = new Set<string>()

let wasmPrepared = false

async function loadWasm(): Promise<string> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm')
  if (!wasmPrepared) {
    // In Node the .wasm binaries are read from the package's dist folder.
    const entry = requireHere.resolve('@tensorflow/tfjs-backend-wasm')
    wasm.setWasmPaths(path.dirname(entry) + path.sep)
    wasmPrepared = true
  }
  registerGradientKernels('wasm')
  return 'wasm'
}

export const defaultLoaders: Record<ConcreteBackend, BackendLoader> = {
  'tensorflow-gpu': () => loadNodeBinding('@tensorflow/tfjs-node-gpu'),
  tensorflow: () => loadNodeBinding('@tensorflow/tfjs-node'),
  wasm: loadWasm,
  cpu: async () => 'cpu',
}

function parseChoice(value: string, source: string): BackendChoice {
  const v = value.trim().toLowerCase()
  if ((BACKEND_CHOICES as readonly string[]).includes(v)) return v as BackendChoice
  throw new NaskitError(
    'E_BAD_OPTIONS',
    `Unknown backend "${value}" (from ${source}). Use one of: ${BACKEND_CHOICES.join(', ')}.`,
  )
}

/** Resolves the requested backend from the option, then `NASKIT_BACKEND`, then `auto`. */
export function requestedBackend(
  option: BackendChoice | undefined,
  env: Record<string, string | undefined> = process.env,
): BackendChoice {
  if (option !== undefined) return parseChoice(option, 'the backend option')
  const fromEnv = env.NASKIT_BACKEND
  if (fromEnv !== undefined && fromEnv.trim() !== '') return parseChoice(fromEnv, 'NASKIT_BACKEND')
  return 'auto'
}

/**
 * Chooses and activates the tfjs backend. With `auto`, tries `tensorflow-gpu`
 * (@tensorflow/tfjs-node-gpu), `tensorflow` (@tensorflow/tfjs-node), `wasm`, then `cpu`,
 * and logs one line naming the backend chosen and why each earlier one was skipped.
 * A specific backend that cannot load fails with `E_BACKEND_UNAVAILABLE`.
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<BackendSelection> {
  const requested = requestedBackend(options.backend, options.env)
  const loaders = { ...defaultLoaders, ...options.loaders }
  const order = requested === 'auto' ? AUTO_ORDER : [requested]
  const activate = options.activate !== false
  const skipped: BackendSelection['skipped'] = []
  for (const candidate of order) {
    let tfBackend: string
    try {
      tfBackend = await loaders[candidate]()
      if (activate) {
        const ok = await tf.setBackend(tfBackend)
        if (!ok) throw new Error(`tf.setBackend('${tfBackend}') failed to initialise`)
        await tf.ready()
      }
    } catch (e) {
      skipped.push({ backend: candidate, reason: firstLine(e) })
      continue
    }
    const why =
      skipped.length === 0
        ? ''
        : `; skipped ${skipped.map((s) => `${s.backend} (${s.reason})`).join(', ')}`
    const message = `naskit: using tfjs backend "${candidate}" (requested ${requested})${why}`
    if (options.log !== undefined) {
      if (options.log !== false) options.log(message)
    } else if (!loggedLines.has(message)) {
      // the default log says it once per process, however many times a backend is chosen
      loggedLines.add(message)
      console.info(message)
    }
    return { backend: candidate, tfBackend, requested, skipped, message }
  }
  const reasons = skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')
  throw new NaskitError(
    'E_BACKEND_UNAVAILABLE',
    requested === 'auto'
      ? `No tfjs backend could be loaded (${reasons}).`
      : `The "${requested}" backend could not be loaded (${reasons}). Install its package or choose another backend (option "backend" or NASKIT_BACKEND=auto).`,
  )
}
