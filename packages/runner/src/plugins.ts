import { basename, extname, resolve as resolvePath } from 'node:path'
import {
  type Arch,
  type EvalContext,
  type Evaluator,
  type EvaluatorPlugin,
  type Metrics,
  NaskitError,
  type StrategyPlugin,
} from '@naskit/core'
import {
  didYouMean,
  importFile,
  installCommand as coreInstallCommand,
  isPathSpecifier,
  listStrategies as coreListStrategies,
  listStrategyPackages as coreListStrategyPackages,
  loadStrategy as coreLoadStrategy,
  lookupDirs as coreLookupDirs,
  type LoadedStrategy,
  locateModule,
  type ModuleRef,
  moduleRef,
  type StrategyListing,
  type StrategyPackageInfo,
  splitPick,
} from '@naskit/core/node'
import { RUNNER_DIR } from './modules'

export { STRATEGY_PACKAGES } from '@naskit/core/node'
export type { LoadedStrategy, ModuleRef, StrategyListing, StrategyPackageInfo }

/** Built-in evaluator names and the packages that provide them. */
export const EVALUATOR_PACKAGES: Readonly<Record<string, string>> = {
  nb201: '@naskit/benchmarks',
  mnist: '@naskit/trainer-tfjs',
  'fashion-mnist': '@naskit/trainer-tfjs',
  tfjs: '@naskit/trainer-tfjs',
  images: '@naskit/trainer-tfjs',
}

export interface LoadedEvaluator {
  plugin: EvaluatorPlugin
  spec: string | null
  ref: ModuleRef | null
}

/** The version of a loaded plugin: its package's, else the plugin's own `version`, else null. */
export function pluginVersion(loaded: {
  plugin: { version?: string }
  ref: ModuleRef | null
}): string | null {
  return loaded.ref?.version ?? loaded.plugin.version ?? null
}

/**
 * What went wrong while loading a module, in a few lines: the error's name and message, and the
 * place in `file` it points to when the message does not say it.
 */
export function describeLoadError(error: unknown, file: string | null): string {
  const e = error as { name?: unknown; message?: unknown; stack?: unknown } | null
  const raw = typeof e?.message === 'string' ? e.message : String(error)
  const lines = raw
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
  // esbuild's "Transform failed with 1 error:" says nothing the next line does not
  let message = lines
    .filter((l) => !/^Transform failed with \d+ errors?:?$/.test(l))
    .slice(0, 3)
    .join(' ')
  const name = typeof e?.name === 'string' ? e.name : ''
  if (name !== '' && name !== 'TransformError' && !/^\w*Error: /.test(message))
    message = `${name}: ${message}`
  if (file !== null && !message.includes(file) && typeof e?.stack === 'string') {
    const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    const at = new RegExp(`${escaped}:(\\d+):(\\d+)`).exec(e.stack)
    if (at) message += ` (at ${file}:${at[1]}:${at[2]})`
  }
  return message
}

/** `E_PLUGIN_LOAD` for a module that was found but throws (or does not parse) when imported. */
function loadFailure(error: unknown, what: string, file: string | null): NaskitError {
  return new NaskitError(
    'E_PLUGIN_LOAD',
    `${what} does not load: ${describeLoadError(error, file)}. Fix the module and run the command again.`,
    { cause: error },
  )
}

/** The runner's install directory is searched too, so packages installed beside it are found. */
const LOOKUP = { extraDirs: [RUNNER_DIR] }

/** Directories plugins are looked up from: the project first, then the runner's own install. */
export function lookupDirs(baseDir: string): string[] {
  return coreLookupDirs(baseDir, LOOKUP)
}

/** `npm install x`, or the pnpm/yarn equivalent when the project uses one. */
export const installCommand = coreInstallCommand

/**
 * Loads a strategy plugin by short name (`evolution`), package name (`naskit-strategy-foo`,
 * `@scope/naskit-strategy-foo`, or `foo` for `naskit-strategy-foo`), or path (`./my.ts`);
 * `name#plugin` picks one of a package's `strategies`. The resolver of `@naskit/core/node`, also
 * looking beside the runner's install. `E_UNKNOWN_STRATEGY` suggests the nearest installed name.
 */
export async function loadStrategy(
  spec: string | StrategyPlugin,
  baseDir: string,
): Promise<LoadedStrategy> {
  try {
    return await coreLoadStrategy(spec, baseDir, LOOKUP)
  } catch (error) {
    if (error instanceof NaskitError || typeof spec !== 'string') throw error
    const base = splitPick(spec.trim()).base
    const file = isPathSpecifier(base)
      ? (locateModule(base, baseDir, LOOKUP)?.file ?? resolvePath(baseDir, base))
      : null
    throw loadFailure(error, `Strategy "${spec}"${file ? ` (${file})` : ''}`, file)
  }
}

