import {
  defineStrategy,
  type JsonValue,
  NaskitError,
  option,
  type Proposal,
  type SamplingStrategy,
  type SamplingStrategyPlugin,
  type SearchSpace,
  type StrategyContext,
  type StrategyPlugin,
  type StrategyStatus,
  type TrialResult,
} from '@naskit/core'
import { AshaSchedule } from './asha'
import { type Ladder, makeLadder, type Resource } from './ladder'
import { checkSamplerPlugin, type Feedback, Pool } from './pool'
import type { Method, Schedule } from './schedule'
import { SyncSchedule } from './sync'

const common = {
  sampler: option.string({
    default: 'random',
    description:
      'The sampling strategy that proposes new candidates: random, evolution, rl, an installed package or a module path (resolved like --strategy).',
  }),
  samplerOptions: option.json<Record<string, JsonValue>>({
    default: {},
    description: 'Options of the sampler (its own option schema), e.g. { populationSize: 20 }.',
  }),
  resource: option.enum(['epochs', 'dataFraction'], {
    default: 'epochs',
    description:
      'The fidelity the rungs vary: training epochs, or the fraction of the training data (Proposal.fidelity).',
  }),
  maxResource: option.number({
    default: 9,
    description:
      'Resource of the top rung (full fidelity): epochs, or a data fraction ≤ 1. Rung k below the top gets maxResource / η^k.',
  }),
  eta: option.int({
    default: 3,
    min: 2,
    description:
      'Reduction factor η: each rung keeps the best 1/η of the rung below and trains them η times longer.',
  }),
  fidelity: option.json<Record<string, number>>({
    default: {},
    description:
      'Fidelity fields every proposal carries besides the resource, e.g. { dataFraction: 0.5 } while the rungs vary epochs.',
  }),
}

const minResource = option.number({
  default: 1,
  description:
    'Least resource of a rung: the lowest rung is the smallest maxResource / η^k that is at least this.',
})

const feedback = option.enum(['final', 'first'], {
  default: 'final',
  description:
    "Which result of a candidate the sampler learns from, once per candidate: 'final' (its last rung's, once it is not promoted or has finished the top rung) or 'first' (its first rung's, as soon as it finishes).",
})

const parallelBrackets = option.boolean({
  default: true,
  description:
    'Start the next bracket while the current one waits for its rung to finish, so that every worker keeps busy; false runs one bracket at a time.',
})

const shOptions = {
  ...common,
  minResource,
  candidates: option.int({
    default: 0,
    min: 0,
    description:
      'Candidates each bracket starts with at the lowest rung; 0: η^(rungs − 1), so that one reaches the top rung.',
  }),
  rounds: option.int({
    default: 1,
    min: 0,
    description:
      'Brackets run, each with new candidates; 0: as many as the host budget allows (the schedule never ends by itself).',
  }),
  feedback,
  parallelBrackets,
}

const hbOptions = {
  ...common,
  minResource,
  brackets: option.int({
    default: 0,
    min: 0,
    description:
      'Brackets per Hyperband iteration, most aggressive first (bracket 0 starts at the lowest rung); 0: all of them, one per rung.',
  }),
  iterations: option.int({
    default: 1,
    min: 0,
    description:
      'Times the whole set of brackets runs; 0: as often as the host budget allows (the schedule never ends by itself).',
  }),
  feedback,
  parallelBrackets,
}

const ashaOptions = {
  ...common,
  gracePeriod: option.number({
    default: 1,
    description:
      'The grace period: resource every candidate gets before it can be stopped; the lowest rung is the smallest maxResource / η^k that is at least this.',
  }),
  brackets: option.int({
    default: 1,
    min: 1,
    description:
      'Brackets new candidates take turns in; bracket s starts at rung s (2 or more: asynchronous Hyperband).',
  }),
  maxCandidates: option.int({
    default: 0,
    min: 0,
    description:
      'New candidates drawn in all; 0: no limit (the host budget ends the search). Promotions go on after the last one.',
  }),
}

