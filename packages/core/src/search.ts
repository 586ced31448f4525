import {
  createStrategy,
  type Evaluator,
  type Logger,
  type SamplingStrategyPlugin,
  type StrategyStatus,
  type TrialResult,
} from './contracts'
import { NaskitError } from './errors'
import { BestTracker, evaluateTrial, prepareProposal, trialResultOf, trialRng } from './loop'
import type { SearchSpace } from './space/space'

/** Options of {@link simpleSearch}. */
export interface SimpleSearchOptions {
  space: SearchSpace
  strategy: SamplingStrategyPlugin
  strategyOptions?: unknown
  evaluator: Evaluator
  /** Number of trials. */
  trials: number
  seed?: number
  /** Candidates asked and evaluated per round. @default 1 */
  batchSize?: number
  onTrial?(trial: TrialResult): void
  log?: Logger
}

/** Outcome of {@link simpleSearch}. */
export interface SimpleSearchResult {
  trials: TrialResult[]
  best: TrialResult | undefined
  status: StrategyStatus
}

/**
 * A sequential, in-memory ask/evaluate/tell loop. Handy in scripts and tests; the
 * `@naskit/runner` package adds parallel workers, a crash-safe store, resume and reports.
 */
export async function simpleSearch(opts: SimpleSearchOptions): Promise<SimpleSearchResult> {
  const { space, evaluator, trials: budget } = opts
  if (!Number.isInteger(budget) || budget < 1)
    throw new NaskitError('E_BAD_OPTIONS', `trials must be a positive integer, got ${budget}.`)
  const seed = opts.seed ?? 0
  const batch = opts.batchSize ?? 1
  const strategy = createStrategy(opts.strategy, {
    space,
    options: opts.strategyOptions,
    seed,
    ...(opts.log ? { log: opts.log } : {}),
  })
  const trials: TrialResult[] = []
  const best = new BestTracker()
  const controller = new AbortController()
  while (trials.length < budget) {
    const status = strategy.status?.() ?? { done: false }
    if (status.done) break
    const proposals = await strategy.ask(Math.min(batch, budget - trials.length))
    if (proposals.length === 0) break
    const results: TrialResult[] = []
    for (const p of proposals) {
      const id = trials.length + results.length
      const checked = prepareProposal(space, p)
      if ('error' in checked) throw checked.error
      const trial = { id, ...checked }
      const evaluation = await evaluateTrial(evaluator, trial, {
        space,
        rng: trialRng(seed, id),
        signal: controller.signal,
      })
      const result = trialResultOf(trial, evaluation)
      results.push(result)
      opts.onTrial?.(result)
      best.offer(result)
    }
    trials.push(...results)
    await strategy.tell(results)
  }
  const status = strategy.status?.() ?? { done: false }
  await strategy.dispose?.()
  return { trials, best: best.best, status }
}