/** Installed strategy packages visible from `baseDir` (not loaded). */
export function listStrategyPackages(baseDir: string): StrategyPackageInfo[] {
  return coreListStrategyPackages(baseDir, LOOKUP)
}

/** Loads every installed strategy package and lists its plugins with their options. */
export function listStrategies(baseDir: string): Promise<StrategyListing[]> {
  return coreListStrategies(baseDir, LOOKUP)
}

function isEvaluatorLike(v: unknown): v is EvaluatorPlugin {
  return (
    v !== null && typeof v === 'object' && typeof (v as { create?: unknown }).create === 'function'
  )
}

/** A plain evaluator object (`{ name, evaluate }`, the core `Evaluator` contract). */
function isPlainEvaluator(v: unknown): v is Evaluator {
  return (
    v !== null &&
    typeof v === 'object' &&
    typeof (v as { evaluate?: unknown }).evaluate === 'function' &&
    typeof (v as { create?: unknown }).create !== 'function'
  )
}

type EvaluateFunction = ((arch: Arch, ctx: EvalContext) => unknown) & {
  cost?: unknown
  description?: unknown
}

function costOf(v: { cost?: unknown }, from: string): 'cheap' | 'expensive' {
  if (v.cost === undefined) return 'expensive'
  if (v.cost === 'cheap' || v.cost === 'expensive') return v.cost
  throw new NaskitError(
    'E_BAD_PLUGIN',
    `${from}: cost must be 'cheap' (run in the search's thread) or 'expensive' (run on worker threads), got ${JSON.stringify(v.cost)}.`,
  )
}

/** What an evaluate function returned, as metrics: a number is the objective. */
function asMetrics(value: unknown, from: string): Metrics {
  if (typeof value === 'number') return { objective: value }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Metrics
  throw new NaskitError(
    'E_BAD_METRICS',
    `${from} returned ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}; return a number (the objective, higher is better) or metrics such as { objective: 0.93, params: 12000 }.`,
  )
}

/**
 * An evaluator plugin around the simpler forms a module may export: a core `Evaluator` object
 * (`{ name, evaluate(arch, ctx) }`) or a function `(arch, ctx) => number | metrics`. Both run on
 * worker threads unless they carry `cost: 'cheap'`.
 */
function wrapEvaluator(value: unknown, from: string, fallbackName: string): EvaluatorPlugin | null {
  if (isPlainEvaluator(value)) {
    const name = typeof value.name === 'string' && value.name !== '' ? value.name : fallbackName
    const evaluator: Evaluator = {
      ...value,
      name,
      evaluate: async (arch, ctx) =>
        asMetrics(await value.evaluate(arch, ctx), `${from} evaluate()`),
    }
    if (value.exportModel) evaluator.exportModel = value.exportModel.bind(value)
    if (value.dispose) evaluator.dispose = value.dispose.bind(value)
    const extra = value as { description?: unknown; cost?: unknown }
    return {
      name,
      description:
        typeof extra.description === 'string' ? extra.description : `evaluator of ${from}`,
      cost: costOf(extra, from),
      options: {},
      create: () => evaluator,
    }
  }
  if (typeof value === 'function') {
    const fn = value as EvaluateFunction
    const name = fallbackName
    return {
      name,
      description:
        typeof fn.description === 'string' ? fn.description : `evaluate function of ${from}`,
      cost: costOf(fn, from),
      options: {},
      create: () => ({
        name,
        evaluate: async (arch, ctx) => asMetrics(await fn(arch, ctx), `${from}`),
      }),
    }
  }
  return null
}

/** Checks that a value is an evaluator plugin; `E_BAD_PLUGIN` says what is missing. */
export function assertEvaluatorPlugin(value: unknown, from: string): EvaluatorPlugin {
  const p = value as Partial<EvaluatorPlugin> | null
  if (p === null || typeof p !== 'object') {
    throw new NaskitError(
      'E_BAD_PLUGIN',
      `${from} does not export an evaluator (got ${p === null ? 'null' : typeof value}). Export one of: a function (arch, ctx) => number | metrics; an object { name, evaluate(arch, ctx) }; or an evaluator plugin { name, description, cost, options, create }.`,
    )
  }
  const missing: string[] = []
  if (typeof p.name !== 'string' || p.name === '') missing.push('name (string)')
  if (p.cost !== 'cheap' && p.cost !== 'expensive') missing.push("cost ('cheap' or 'expensive')")
  if (p.options === null || typeof p.options !== 'object') missing.push('options (schema object)')
  if (typeof p.create !== 'function') missing.push('create(args) function')
  if (missing.length > 0) {
    throw new NaskitError(
      'E_BAD_PLUGIN',
      `${from} is not a valid evaluator plugin; missing or wrong: ${missing.join(', ')}.`,
    )
  }
  return p as EvaluatorPlugin
}

