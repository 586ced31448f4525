import { existsSync, statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, extname, resolve as resolvePath } from 'node:path'
import {
  BUILT_IN_SPACE_NAMES,
  type BuiltInSpaceName,
  builtInSpace,
  type EvaluatorPlugin,
  isBuiltInSpaceName,
  type JsonObject,
  NaskitError,
  SearchSpace,
  type SpaceSpec,
  type StrategyPlugin,
  validateOptions,
} from '@naskit/core'
import { importFile, isPathSpecifier } from '@naskit/core/node'
import {
  describeLoadError,
  type LoadedEvaluator,
  type LoadedStrategy,
  loadEvaluator,
  loadStrategy,
} from './plugins'
import { isRedisUrl, redactRedisUrl } from './redis/connection'
import { assertDistributable } from './redis/executor'
import { DEFAULT_QUEUE } from './redis/protocol'
import type { StoredConfig } from './types'

/** A space: a built-in name, a built-in with options, a `SearchSpace`, or its JSON form. */
export type SpaceInput =
  | string
  | SearchSpace
  | SpaceSpec
  | { builtIn: BuiltInSpaceName; options?: Record<string, unknown> }

/** A plugin reference: a name/specifier, a plugin object, or either with options. */
export type PluginInput<P> =
  | string
  | P
  | { name: string; options?: Record<string, unknown> }
  | { plugin: P; options?: Record<string, unknown> }

/** How much an experiment may spend. At least one of `trials` and `time`. */
export interface BudgetInput {
  /** Finished trials (ok and failed). */
  trials?: number
  /** Wall time: milliseconds or a duration such as `'90s'`, `'30m'`, `'2h'`. */
  time?: number | string
  /** Stop once a trial reaches this objective. */
  target?: number
  /**
   * Training epochs the finished trials may spend in all (each trial's `epochs` metric, else its
   * fidelity's epochs): the same compute for searches with and without multi-fidelity.
   */
  epochs?: number
}

/** A `naskit.config.ts`: what `naskit search` runs. CLI flags override it. */
export interface NaskitConfig {
  space: SpaceInput
  strategy?: PluginInput<StrategyPlugin>
  evaluator: PluginInput<EvaluatorPlugin>
  /** A number of trials, or a {@link BudgetInput}. @default { trials: 100 } */
  budget?: number | BudgetInput
  /** Evaluations in flight (and worker threads for expensive evaluators). @default 1 */
  workers?: number
  /** @default 0 */
  seed?: number
  /** Experiment folder. @default runs/<space>-<strategy>-<date> */
  out?: string
  /** End the search after this many failed trials. @default unlimited */
  maxFailures?: number
  /**
   * `auto`: expensive evaluators on worker threads, cheap ones in-process. A `redis://host:port`
   * (or `rediss://`) URL queues every trial on Redis for `naskit worker` processes on any number
   * of machines; `workers` is then the number of trials in flight. @default 'auto'
   */
  executor?: 'auto' | 'threads' | 'inline' | (string & {})
  /** The Redis queue's name (with a `redis://` executor; workers must use the same). @default 'trials' */
  queue?: string
  /** Milliseconds running trials get to finish after an interrupt. @default 30000 */
  graceMs?: number
  /**
   * Time limit of one trial: milliseconds or a duration such as `'90s'`, `'30m'`; a trial that
   * runs longer fails with `E_TRIAL_TIMEOUT`. @default none
   */
  trialTimeout?: number | string
  /**
   * Your own images: a folder with one subfolder of images per class (or `train/` and `test/`
   * folders holding them), trained on by the `images` evaluator of `@naskit/trainer-tfjs`.
   * A path (relative to the config file), or the folder with options of that evaluator:
   * `{ dir, size, channels, testFraction, validationFraction }`. Without a `space`, a chain
   * space for small images is searched. @default none
   */
  data?: string | DataInput
}

/** The `data` field as an object: the folder and options of the `images` evaluator. */
export interface DataInput {
  dir: string
  /** Resize every image to size × size (default: the size most images have). */
  size?: number
  /** 1 (grayscale) or 3 (RGB) (default: inferred). */
  channels?: number
  testFraction?: number
  validationFraction?: number
}

