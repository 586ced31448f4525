import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, extname, resolve as resolvePath } from 'node:path'
import {
  chainSpace,
  dartsSpace,
  type EvaluatorPlugin,
  type JsonObject,
  NaskitError,
  nasnetSpace,
  nb201Space,
  SearchSpace,
  type SpaceSpec,
  type StrategyPlugin,
} from '@naskit/core'
import { importFile } from './modules'

/** A space: a built-in name, a built-in with options, a `SearchSpace`, or its JSON form. */
export type SpaceInput =
  | string
  | SearchSpace
  | SpaceSpec
  | { builtIn: 'chain' | 'nasnet' | 'nb201' | 'darts'; options?: Record<string, unknown> }

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
}

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
]

/** Throws `E_BAD_CONFIG` naming unknown fields (typos) of a config object. */
export function checkConfigFields(config: object): void {
  const unknown = Object.keys(config).filter((k) => !CONFIG_FIELDS.includes(k))
  if (unknown.length > 0) {
    throw badConfig(
      `${unknown.map((k) => `${k}: unknown field`).join('; ')} (known: ${CONFIG_FIELDS.join(', ')})`,
    )
  }
  const budget = (config as { budget?: unknown }).budget
  if (budget !== null && typeof budget === 'object') {
    const extra = Object.keys(budget).filter((k) => !['trials', 'time', 'target'].includes(k))
    if (extra.length > 0)
      throw badConfig(
        `${extra.map((k) => `budget.${k}: unknown field`).join('; ')} (known: trials, time, target)`,
      )
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
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** Parses `1500`, `'90s'`, `'30m'`, `'1.5h'` into milliseconds. */
export function parseDuration(value: number | string, path = 'budget.time'): number {
  if (typeof value === 'number') {
    if (!(value > 0) || !Number.isFinite(value))
      throw badConfig(`${path}: must be a positive number of milliseconds, got ${value}`)
    return value
  }
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
    throw badConfig('budget: expected a number of trials or { trials, time, target }')
  const trials = b.trials ?? null
  if (trials !== null && (!Number.isInteger(trials) || trials < 1))
    throw badConfig(`budget.trials: must be a positive integer, got ${trials}`)
  const timeMs = b.time === undefined ? null : parseDuration(b.time)
  const target = b.target ?? null
  if (target !== null && (typeof target !== 'number' || !Number.isFinite(target)))
    throw badConfig(`budget.target: must be a finite number, got ${target}`)
  if (trials === null && timeMs === null) throw badConfig('budget: give trials and/or time')
  return { trials, timeMs, target }
}

const BUILT_IN_FACTORIES: Record<string, (options: Record<string, unknown>) => SearchSpace> = {
  chain: (o) => chainSpace(o),
  nasnet: (o) => nasnetSpace(o),
  nb201: () => nb201Space(),
  darts: () => dartsSpace(),
}

/** Builds the search space a config names. */
export function resolveSpace(input: SpaceInput): SearchSpace {
  if (input instanceof SearchSpace) return input
  if (typeof input === 'string') {
    const make = BUILT_IN_FACTORIES[input]
    if (!make)
      throw badConfig(
        `space: unknown built-in space "${input}" (built-in: ${Object.keys(BUILT_IN_FACTORIES).join(', ')}; or give a space object)`,
      )
    return make({})
  }
  if (input && typeof input === 'object' && 'builtIn' in input) {
    const make = BUILT_IN_FACTORIES[input.builtIn]
    if (!make) throw badConfig(`space.builtIn: unknown built-in space "${input.builtIn}"`)
    return make(input.options ?? {})
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
    'space: expected a built-in name, { builtIn, options }, a SearchSpace or its JSON form',
  )
}

/** Splits a plugin input into the thing to load and its options. */
export function splitPluginInput<P>(
  input: PluginInput<P>,
  isPlugin: (v: unknown) => boolean,
): { use: string | P; options: JsonObject } {
  if (typeof input === 'string') return { use: input, options: {} }
  if (isPlugin(input)) return { use: input as P, options: {} }
  const o = input as { name?: string; plugin?: P; options?: Record<string, unknown> }
  const options = (o.options ?? {}) as JsonObject
  if (o.plugin !== undefined) return { use: o.plugin, options }
  if (typeof o.name === 'string') return { use: o.name, options }
  throw badConfig(
    'expected a plugin name, a plugin object, { name, options } or { plugin, options }',
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
    const mod = await importFile(abs)
    value = mod.default ?? mod.config
  }
  if (value === null || typeof value !== 'object') {
    throw new NaskitError(
      'E_BAD_CONFIG',
      `Config file ${abs} must default-export a config object (use defineConfig({...})).`,
    )
  }
  return { config: value as NaskitConfig, dir: dirname(abs) }
}