type CommonOptions = {
  sampler: string
  samplerOptions: Record<string, JsonValue>
  resource: Resource
  maxResource: number
  eta: number
  fidelity: Record<string, number>
}

const TITLES: Record<Method, string> = {
  'successive-halving': 'Successive halving',
  hyperband: 'Hyperband',
  asha: 'ASHA',
}

function badState(method: Method, why: string): NaskitError {
  return new NaskitError(
    'E_BAD_STATE',
    `${method} strategy: the checkpoint is not a version-1 ${method} state (${why}). Resume with the same naskit version and options that wrote it, or start a new experiment.`,
  )
}

/** The Hyperband brackets: bracket i starts at rung i with ⌈K/(s+1)·η^s⌉ candidates, s = K−1−i. */
export function hyperbandPlan(
  ladder: Ladder,
  brackets = 0,
  iterations = 1,
): (i: number) => { start: number; n: number } | null {
  const K = ladder.levels.length
  const B = brackets > 0 ? Math.min(brackets, K) : K
  return (i) => {
    if (iterations > 0 && i >= iterations * B) return null
    const j = i % B
    const s = K - 1 - j
    return { start: j, n: Math.ceil((K / (s + 1)) * ladder.eta ** s - 1e-9) }
  }
}

/**
 * A multi-fidelity strategy: the ask/tell contract, and {@link MultiFidelityStrategy.promotable}
 * for hosts that keep the trained state of trials.
 */
export interface MultiFidelityStrategy extends SamplingStrategy {
  /**
   * Ids of finished trials that a later proposal may continue (`Proposal.continueFrom`): the
   * ones a rung may still promote, and the ones whose continuation is asked but not finished.
   * A host that keeps trained weights per trial may drop those of every other trial.
   */
  promotable(): number[]
}

function build(
  method: Method,
  // biome-ignore lint/suspicious/noExplicitAny: each plugin's own validated options
  ctx: StrategyContext<any>,
  fixedSampler: SamplingStrategyPlugin | undefined,
): MultiFidelityStrategy {
  const o = ctx.options as CommonOptions & Record<string, unknown>
  const owner = `options of strategy "${method}"`
  const ladder = makeLadder({
    resource: o.resource,
    min: (method === 'asha' ? o.gracePeriod : o.minResource) as number,
    max: o.maxResource,
    eta: o.eta,
    fixed: o.fidelity,
    owner,
    minName: method === 'asha' ? 'gracePeriod' : 'minResource',
  })
  const pool = new Pool({
    sampler: fixedSampler ?? o.sampler,
    samplerOptions: o.samplerOptions,
    space: ctx.space,
    seed: ctx.seed,
    log: ctx.log,
    owner,
  })
  let schedule: Schedule
  if (method === 'asha') {
    schedule = new AshaSchedule(ladder, pool, o.brackets as number, o.maxCandidates as number)
  } else {
    const opts = { parallel: o.parallelBrackets as boolean, feedback: o.feedback as Feedback }
    if (method === 'hyperband') {
      schedule = new SyncSchedule(
        method,
        ladder,
        pool,
        hyperbandPlan(ladder, o.brackets as number, o.iterations as number),
        opts,
      )
    } else {
      const n =
        (o.candidates as number) > 0
          ? (o.candidates as number)
          : ladder.eta ** (ladder.levels.length - 1)
      const rounds = o.rounds as number
      schedule = new SyncSchedule(
        method,
        ladder,
        pool,
        (i) => (rounds > 0 && i >= rounds ? null : { start: 0, n }),
        opts,
      )
    }
  }
  const fingerprint = JSON.stringify({ method, levels: ladder.levels, eta: ladder.eta })

  return {
    ask(n: number): Promise<Proposal[]> {
      return schedule.ask(n)
    },
    tell(results: readonly TrialResult[]): Promise<void> {
      return schedule.tell(results)
    },
    status(): StrategyStatus {
      const done = schedule.done()
      return done === null
        ? { done: false }
        : { done: true, reason: 'finished', message: `${TITLES[method]} finished: ${done}` }
    },
    state(): JsonValue {
      return {
        version: 1,
        method,
        ladder: fingerprint,
        pool: pool.state(),
        schedule: schedule.state(),
      }
    },
    restore(state: JsonValue): void {
      const s = state as {
        version?: unknown
        method?: unknown
        ladder?: unknown
        pool?: unknown
        schedule?: unknown
      } | null
      if (!s || typeof s !== 'object' || s.version !== 1 || s.method !== method)
        throw badState(method, 'wrong version or strategy')
      if (s.ladder !== fingerprint)
        throw badState(method, `it was written with other rungs: ${String(s.ladder)}`)
      pool.restore(s.pool, (why) => badState(method, why))
      try {
        schedule.restore(s.schedule)
      } catch (error) {
        throw badState(method, (error as Error).message)
      }
    },
    dispose(): Promise<void> {
      return pool.dispose()
    },
    promotable(): number[] {
      return schedule.promotable()
    },
  }
}