/** The evaluator that trains on a `data` folder. */
export const DATA_EVALUATOR = 'images'

/** The space searched on a `data` folder when none is given: chains for small images. */
export const DATA_DEFAULT_SPACE = {
  builtIn: 'chain',
  options: { resolution: { low: 16, high: 32, step: 8 } },
} as const

/**
 * Turns a config's `data` into the `images` evaluator with the folder (made absolute, so that
 * a resume from elsewhere finds it) and, without a space, the default space for images.
 * `E_BAD_CONFIG` when another evaluator is configured too.
 */
export function applyData(input: Partial<NaskitConfig>, baseDir: string): Partial<NaskitConfig> {
  const data = input.data
  if (data === undefined) return input
  const { data: _data, ...rest } = input
  const entry: DataInput | null =
    typeof data === 'string'
      ? { dir: data }
      : data !== null && typeof data === 'object' && !Array.isArray(data)
        ? (data as DataInput)
        : null
  if (!entry || typeof entry.dir !== 'string' || entry.dir.trim() === '') {
    throw badConfig(
      `data: must be a folder path, or { dir, size?, channels?, testFraction?, validationFraction? }, got ${showValue(data)}`,
    )
  }
  const extra = Object.keys(entry).filter(
    (k) => !['dir', 'size', 'channels', 'testFraction', 'validationFraction'].includes(k),
  )
  if (extra.length > 0)
    throw badConfig(
      `${extra.map((k) => `data.${k}: unknown field`).join('; ')} (known: dir, size, channels, testFraction, validationFraction)`,
    )
  const ev = input.evaluator as unknown
  const evName =
    typeof ev === 'string'
      ? ev
      : ev && typeof ev === 'object' && 'name' in ev
        ? (ev as { name: unknown }).name
        : ev === undefined
          ? undefined
          : '(an evaluator object)'
  if (evName !== undefined && evName !== DATA_EVALUATOR) {
    throw badConfig(
      `data: trains with the "${DATA_EVALUATOR}" evaluator, but the evaluator is ${showValue(evName)}; drop one of the two (evaluator options for the images go in evaluator: { name: "${DATA_EVALUATOR}", options })`,
    )
  }
  const prevOptions =
    ev && typeof ev === 'object' && 'options' in ev
      ? ((ev as { options?: Record<string, unknown> }).options ?? {})
      : {}
  const { dir, ...dataOptions } = entry
  return {
    ...rest,
    ...(rest.space === undefined ? { space: DATA_DEFAULT_SPACE as unknown as SpaceInput } : {}),
    evaluator: {
      name: DATA_EVALUATOR,
      options: { ...prevOptions, ...dataOptions, dir: resolvePath(baseDir, dir) },
    },
  }
}

/** Longest wait a timer can make (about 24.8 days): a longer grace period would not wait at all. */
const MAX_TIMER_MS = 2 ** 31 - 1

/** Defaults of the optional config fields. */
export const CONFIG_DEFAULTS = {
  budget: { trials: 100 },
  workers: 1,
  seed: 0,
  executor: 'auto',
  graceMs: 30_000,
} as const

const CONFIG_FIELDS = [
  'space',
  'strategy',
  'evaluator',
  'budget',
  'workers',
  'seed',
  'out',
  'maxFailures',
  'executor',
  'queue',
  'graceMs',
  'trialTimeout',
  'data',
]

/** A value as a config error shows it: strings quoted, so that `"3"` and `3` differ. */
export function showValue(v: unknown): string {
  if (v === undefined) return 'nothing'
  if (typeof v === 'string') return JSON.stringify(v)
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v)
  if (typeof v === 'function') return 'a function'
  if (typeof v === 'bigint') return `${v}n`
  let text: string | undefined
  try {
    text = JSON.stringify(v)
  } catch {
    text = undefined
  }
  if (text === undefined) return typeof v
  return text.length > 80 ? `${text.slice(0, 80)}…` : text
}

/**
 * Throws `E_BAD_CONFIG` naming unknown fields (typos) of a config object, and fields used before
 * the plugins load (`out`) that have the wrong type.
 */
