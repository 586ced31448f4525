import {
  BestTracker,
  createStrategy,
  NaskitError,
  prepareProposal,
  type SamplingStrategy,
  type StrategyPlugin,
  type TrialResult,
  toTrialResult,
  trialResultOf,
} from '@naskit/core'
import { existsSync } from 'node:fs'
import { type Nb201Dataset, NB201_DATASETS, type Nb201Table } from './table'
import { canStartWorkers, runOnWorkers } from './workers'

/** A strategy taking part in a suite. */
export interface SuiteEntry {
  /** Name shown in the results (defaults to the plugin's name). */
  label?: string
  plugin: StrategyPlugin
  /** Options passed to the plugin. */
  options?: unknown
  /**
   * The name the plugin was resolved from (see `resolveStrategy`); worker threads load it by
   * this name. Entries without it run in-process.
   */
  spec?: string
}

/** Options of {@link runNb201Suite}. */
export interface SuiteOptions {
  table: Nb201Table
  dataset?: Nb201Dataset
  strategies: SuiteEntry[]
  /** Number of seeds (0..n-1), or the seeds themselves. @default 100 */
  seeds?: number | number[]
  /** Budget of unique architectures queried per run. @default 100 */
  queries?: number
  /** Candidates asked per round, as with that many parallel workers. @default 1 */
  batch?: number
  /** Runs in flight at once in this thread (strategies that await overlap). @default 8 */
  concurrency?: number
  /**
   * Worker threads to spread the runs over. Each loads the table (from its path) and resolves
   * the strategies by their `spec`; without a spec, a table file or a worker script the runs
   * stay in this thread. @default 1
   */
  workers?: number
  /** Directory strategy packages are resolved from in workers. @default process.cwd() */
  cwd?: string
  /** More directories workers look strategy packages up from. @default [] */
  lookupDirs?: string[]
  /** Called after every finished run. */
  onRun?(run: RunRecord): void
}

/** One strategy, one seed, a budget of unique queries. */
export interface RunRecord {
  strategy: string
  seed: number
  /** Unique architectures queried (less than the budget when the strategy stopped early). */
  queries: number
  /** `<dataset>_test` of the queried architecture with the best `<dataset>_valid_12ep`. */
  result: number
  /** Its `<dataset>_valid_12ep`. */
  bestValid: number
  /** Its NAS-Bench-201 arch string and index. */
  bestArch: string
  bestIndex: number
  /** `result` after each query 1..budget (the last value repeats when the run stopped early). */
  curve: number[]
  /** Proposals of already-queried architectures (answered from the run's cache, not counted). */
  repeats: number
  /** Proposals that were not NAS-Bench-201 architectures (told as failed trials). */
  invalid: number
  /** Why the run stopped before its budget, if it did. */
  stopped?: string
  durationMs: number
}

/** Aggregate of one strategy over its seeds. */
export interface StrategySummary {
  strategy: string
  runs: number
  mean: number
  /** Sample standard deviation over seeds. */
  std: number
  min: number
  max: number
  median: number
  /** Optimum of the table minus `mean`. */
  regret: number
  /** Mean of the runs' best-so-far curves, per query. */
  curve: number[]
  meanQueries: number
  meanDurationMs: number
}

/** Outcome of a suite. */
export interface SuiteResult {
  benchmark: 'nb201'
  dataset: Nb201Dataset
  queries: number
  seeds: number[]
  batch: number
  /** Worker threads used (1: all runs in this thread). */
  workers: number
  /** The table's best `<dataset>_test`. */
  optimum: { value: number; arch: string; index: number }
  summaries: StrategySummary[]
  /** Strategies left out, and why (one-shot strategies cannot run on a table). */
  skipped: Array<{ strategy: string; reason: string }>
  runs: RunRecord[]
  durationMs: number
}

/** Why one-shot strategies are left out of tabular runs. */
export function oneShotSkipReason(name: string): string {
  return `"${name}" is a one-shot strategy: it trains a weight-sharing supernet itself, and a lookup table has no weights to train, so it is left out of tabular runs. Run it with \`naskit search\` on a real evaluator.`
}

const isPromise = <T>(v: T | Promise<T>): v is Promise<T> =>
  typeof (v as { then?: unknown })?.then === 'function'

/**
 * Runs one strategy with one seed on the table until it has queried `queries` unique
 * architectures. The search signal is `<dataset>_valid_12ep`; the result is the `<dataset>_test`
 * of the best of them by that signal.
 */
