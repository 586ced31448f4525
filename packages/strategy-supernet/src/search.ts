import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadSamplingStrategy } from '@naskit/core/node'
import {
  type Arch,
  type Evaluator,
  type Logger,
  NaskitError,
  randomStrategy,
  type SamplingStrategyPlugin,
  type SearchSpace,
  simpleSearch,
  type StrategyPlugin,
  type TrialResult,
} from '@naskit/core'

/** A ranked architecture of a one-shot search. */
export interface RankedArch {
  arch: Arch
  key: string
  /** The inherited-weight objective (validation accuracy with the supernet's weights). */
  score: number
  trialId: number
}

/** This package's directory: strategy packages installed beside it are found from here too. */
const HERE = dirname(fileURLToPath(import.meta.url))

/**
 * Finds the sampling strategy plugin of a name: `random`, `evolution` (when
 * `@naskit/strategy-evolution` is installed), an installed package or a module path, with the
 * resolver `naskit search --strategy` uses (`@naskit/core/node`); `extra` holds plugins a host
 * already has, by name.
 */
export async function resolveSamplingStrategy(
  name: string,
  extra: Record<string, StrategyPlugin> = {},
  baseDir: string = process.cwd(),
): Promise<SamplingStrategyPlugin> {
  const given = extra[name]
  const plugin = (await loadSamplingStrategy(given ?? name, baseDir, { extraDirs: [HERE] })).plugin
  return plugin as SamplingStrategyPlugin
}

/** Options of {@link searchSubnets}. */
export interface SearchSubnetsOptions {
  space: SearchSpace
  evaluator: Evaluator
  /** Any sampling strategy plugin. @default core's random strategy */
  strategy?: SamplingStrategyPlugin
  strategyOptions?: unknown
  /** Candidates evaluated. */
  trials: number
  /** Architectures returned, best first. @default 5 */
  topK?: number
  seed?: number
  signal?: AbortSignal
  log?: Logger
  onTrial?(trial: TrialResult): void
}

/** Outcome of {@link searchSubnets}. */
export interface SearchSubnetsResult {
  top: RankedArch[]
  trials: TrialResult[]
}

/**
 * Searches the supernet's subnets with a sampling strategy driving an (inherited-weight)
 * evaluator, and returns the `topK` distinct architectures, best first.
 */
export async function searchSubnets(opts: SearchSubnetsOptions): Promise<SearchSubnetsResult> {
  const signal = opts.signal
  const evaluator: Evaluator = {
    name: opts.evaluator.name,
    evaluate(arch, ctx) {
      if (signal?.aborted) throw new NaskitError('E_ABORTED', 'The search was aborted.')
      return opts.evaluator.evaluate(arch, ctx)
    },
  }
  const result = await simpleSearch({
    space: opts.space,
    strategy: opts.strategy ?? randomStrategy,
    strategyOptions: opts.strategyOptions,
    evaluator,
    trials: opts.trials,
    seed: opts.seed ?? 0,
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.onTrial ? { onTrial: opts.onTrial } : {}),
  })
  if (signal?.aborted) throw new NaskitError('E_ABORTED', 'The search was aborted.')
  return { top: topArchitectures(result.trials, opts.topK ?? 5), trials: result.trials }
}

/** The best `k` distinct architectures of finished trials, best first (ties: earlier first). */
export function topArchitectures(trials: readonly TrialResult[], k: number): RankedArch[] {
  const best = new Map<string, RankedArch>()
  for (const t of trials) {
    if (t.status !== 'ok' || typeof t.objective !== 'number' || !Number.isFinite(t.objective))
      continue
    const prev = best.get(t.key)
    if (prev === undefined || t.objective > prev.score)
      best.set(t.key, { arch: t.arch, key: t.key, score: t.objective, trialId: t.id })
  }
  return [...best.values()].sort((a, b) => b.score - a.score || a.trialId - b.trialId).slice(0, k)
}