export function checkConfigFields(config: object): void {
  if (config === null || typeof config !== 'object' || Array.isArray(config))
    throw badConfig(`expected a config object, got ${showValue(config)}`)
  const unknown = Object.keys(config).filter((k) => !CONFIG_FIELDS.includes(k))
  if (unknown.length > 0) {
    throw badConfig(
      `${unknown.map((k) => `${k}: unknown field`).join('; ')} (known: ${CONFIG_FIELDS.join(', ')})`,
    )
  }
  const budget = (config as { budget?: unknown }).budget
  if (budget !== null && typeof budget === 'object') {
    const extra = Object.keys(budget).filter(
      (k) => !['trials', 'time', 'target', 'epochs'].includes(k),
    )
    if (extra.length > 0)
      throw badConfig(
        `${extra.map((k) => `budget.${k}: unknown field`).join('; ')} (known: trials, time, target, epochs)`,
      )
  }
  const out = (config as { out?: unknown }).out
  if (out !== undefined && (typeof out !== 'string' || out.trim() === ''))
    throw badConfig(`out: must be a folder path (a non-empty string), got ${showValue(out)}`)
}

/**
 * Checks that `dir` can be an experiment folder: an existing folder, or a path that can be
 * created (no file on the way). `E_BAD_CONFIG` names the file that is in the way.
 */
export function checkExperimentDir(dir: string): void {
  let p = dir
  for (;;) {
    let isDir: boolean | null = null
    try {
      isDir = statSync(p).isDirectory()
    } catch (error) {
      const code = (error as { code?: string }).code
      // missing, or a file further up (ENOTDIR): look at the parent
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return // the store or the lock will say
    }
    if (isDir === true) return
    if (isDir === false) {
      throw new NaskitError(
        'E_BAD_CONFIG',
        p === dir
          ? `The experiment folder ${dir} is a file; choose a folder with --out.`
          : `The experiment folder ${dir} cannot be created: ${p} is a file, not a folder. Choose another --out.`,
      )
    }
    const parent = dirname(p)
    if (parent === p) return
    p = parent
  }
}

/** Typed identity helper for `naskit.config.ts`. */
export function defineConfig(config: NaskitConfig): NaskitConfig {
  return config
}

/** The budget in canonical form. */
export interface Budget {
  trials: number | null
  timeMs: number | null
  target: number | null
  /** Absent when not set (experiments stored before it existed have none). */
  epochs?: number
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** Parses `1500`, `'90s'`, `'30m'`, `'1.5h'` into milliseconds. */
export function parseDuration(value: number | string, path = 'budget.time'): number {
  if (typeof value === 'number') {
    if (!(value > 0) || !Number.isFinite(value))
      throw badConfig(`${path}: must be a positive number of milliseconds, got ${value}`)
    return value
  }
  if (typeof value !== 'string')
    throw badConfig(
      `${path}: expected milliseconds or a duration such as "90s", "30m", "2h", got ${showValue(value)}`,
    )
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value)
  if (!m)
    throw badConfig(
      `${path}: cannot read duration ${JSON.stringify(value)} (use e.g. 90s, 30m, 2h)`,
    )
  const ms = Number(m[1]) * (UNITS[m[2] ?? 'ms'] as number)
  if (!(ms > 0)) throw badConfig(`${path}: must be positive, got ${JSON.stringify(value)}`)
  return ms
}

function badConfig(problem: string): NaskitError {
  return new NaskitError('E_BAD_CONFIG', `Invalid experiment configuration: ${problem}.`)
}