export async function runNb201(args: {
  table: Nb201Table
  dataset: Nb201Dataset
  plugin: StrategyPlugin
  options?: unknown
  seed: number
  queries: number
  batch?: number
  label?: string
}): Promise<RunRecord> {
  const { table, dataset, plugin, seed, queries } = args
  if (plugin.kind !== 'sampling')
    throw new NaskitError('E_UNSUPPORTED_SPACE', oneShotSkipReason(plugin.name))
  const started = performance.now()
  const batch = args.batch ?? 1
  const space = table.space
  const strategy: SamplingStrategy = createStrategy(plugin, { space, options: args.options, seed })
  const validCol = table.column(`${dataset}_valid_12ep`)
  const testCol = table.column(`${dataset}_test`)
  const validName = `${dataset}_valid_12ep`
  const testName = `${dataset}_test`
  const notInTable = { code: 'E_INVALID_ARCH', message: 'not a NAS-Bench-201 architecture' }

  const queried = new Map<string, number>() // key → row
  const curve: number[] = []
  const best = new BestTracker()
  let bestRow = -1
  let repeats = 0
  let invalid = 0
  let nextId = 0
  let stopped: string | undefined
  // proposals beyond the budget are allowed but bounded, so a strategy that only repeats ends
  const maxProposals = queries * 20 + 1000
  let proposals = 0

  while (queried.size < queries) {
    const status = strategy.status?.()
    if (status?.done) {
      stopped = status.message
      break
    }
    if (proposals >= maxProposals) {
      stopped = `stopped after ${proposals} proposals with only ${queried.size} unique architectures`
      break
    }
    const asked = strategy.ask(Math.min(batch, queries - queried.size))
    const got = isPromise(asked) ? await asked : asked
    if (got.length === 0) {
      stopped = 'the strategy proposed nothing'
      break
    }
    proposals += got.length
    const results: TrialResult[] = []
    for (const p of got) {
      const id = nextId++
      const checked = prepareProposal(space, p)
      const row = 'error' in checked ? -1 : table.rowOfKey(checked.key)
      if ('error' in checked || row < 0) {
        invalid++
        results.push(
          toTrialResult({
            id,
            arch: p.arch,
            key: 'error' in checked ? '' : checked.key,
            outcome: { error: 'error' in checked ? checked.error : notInTable },
            ...(p.meta === undefined ? {} : { meta: p.meta }),
          }),
        )
        continue
      }
      const valid = validCol[row] as number
      const trial = trialResultOf(
        { id, ...checked },
        {
          outcome: {
            metrics: { objective: valid, [validName]: valid, [testName]: testCol[row] as number },
          },
        },
      )
      results.push(trial)
      // a repeat is answered from the cache and does not count as a query
      if (queried.has(checked.key)) repeats++
      if (queried.has(checked.key) || queried.size >= queries) continue
      queried.set(checked.key, row)
      if (best.offer(trial)) bestRow = row
      curve.push(testCol[bestRow] as number)
    }
    const told = strategy.tell(results)
    if (isPromise(told)) await told
  }
  const disposed = strategy.dispose?.()
  if (isPromise(disposed)) await disposed
  if (bestRow < 0) {
    throw new NaskitError(
      'E_BAD_METRICS',
      `Strategy "${args.label ?? plugin.name}" (seed ${seed}) queried no NAS-Bench-201 architecture: ${stopped ?? 'unknown reason'}.`,
    )
  }
  const last = curve[curve.length - 1] as number
  while (curve.length < queries) curve.push(last)
  return {
    strategy: args.label ?? plugin.name,
    seed,
    queries: queried.size,
    result: testCol[bestRow] as number,
    bestValid: validCol[bestRow] as number,
    bestArch: table.archAt(bestRow),
    bestIndex: table.column('index')[bestRow] as number,
    curve,
    repeats,
    invalid,
    ...(stopped === undefined ? {} : { stopped }),
    durationMs: performance.now() - started,
  }
}

/** Mean, sample standard deviation, min, max and median. */
export function statistics(values: readonly number[]): {
  mean: number
  std: number
  min: number
  max: number
  median: number
} {
  const n = values.length
  if (n === 0)
    return {
      mean: Number.NaN,
      std: Number.NaN,
      min: Number.NaN,
      max: Number.NaN,
      median: Number.NaN,
    }
  let sum = 0
  for (const v of values) sum += v
  const mean = sum / n
  let sq = 0
  for (const v of values) sq += (v - mean) ** 2
  const sorted = [...values].sort((a, b) => a - b)
  const mid = n >> 1
  const median =
    n % 2 === 1
      ? (sorted[mid] as number)
      : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
  return {
    mean,
    std: n > 1 ? Math.sqrt(sq / (n - 1)) : 0,
    min: sorted[0] as number,
    max: sorted[n - 1] as number,
    median,
  }
}

/** Summarises the runs of one strategy. */
export function summarise(
  strategy: string,
  runs: readonly RunRecord[],
  optimum: number,
  queries: number,
): StrategySummary {
  const d = statistics(runs.map((r) => r.result))
  const curve = new Array<number>(queries).fill(0)
  for (const r of runs)
    for (let i = 0; i < queries; i++) curve[i] = (curve[i] as number) + (r.curve[i] as number)
  for (let i = 0; i < queries; i++) curve[i] = (curve[i] as number) / Math.max(1, runs.length)
  let q = 0
  let ms = 0
  for (const r of runs) {
    q += r.queries
    ms += r.durationMs
  }
  return {
    strategy,
    runs: runs.length,
    ...d,
    regret: optimum - d.mean,
    curve,
    meanQueries: q / Math.max(1, runs.length),
    meanDurationMs: ms / Math.max(1, runs.length),
  }
}

