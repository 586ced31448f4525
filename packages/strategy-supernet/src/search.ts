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

/** Finds the sampling strategy plugin of a name: `random`, `evolution`, or an installed package. */
export async function resolveSamplingStrategy(
  name: string,
  extra: Record<string, StrategyPlugin> = {},
): Promise<SamplingStrategyPlugin> {
  const given = extra[name]
  let plugin: unknown = given
  if (plugin === undefined) {
    if (name === 'random') plugin = randomStrategy
    else {
      const candidates =
        name === 'evolution' || name === 'local-search'
          ? ['@naskit/strategy-evolution']
          : [name, `naskit-strategy-${name}`, `@naskit/strategy-${name}`]
      for (const pkg of candidates) {
        try {
          const mod = (await import(pkg)) as {
            default?: StrategyPlugin
            strategies?: StrategyPlugin[]
          }
          const all = [mod.default, ...(mod.strategies ?? [])].filter(
            (p): p is StrategyPlugin => p !== undefined && p !== null,
          )
          plugin = all.find((p) => p.name === name) ?? mod.default
          if (plugin !== undefined) break
        } catch {
          // try the next package name
        }
      }
    }
  }
  if (plugin === undefined || plugin === null) {
    throw new NaskitError(
      'E_UNKNOWN_STRATEGY',
      `No sampling strategy "${name}" is installed. Install its package (e.g. @naskit/strategy-evolution) or pass searchStrategy: 'random'.`,
    )
  }
  const p = plugin as StrategyPlugin
  if (p.kind !== 'sampling') {
    throw new NaskitError(
      'E_BAD_PLUGIN',
      `Strategy "${p.name}" is ${p.kind}; the search over a supernet needs a sampling strategy.`,
    )
  }
  return p
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