/** Canonical budget; `E_BAD_CONFIG` with the dot-path of what is wrong. */
export function normalizeBudget(input: number | BudgetInput | undefined): Budget {
  if (input === undefined)
    return { trials: CONFIG_DEFAULTS.budget.trials, timeMs: null, target: null }
  const b: BudgetInput = typeof input === 'number' ? { trials: input } : input
  if (b === null || typeof b !== 'object')
    throw badConfig('budget: expected a number of trials or { trials, time, target, epochs }')
  const trials = b.trials ?? null
  if (trials !== null && (!Number.isInteger(trials) || trials < 1))
    throw badConfig(`budget.trials: must be a positive integer, got ${showValue(trials)}`)
  const timeMs = b.time === undefined ? null : parseDuration(b.time)
  const target = b.target ?? null
  if (target !== null && (typeof target !== 'number' || !Number.isFinite(target)))
    throw badConfig(`budget.target: must be a finite number, got ${showValue(target)}`)
  const epochs = b.epochs ?? null
  if (epochs !== null && (typeof epochs !== 'number' || !(epochs > 0) || !Number.isFinite(epochs)))
    throw badConfig(`budget.epochs: must be a positive number of epochs, got ${showValue(epochs)}`)
  if (trials === null && timeMs === null && epochs === null)
    throw badConfig('budget: give trials, time and/or epochs')
  return { trials, timeMs, target, ...(epochs !== null ? { epochs } : {}) }
}

/** Builds the search space a config names. */
export function resolveSpace(input: SpaceInput): SearchSpace {
  if (input instanceof SearchSpace) return input
  if (typeof input === 'string') {
    if (!isBuiltInSpaceName(input))
      throw badConfig(
        `space: unknown built-in space ${showValue(input)} (built-in: ${BUILT_IN_SPACE_NAMES.join(', ')}; or give a space object)`,
      )
    return builtInSpace(input)
  }
  if (input && typeof input === 'object' && 'builtIn' in input) {
    if (!isBuiltInSpaceName(input.builtIn))
      throw badConfig(`space.builtIn: unknown built-in space ${showValue(input.builtIn)}`)
    return builtInSpace(input.builtIn, input.options ?? {})
  }
  if (input && typeof input === 'object' && 'decisions' in input) {
    // a SearchSpace from another copy of @naskit/core, or the JSON form
    const spec =
      typeof (input as { toJSON?: unknown }).toJSON === 'function'
        ? (input as unknown as { toJSON(): SpaceSpec }).toJSON()
        : input
    return SearchSpace.fromJSON(spec)
  }
  throw badConfig(
    `space: expected a built-in name, { builtIn, options }, a SearchSpace or its JSON form, got ${showValue(input)}`,
  )
}

/** Splits a plugin input into the thing to load and its options. */
export function splitPluginInput<P>(
  input: PluginInput<P>,
  isPlugin: (v: unknown) => boolean,
  field?: string,
): { use: string | P; options: JsonObject } {
  if (typeof input === 'string') return { use: input, options: {} }
  if (isPlugin(input)) return { use: input as P, options: {} }
  const where = field ? `${field}: ` : ''
  if (input === null || typeof input !== 'object')
    throw badConfig(
      `${where}expected a plugin name, a plugin object, { name, options } or { plugin, options }, got ${showValue(input)}`,
    )
  const o = input as { name?: string; plugin?: P; options?: Record<string, unknown> }
  if (
    o.options !== undefined &&
    (o.options === null || typeof o.options !== 'object' || Array.isArray(o.options))
  )
    throw badConfig(`${field ?? 'plugin'}.options: expected an object, got ${showValue(o.options)}`)
  const options = (o.options ?? {}) as JsonObject
  if (o.plugin !== undefined) return { use: o.plugin, options }
  if (typeof o.name === 'string') return { use: o.name, options }
  throw badConfig(
    `${where}expected a plugin name, a plugin object, { name, options } or { plugin, options }, got ${showValue(input)}`,
  )
}

export const isPluginObject = (v: unknown): boolean =>
  v !== null && typeof v === 'object' && typeof (v as { create?: unknown }).create === 'function'

/** Candidates for the config file in a folder, in order of preference. */
export const CONFIG_FILES = [
  'naskit.config.ts',
  'naskit.config.mts',
  'naskit.config.js',
  'naskit.config.mjs',
  'naskit.config.json',
]

/** Finds `naskit.config.*` in `dir`, or null. */
export function findConfigFile(dir: string): string | null {
  for (const f of CONFIG_FILES) {
    const p = resolvePath(dir, f)
    if (existsSync(p)) return p
  }
  return null
}