/**
 * Runs every strategy with every seed on the NAS-Bench-201 table (strategies × seeds, several
 * runs in flight at once) and summarises them: mean ± std of the result, regret to the table's
 * optimum, and the mean best-so-far curve. One-shot strategies are left out with the reason.
 */
export async function runNb201Suite(opts: SuiteOptions): Promise<SuiteResult> {
  const started = performance.now()
  const dataset = opts.dataset ?? 'cifar10'
  if (!NB201_DATASETS.includes(dataset)) {
    throw new NaskitError(
      'E_BAD_OPTIONS',
      `Unknown NAS-Bench-201 dataset "${dataset}"; use one of ${NB201_DATASETS.join(', ')}.`,
    )
  }
  const queries = opts.queries ?? 100
  if (!Number.isInteger(queries) || queries < 1 || queries > opts.table.size) {
    throw new NaskitError(
      'E_BAD_OPTIONS',
      `queries must be an integer in [1, ${opts.table.size}], got ${queries}.`,
    )
  }
  const seeds =
    typeof opts.seeds === 'number' || opts.seeds === undefined
      ? range(opts.seeds ?? 100)
      : [...opts.seeds]
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s))) {
    throw new NaskitError(
      'E_BAD_OPTIONS',
      'seeds must be a positive count or a non-empty list of integers.',
    )
  }
  const batch = opts.batch ?? 1
  if (!Number.isInteger(batch) || batch < 1)
    throw new NaskitError('E_BAD_OPTIONS', `batch must be a positive integer, got ${batch}.`)
  const concurrency = Math.max(1, opts.concurrency ?? 8)
  const testName = `${dataset}_test`
  const best = opts.table.best(testName)
  const optimum = {
    value: best.value,
    arch: opts.table.archAt(best.row),
    index: opts.table.column('index')[best.row] as number,
  }

  const skipped: SuiteResult['skipped'] = []
  const active: Array<SuiteEntry & { label: string }> = []
  const labels = new Set<string>()
  for (const entry of opts.strategies) {
    const label = entry.label ?? entry.plugin.name
    if (labels.has(label))
      throw new NaskitError(
        'E_BAD_OPTIONS',
        `Strategy "${label}" is listed twice; give the entries distinct labels.`,
      )
    labels.add(label)
    const support = entry.plugin.supports ? entry.plugin.supports(opts.table.space) : true
    if (entry.plugin.kind !== 'sampling')
      skipped.push({ strategy: label, reason: oneShotSkipReason(label) })
    else if (support !== true)
      skipped.push({
        strategy: label,
        reason: `"${label}" does not support the nb201 space: ${support}`,
      })
    else active.push({ ...entry, label })
  }

  const jobs: Array<{ entry: (typeof active)[number]; seed: number; slot: number }> = []
  for (const entry of active)
    for (const seed of seeds) jobs.push({ entry, seed, slot: jobs.length })
  const results = new Array<RunRecord>(jobs.length)
  const wanted = Math.max(1, Math.floor(opts.workers ?? 1))
  const threads =
    wanted > 1 &&
    jobs.length > 1 &&
    active.every((e) => e.spec !== undefined) &&
    existsSync(opts.table.path) &&
    canStartWorkers()
      ? Math.min(wanted, jobs.length)
      : 1
  if (threads > 1) {
    await runOnWorkers(
      {
        tablePath: opts.table.path,
        dataset,
        queries,
        batch,
        cwd: opts.cwd ?? process.cwd(),
        lookupDirs: opts.lookupDirs ?? [],
        entries: active.map((e) => ({
          label: e.label,
          spec: e.spec as string,
          ...(e.options === undefined ? {} : { options: e.options }),
        })),
      },
      jobs.map((j) => ({ slot: j.slot, entry: active.indexOf(j.entry), seed: j.seed })),
      threads,
      (slot, run) => {
        results[slot] = run
        opts.onRun?.(run)
      },
    )
  } else {
    let next = 0
    const worker = async () => {
      while (next < jobs.length) {
        const job = jobs[next++] as (typeof jobs)[number]
        const run = await runNb201({
          table: opts.table,
          dataset,
          plugin: job.entry.plugin,
          options: job.entry.options,
          seed: job.seed,
          queries,
          batch,
          label: job.entry.label,
        })
        results[job.slot] = run
        opts.onRun?.(run)
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker))
  }

  const summaries = active.map((entry) =>
    summarise(
      entry.label,
      results.filter((r) => r.strategy === entry.label),
      optimum.value,
      queries,
    ),
  )
  return {
    benchmark: 'nb201',
    dataset,
    queries,
    seeds,
    batch,
    workers: threads,
    optimum,
    summaries,
    skipped,
    runs: results,
    durationMs: performance.now() - started,
  }
}

function range(n: number): number[] {
  if (!Number.isInteger(n) || n < 1)
    throw new NaskitError('E_BAD_OPTIONS', `seeds must be a positive integer, got ${n}.`)
  return Array.from({ length: n }, (_, i) => i)
}