/** Any of the three evaluator forms, as a plugin. */
function toEvaluatorPlugin(value: unknown, from: string, fallbackName: string): EvaluatorPlugin {
  if (isEvaluatorLike(value)) return assertEvaluatorPlugin(value, from)
  return wrapEvaluator(value, from, fallbackName) ?? assertEvaluatorPlugin(value, from)
}

function moduleName(from: string): string {
  const base = basename(from, extname(from))
  return base === 'index' ? basename(resolvePath(from, '..')) : base
}

/**
 * Picks the evaluator from a loaded module: `evaluators[pick]`, the default export, or the only
 * one. Each may be an evaluator plugin, a plain `{ name, evaluate }` evaluator or an evaluate
 * function.
 */
export function pickEvaluator(
  mod: Record<string, unknown>,
  pick: string | null,
  from: string,
): { plugin: EvaluatorPlugin; pick: string | null } {
  const table =
    mod.evaluators && typeof mod.evaluators === 'object'
      ? (mod.evaluators as Record<string, unknown>)
      : {}
  if (pick !== null && pick !== 'default') {
    const found = table[pick]
    if (!found) {
      const names = Object.keys(table)
      throw new NaskitError(
        'E_UNKNOWN_EVALUATOR',
        `${from} has no evaluator named "${pick}". It provides: ${names.join(', ') || 'none'}.${didYouMean(pick, names)}`,
      )
    }
    return { plugin: toEvaluatorPlugin(found, `${from}#${pick}`, pick), pick }
  }
  if (mod.default !== undefined && mod.default !== null)
    return {
      plugin: toEvaluatorPlugin(mod.default, `${from} (default export)`, moduleName(from)),
      pick: null,
    }
  const names = Object.keys(table)
  if (names.length === 1)
    return {
      plugin: toEvaluatorPlugin(table[names[0] as string], from, names[0] as string),
      pick: names[0] as string,
    }
  throw new NaskitError(
    'E_BAD_PLUGIN',
    names.length > 1
      ? `${from} exports several evaluators; name one with "${from}#name" (its evaluators: ${names.join(', ')}).`
      : `${from} exports no evaluator. Default-export one of: a function (arch, ctx) => number | metrics; an object { name, evaluate(arch, ctx) }; or an evaluator plugin { name, description, cost, options, create } (or export an object of them as "evaluators").`,
  )
}

/**
 * Loads an evaluator plugin by built-in name (`nb201`, `mnist`, `fashion-mnist`, `tfjs`), by
 * package name or by module path (`./eval.ts`, `./evals.ts#fast`). A module default-exports an
 * evaluate function, a `{ name, evaluate }` object or an `EvaluatorPlugin`, or exports
 * `evaluators`, an object of them.
 */
export async function loadEvaluator(
  spec: string | EvaluatorPlugin,
  baseDir: string,
): Promise<LoadedEvaluator> {
  if (typeof spec !== 'string')
    return {
      plugin: toEvaluatorPlugin(spec, 'the configured evaluator', 'evaluator'),
      spec: null,
      ref: null,
    }
  const { base, pick } = splitPick(spec.trim())
  const builtIn = EVALUATOR_PACKAGES[base]
  const pkgSpec = builtIn ?? base
  const target = locateModule(pkgSpec, baseDir, LOOKUP)
  if (!target) {
    if (isPathSpecifier(base)) {
      throw new NaskitError(
        'E_UNKNOWN_EVALUATOR',
        `Evaluator module "${base}" not found (resolved from ${resolvePath(baseDir)}). Check the path.`,
      )
    }
    const names = Object.keys(EVALUATOR_PACKAGES)
    if (builtIn) {
      throw new NaskitError(
        'E_UNKNOWN_EVALUATOR',
        `The "${base}" evaluator comes from ${pkgSpec}, which is not installed. Install it with:\n  ${installCommand(pkgSpec, baseDir)}`,
      )
    }
    const hint = didYouMean(base, names)
    throw new NaskitError(
      'E_UNKNOWN_EVALUATOR',
      `Unknown evaluator "${spec}".${hint}\nBuilt-in evaluators: ${names.join(', ')}; or give a module path (./my-evaluator.ts), or the name of an installed package (${installCommand(pkgSpec, baseDir)} if it is one).`,
    )
  }
  let mod: Record<string, unknown>
  try {
    mod = await importFile(target.file)
  } catch (error) {
    if (error instanceof NaskitError) throw error
    throw loadFailure(error, `Evaluator module ${target.file}`, target.file)
  }
  const chosen = pickEvaluator(mod, builtIn ? (pick ?? base) : pick, pkgSpec)
  return { plugin: chosen.plugin, spec, ref: moduleRef(target, chosen.pick) }
}