/** Loads a config file (`.ts`, `.js`, `.json`); its default export (or the JSON) is the config. */
export async function loadConfigFile(path: string): Promise<{ config: NaskitConfig; dir: string }> {
  const abs = resolvePath(path)
  if (!existsSync(abs)) throw new NaskitError('E_BAD_CONFIG', `Config file ${abs} does not exist.`)
  let value: unknown
  if (extname(abs) === '.json') {
    try {
      value = JSON.parse(await readFile(abs, 'utf8'))
    } catch (error) {
      throw new NaskitError(
        'E_BAD_CONFIG',
        `Config file ${abs} is not valid JSON: ${(error as Error).message}`,
      )
    }
  } else {
    let mod: Record<string, unknown>
    try {
      mod = await importFile(abs)
    } catch (error) {
      // a NaskitError (a bad space built at import…) names its problem itself
      if (error instanceof NaskitError) throw error
      throw new NaskitError(
        'E_BAD_CONFIG',
        `Config file ${abs} does not load: ${describeLoadError(error, abs)}. Fix it and run the command again.`,
        { cause: error },
      )
    }
    value = mod.default ?? mod.config
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new NaskitError(
      'E_BAD_CONFIG',
      `Config file ${abs} must default-export a config object (use defineConfig({...})), got ${showValue(value)}.`,
    )
  }
  return { config: value as NaskitConfig, dir: dirname(abs) }
}

/** A configuration checked and completed: its plugins loaded, its stored form. */
export interface PreparedConfig {
  config: StoredConfig
  /** The Redis URL as given (with its credentials), when the executor is Redis. */
  executorUrl: string | null
  space: SearchSpace
  strategy: LoadedStrategy
  evaluator: LoadedEvaluator
}

/** A spec as stored: path specifiers become absolute, so a resume from elsewhere finds them. */
function storedSpec(spec: string | null, baseDir: string): string | null {
  if (spec === null || !isPathSpecifier(spec)) return spec
  const hash = spec.lastIndexOf('#')
  const [path, pick] = hash > 0 ? [spec.slice(0, hash), spec.slice(hash)] : [spec, '']
  return path.startsWith('file:') ? spec : resolvePath(baseDir, path) + pick
}

/** The plugin a config gives, else the stored one (by its spec), else null. */
async function choosePlugin<P, L>(
  what: 'strategy' | 'evaluator',
  input: PluginInput<P> | undefined,
  stored: StoredConfig['strategy'] | undefined,
  load: (use: string | P) => Promise<L>,
): Promise<{ loaded: L; options: JsonObject } | null> {
  if (input !== undefined) {
    const { use, options } = splitPluginInput<P>(input, isPluginObject, what)
    return { loaded: await load(use), options }
  }
  if (!stored) return null
  if (stored.spec === null) {
    throw badConfig(
      `${what}: the experiment used ${what === 'strategy' ? 'a strategy' : 'an evaluator'} object ("${stored.name}"); pass the same config again to resume it`,
    )
  }
  return { loaded: await load(stored.spec), options: stored.options }
}

/**
 * Checks a (possibly partial) config and completes it from the stored configuration of the
 * experiment it resumes and the defaults: loads the strategy and the evaluator, validates their
 * options and every field (`E_BAD_CONFIG` naming it), and gives the configuration to store.
 */