/**
 * Successive halving (Jamieson & Talwalkar 2016; Li et al. 2018): `candidates` candidates at the
 * lowest rung, the best 1/η of each rung promoted to the next, synchronously (a rung is decided
 * when all its trials finished).
 */
export const successiveHalvingStrategy = defineStrategy({
  name: 'successive-halving',
  kind: 'sampling',
  description:
    'Successive halving: train many candidates briefly, promote the best 1/η to η times the fidelity, rung by rung (Jamieson & Talwalkar 2016).',
  options: shOptions,
  create: (ctx) => build('successive-halving', ctx, undefined),
})

/**
 * Hyperband (Li et al. 2018): successive halving in brackets from the most aggressive (many
 * candidates at the lowest rung) to plain full-fidelity training.
 */
export const hyperbandStrategy = defineStrategy({
  name: 'hyperband',
  kind: 'sampling',
  description:
    'Hyperband: successive halving in brackets of different aggressiveness, from many cheap candidates to a few at full fidelity (Li et al. 2018).',
  options: hbOptions,
  create: (ctx) => build('hyperband', ctx, undefined),
})

/** ASHA (Li et al. 2020): successive halving that promotes as soon as a candidate is in the top 1/η. */
export const ashaStrategy = defineStrategy({
  name: 'asha',
  kind: 'sampling',
  description:
    'ASHA: asynchronous successive halving; a candidate is promoted as soon as it is in the best 1/η of its rung, and no worker waits (Li et al. 2020).',
  options: ashaOptions,
  create: (ctx) => build('asha', ctx, undefined),
})

/**
 * The same multi-fidelity strategy with its sampler given as a plugin object instead of a name
 * (for a config file, or a strategy that is not an installed package). Its `supports` is the
 * sampler's; the `sampler` option defaults to the plugin's name and cannot be changed.
 */
export function withSampler(
  plugin: StrategyPlugin,
  sampler: SamplingStrategyPlugin | StrategyPlugin,
): SamplingStrategyPlugin {
  const method = plugin.name as Method
  if (!Object.hasOwn(TITLES, method) || plugin.kind !== 'sampling') {
    throw new NaskitError(
      'E_BAD_OPTIONS',
      `withSampler: "${plugin.name}" is not one of successive-halving, hyperband, asha.`,
    )
  }
  const base = sampler as SamplingStrategyPlugin
  checkSamplerPlugin(base, `withSampler(${method})`)
  return {
    ...plugin,
    options: { ...plugin.options, sampler: { ...common.sampler, default: base.name } },
    supports: (space: SearchSpace) => (base.supports ? base.supports(space) : true),
    create(ctx) {
      if (ctx.options.sampler !== base.name) {
        throw new NaskitError(
          'E_BAD_OPTIONS',
          `options of strategy "${method}": the sampler is the plugin "${base.name}" given to withSampler; leave the sampler option out.`,
        )
      }
      return build(method, ctx as StrategyContext<Record<string, unknown>>, base)
    },
  }
}