export async function prepareConfig(
  input: Partial<NaskitConfig>,
  stored: StoredConfig | undefined,
  baseDir: string,
): Promise<PreparedConfig> {
  input = applyData(input, baseDir)
  const space =
    input.space !== undefined
      ? resolveSpace(input.space)
      : stored
        ? SearchSpace.fromJSON(stored.space)
        : null
  if (!space)
    throw badConfig('space: required (a built-in name such as "nb201", or a space object)')

  const strategy = (await choosePlugin<StrategyPlugin, LoadedStrategy>(
    'strategy',
    input.strategy,
    stored?.strategy,
    (use) => loadStrategy(use, baseDir),
  )) ?? { loaded: await loadStrategy('random', baseDir), options: {} }
  const evaluator = await choosePlugin<EvaluatorPlugin, LoadedEvaluator>(
    'evaluator',
    input.evaluator,
    stored?.evaluator,
    (use) => loadEvaluator(use, baseDir),
  )
  if (!evaluator) {
    throw badConfig(
      'evaluator: required (e.g. "nb201", "mnist", or a module path such as ./my-evaluator.ts)',
    )
  }
  const strategyPlugin = strategy.loaded.plugin
  const evaluatorPlugin = evaluator.loaded.plugin
  const strategyOptions = validateOptions(
    strategyPlugin.options,
    strategy.options,
    `options of strategy "${strategyPlugin.name}"`,
  ) as JsonObject
  const evaluatorOptions = validateOptions(
    evaluatorPlugin.options,
    evaluator.options,
    `options of evaluator "${evaluatorPlugin.name}"`,
  ) as JsonObject
  const support = evaluatorPlugin.supports ? evaluatorPlugin.supports(space) : true
  if (support !== true) {
    throw new NaskitError(
      'E_UNSUPPORTED_SPACE',
      `Evaluator "${evaluatorPlugin.name}" does not support space "${space.name}": ${support}`,
    )
  }

  const workers = input.workers ?? stored?.workers ?? CONFIG_DEFAULTS.workers
  if (!Number.isInteger(workers) || workers < 1)
    throw badConfig(`workers: must be a positive integer, got ${showValue(workers)}`)
  // any integer, negative ones too; a fraction is refused rather than silently truncated
  const seed = input.seed ?? stored?.seed ?? CONFIG_DEFAULTS.seed
  if (input.seed !== undefined && !Number.isSafeInteger(input.seed))
    throw badConfig(`seed: must be an integer, got ${showValue(input.seed)}`)
  if (!Number.isFinite(seed)) throw badConfig(`seed: must be an integer, got ${showValue(seed)}`)
  const maxFailures = input.maxFailures ?? stored?.maxFailures ?? null
  if (maxFailures !== null && (!Number.isInteger(maxFailures) || maxFailures < 1)) {
    throw badConfig(`maxFailures: must be a positive integer, got ${showValue(maxFailures)}`)
  }
  const graceMs = input.graceMs ?? stored?.graceMs ?? CONFIG_DEFAULTS.graceMs
  if (
    input.graceMs !== undefined &&
    (typeof input.graceMs !== 'number' ||
      !Number.isFinite(input.graceMs) ||
      input.graceMs < 0 ||
      input.graceMs > MAX_TIMER_MS)
  )
    throw badConfig(
      `graceMs: must be a number of milliseconds from 0 to ${MAX_TIMER_MS} (e.g. 30000), got ${showValue(input.graceMs)}`,
    )
  const executorInput: unknown = input.executor ?? stored?.executor ?? CONFIG_DEFAULTS.executor
  if (typeof executorInput !== 'string')
    throw badConfig(
      `executor: must be auto, threads, inline or a redis://host:port URL, got ${showValue(executorInput)}`,
    )
  const redis = isRedisUrl(executorInput)
  if (!['auto', 'threads', 'inline'].includes(executorInput) && !redis)
    throw badConfig(
      `executor: must be auto, threads, inline or a redis://host:port URL, got ${showValue(executorInput)}`,
    )
  if (redis) assertDistributable({ spec: evaluator.loaded.spec, name: evaluatorPlugin.name })
  const queue = input.queue ?? stored?.queue ?? DEFAULT_QUEUE
  if (typeof queue !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(queue))
    throw badConfig(`queue: letters, digits, '.', '_' and '-' only, got ${showValue(queue)}`)
  const budget =
    input.budget !== undefined
      ? normalizeBudget(input.budget)
      : (stored?.budget ?? normalizeBudget(undefined))

  return {
    space,
    strategy: strategy.loaded,
    evaluator: evaluator.loaded,
    config: {
      space: space.toJSON(),
      strategy: {
        spec: storedSpec(strategy.loaded.spec, baseDir),
        name: strategyPlugin.name,
        options: strategyOptions,
      },
      evaluator: {
        spec: storedSpec(evaluator.loaded.spec, baseDir),
        name: evaluatorPlugin.name,
        options: evaluatorOptions,
      },
      budget,
      workers,
      seed,
      maxFailures,
      // a Redis URL keeps its password out of the store; the given one is used for this session
      executor: redis ? redactRedisUrl(executorInput) : executorInput,
      ...(redis ? { queue } : {}),
      graceMs,
    },
    executorUrl: redis ? executorInput : null,
  }
}
