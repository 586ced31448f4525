import {
  type Arch,
  defineStrategy,
  type JsonValue,
  type Logger,
  NaskitError,
  type OneShotResult,
  type OneShotRunContext,
  type OneShotServices,
  option,
  type SearchSpace,
  type StrategyPlugin,
} from '@naskit/core'
import { createSupernet, type SupernetOptions, supernetKind } from './create'
import { supernetEvaluator } from './evaluate'
import { retrainStandalone, type StandaloneResult } from './retrain'
import { resolveSamplingStrategy, searchSubnets } from './search'
import type { Supernet } from './supernet'
import { SupernetTrainer, type SupernetTrainSummary } from './train'
import {
  type BackendChoice,
  type Dataset,
  loadFashionMnist,
  loadMnist,
  selectBackend,
  type Splits,
  splitDataset,
} from './trainer'

/**
 * Host services the supernet strategy uses when present (`OneShotRunContext.services`);
 * without them it falls back to its own defaults.
 */
export interface SupernetServices extends OneShotServices<Dataset> {
  /**
   * The data to train and search on: a function (as the runner gives it) or a dataset
   * (default: the `dataset` option, loaded by the trainer).
   */
  dataset?: (() => Dataset | Promise<Dataset>) | Dataset
  /** The backend to train on (default: the `backend` option). */
  backend?: string
  /** Ready-made train / validation / test views (default: split from the dataset). */
  splits?: Splits
  /** Sampling strategies by name, as the host resolved them (default: built-ins and imports). */
  strategies?: Record<string, StrategyPlugin>
  /** Where log lines go (default: the strategy's logger). */
  log?: Logger
}

export const supernetOptions = {
  epochs: option.int({
    default: 5,
    min: 0,
    description: 'Supernet training epochs (the budget’s `epochs` overrides it).',
  }),
  batchSize: option.int({ default: 64, min: 1, description: 'Images per training step.' }),
  learningRate: option.number({
    default: 0.05,
    min: 0,
    description: 'Initial learning rate of SGD with momentum (cosine-annealed per step).',
  }),
  minLearningRate: option.number({
    default: 0.01,
    min: 0,
    description:
      'Floor of the cosine schedule (annealing shared weights to zero hurts the ranking of inherited accuracy).',
  }),
  averageEpochs: option.int({
    default: 0,
    min: 0,
    description:
      'Average the shared weights over this many final epochs (stochastic weight averaging); 0 keeps the last weights.',
  }),
  weightDecay: option.number({ default: 3e-4, min: 0, description: 'L2 weight decay.' }),
  sampler: option.enum(['uniform', 'fair'], {
    default: 'uniform',
    description:
      'uniform: one architecture drawn uniformly per step (SPOS); fair: FairNAS strict fairness, every op of every layer trained once per step.',
  }),
  dataset: option.enum(['fashion-mnist', 'mnist'], {
    default: 'fashion-mnist',
    description: 'Built-in dataset, used unless the host provides one.',
  }),
  trainSize: option.int({ default: 10000, min: 1, description: 'Training images used.' }),
  validationSize: option.int({
    default: 2000,
    min: 1,
    description: 'Validation images held out of the training set (candidates are ranked on them).',
  }),
  testSize: option.int({ default: 2000, min: 0, description: 'Test images for retraining.' }),
  resolution: option.int({
    default: 16,
    min: 0,
    description: 'Images are resized to resolution × resolution (0 keeps their size).',
  }),
  supernet: option.json<SupernetOptions>({
    default: { nb201: { channels: 16, cellsPerStage: 1 } },
    description:
      'Per-space supernet settings: { nb201: { channels, cellsPerStage, affine }, chain: { baseChannels, resolution, downsample }, nasnet: { channelScale, downsample } }, and fewShot: { decision, splitEpoch, learningRate } to split the supernet on one decision (few-shot NAS).',
  }),
  calibrationBatches: option.int({
    default: 4,
    min: 0,
    description: 'Training batches that recalibrate the batch norms of every candidate.',
  }),
  searchStrategy: option.string({
    description:
      'Sampling strategy of the search over subnets (default evolution; any installed one).',
  }),
  searchOptions: option.json<JsonValue>({
    default: {},
    description: 'Options of the search strategy.',
  }),
  searchTrials: option.int({
    default: 100,
    min: 1,
    description:
      'Candidates evaluated with inherited weights (the budget’s `trials` overrides it).',
  }),
  topK: option.int({ default: 5, min: 1, description: 'Architectures returned, best first.' }),
  retrainEpochs: option.int({
    default: 0,
    min: 0,
    description: 'When > 0, the best architecture is retrained from scratch for this many epochs.',
  }),
  backend: option.enum(['auto', 'wasm', 'cpu', 'tensorflow', 'tensorflow-gpu', 'current'], {
    default: 'auto',
    description: 'tfjs backend (current: keep the one tfjs already uses).',
  }),
}

/** The validated options of the supernet strategy. */
export type SupernetStrategyOptions = {
  [K in keyof typeof supernetOptions]: K extends 'searchStrategy'
    ? string | undefined
    : (typeof supernetOptions)[K]['default']
}

const silent: Logger = { info() {}, warn() {} }

/** What {@link runSupernetSearch} is given; also what the plugin builds from its context. */
export interface SupernetSearchArgs {
  space: SearchSpace
  options?: Partial<SupernetStrategyOptions>
  seed?: number
  log?: Logger
  /** Budget, abort signal, progress, checkpoints and services of a host (all optional). */
  ctx?: Partial<OneShotRunContext>
}

/** Details reported with the architectures. */
export interface SupernetSearchDetails {
  [name: string]: JsonValue
}

function fingerprint(space: SearchSpace, o: SupernetStrategyOptions, seed: number): string {
  return JSON.stringify({
    space: space.toJSON(),
    supernet: o.supernet,
    resolution: o.resolution,
    dataset: o.dataset,
    trainSize: o.trainSize,
    seed,
  })
}

/**
 * The whole supernet pipeline without a runner: build the supernet, train it with
 * single-path one-shot training (checkpointing every epoch), search its subnets with a
 * sampling strategy on inherited weights, and optionally retrain the best from scratch.
 */
export async function runSupernetSearch(args: SupernetSearchArgs): Promise<OneShotResult> {
  const space = args.space
  const o = { ...defaults(), ...args.options } as SupernetStrategyOptions
  const seed = args.seed ?? 0
  const ctx = args.ctx ?? {}
  const services = (ctx.services ?? {}) as SupernetServices
  const log = services.log ?? args.log ?? silent
  const signal = ctx.signal
  const progress = ctx.progress ?? (() => {})
  const kind = supernetKind(space)
  if (kind !== 'nb201' && kind !== 'chain' && kind !== 'nasnet')
    throw new NaskitError('E_UNSUPPORTED_SPACE', `Supernet strategy: ${kind}.`)

  const backend = services.backend ?? o.backend
  if (backend !== 'current') {
    const sel = await selectBackend({ backend: backend as BackendChoice, log: false })
    log.info(`supernet: tfjs backend ${sel.backend}`)
  }
  const given = services.dataset
  const dataset =
    given === undefined
      ? (services.splits?.train.dataset ??
        (o.dataset === 'mnist' ? loadMnist() : loadFashionMnist()))
      : typeof given === 'function'
        ? await given()
        : given
  // a small dataset of the user's keeps a fifth of its images for validation
  const validationSize = Math.min(o.validationSize, Math.round(dataset.train.count * 0.2))
  const splits =
    services.splits ??
    splitDataset(dataset, {
      validationSize,
      trainSize: o.trainSize,
      testSize: o.testSize,
      seed,
    })
  const res = o.resolution
  const resize: [number, number] | undefined =
    res > 0 && (res !== dataset.imageShape[0] || res !== dataset.imageShape[1])
      ? [res, res]
      : undefined
  const inputShape: [number, number, number] = resize
    ? [res, res, dataset.imageShape[2]]
    : dataset.imageShape
  const supernet = createSupernet(space, {
    ...o.supernet,
    numClasses: dataset.numClasses,
    inputShape,
    seed,
  })
  const epochs = ctx.budget?.epochs ?? o.epochs
  const trials = ctx.budget?.trials ?? o.searchTrials
  let trainer: SupernetTrainer
  try {
    if (o.averageEpochs > epochs) {
      throw new NaskitError(
        'E_BAD_OPTIONS',
        `averageEpochs (${o.averageEpochs}) exceeds the supernet's ${epochs} training epochs.`,
      )
    }
    trainer = new SupernetTrainer(supernet, splits.train, {
      epochs,
      ...(o.averageEpochs > 0 ? { averageFrom: epochs - o.averageEpochs + 1 } : {}),
      batchSize: o.batchSize,
      learningRate: o.learningRate,
      minLearningRate: Math.min(o.minLearningRate, o.learningRate),
      weightDecay: o.weightDecay,
      sampler: o.sampler,
      resize,
      seed,
      ...(signal ? { signal } : {}),
      ...(ctx.budget?.timeMs === undefined ? {} : { timeMs: ctx.budget.timeMs }),
      onProgress: (p) =>
        progress({
          fraction: 0.7 * p.fraction,
          message: `supernet epoch ${p.epoch + 1}/${epochs} loss ${p.loss.toFixed(4)}`,
          metrics: { loss: p.loss },
        }),
      onEpoch: async (i) => {
        log.info(`supernet: epoch ${i.epoch}/${epochs} loss ${i.loss.toFixed(4)}`)
        await checkpoint()
      },
    })
  } catch (e) {
    supernet.dispose()
    throw e
  }
  const print = fingerprint(space, o, seed)
  const checkpoint = async () => {
    if (!ctx.checkpoint) return
    const cp = trainer.checkpoint()
    await ctx.checkpoint({ kind: 'supernet', config: print, train: cp.state }, cp.blobs)
  }
  let evaluator: ReturnType<typeof supernetEvaluator> | null = null
  try {
    if (ctx.resume) {
      const st = ctx.resume.state as { kind?: unknown; config?: unknown; train?: JsonValue }
      if (st?.kind !== 'supernet' || st.train === undefined)
        throw new NaskitError('E_BAD_STATE', 'The checkpoint is not a supernet checkpoint.')
      if (st.config !== print) {
        throw new NaskitError(
          'E_CONFIG_MISMATCH',
          'The checkpoint was written with another space, dataset or supernet settings; resume with the same configuration or start a new experiment.',
        )
      }
      trainer.restore({ state: st.train, blobs: ctx.resume.blobs })
      log.info(`supernet: resumed after epoch ${trainer.epoch}`)
    }
    const before = { epoch: trainer.epoch }
    const summary: SupernetTrainSummary = await trainer.train()

    progress({ fraction: 0.7, message: 'searching subnets with inherited weights' })
    evaluator = supernetEvaluator(supernet, {
      calibration: splits.train,
      validation: splits.validation,
      calibrationBatches: o.calibrationBatches,
      batchSize: o.batchSize,
      resize,
      seed,
    })
    const strategyName = o.searchStrategy ?? 'evolution'
    const strategy = await resolveStrategyWithFallback(
      strategyName,
      services,
      log,
      !!o.searchStrategy,
    )
    let done = 0
    const search = await searchSubnets({
      space,
      evaluator,
      strategy,
      strategyOptions: o.searchOptions,
      trials,
      topK: o.topK,
      seed,
      log,
      ...(signal ? { signal } : {}),
      onTrial: () => {
        done++
        progress({ fraction: 0.7 + (0.25 * done) / trials, message: `subnet ${done}/${trials}` })
      },
    })
    let standalone: StandaloneResult | null = null
    const best = search.top[0]
    if (o.retrainEpochs > 0 && best !== undefined) {
      progress({ fraction: 0.95, message: 'retraining the best architecture from scratch' })
      standalone = await retrainStandalone(supernet, best.arch, {
        train: splits.train,
        validation: splits.validation,
        test: splits.test,
        epochs: o.retrainEpochs,
        batchSize: o.batchSize,
        learningRate: o.learningRate,
        resize,
        seed,
        ...(signal ? { signal } : {}),
      })
      log.info(
        `supernet: best architecture retrained: validation accuracy ${standalone.val_accuracy.toFixed(4)}`,
      )
    }
    progress({ fraction: 1, message: 'done' })
    const details: SupernetSearchDetails = {
      supernet: { kind: supernet.kind, params: supernet.paramCount() },
      training: {
        epochs: summary.epochs,
        resumedAfterEpoch: before.epoch,
        steps: summary.steps,
        paths: summary.paths,
        images: summary.images,
        finalLoss: Number.isFinite(summary.finalLoss) ? summary.finalLoss : null,
        trainTimeMs: summary.trainTimeMs,
        stoppedEarly: summary.stoppedEarly,
        sampler: o.sampler,
      },
      search: {
        strategy: strategy.name,
        trials: search.trials.length,
        evaluated: evaluator.evaluations,
      },
      standalone: standalone as unknown as JsonValue,
    }
    return {
      architectures: search.top.map((r, i) => ({
        arch: r.arch as Arch,
        score: r.score,
        meta: {
          rank: i + 1,
          inherited_accuracy: r.score,
          ...(i === 0 && standalone ? { standalone: standalone as unknown as JsonValue } : {}),
        },
      })),
      details,
    }
  } finally {
    evaluator?.dispose()
    trainer.dispose()
    supernet.dispose()
  }
}

async function resolveStrategyWithFallback(
  name: string,
  services: SupernetServices,
  log: Logger,
  explicit: boolean,
) {
  try {
    return await resolveSamplingStrategy(name, services.strategies)
  } catch (e) {
    if (explicit) throw e
    log.warn(
      `supernet: strategy "${name}" is not available (${(e as Error).message}); using random search.`,
    )
    return resolveSamplingStrategy('random')
  }
}

function defaults(): SupernetStrategyOptions {
  const out: Record<string, unknown> = {}
  for (const [k, spec] of Object.entries(supernetOptions))
    out[k] = 'default' in spec ? structuredClone(spec.default) : undefined
  return out as SupernetStrategyOptions
}

/** The supernet's supported spaces: nb201, chain and NASNet. */
function supports(space: SearchSpace): true | string {
  const kind = supernetKind(space)
  return kind === 'nb201' || kind === 'chain' || kind === 'nasnet' ? true : kind
}

/**
 * The `supernet` one-shot strategy: a weight-sharing supernet trained by single-path
 * one-shot (uniform or fair) sampling, searched with any sampling strategy on inherited
 * weights; returns the top-k architectures.
 */
export const supernetStrategy = defineStrategy({
  name: 'supernet',
  kind: 'one-shot',
  description:
    'Weight-sharing supernet (SPOS / FairNAS training), searched on inherited weights by any sampling strategy.',
  options: supernetOptions,
  supports,
  create({ space, options, seed, log }) {
    return {
      run: (ctx: OneShotRunContext) =>
        runSupernetSearch({ space, options: options as SupernetStrategyOptions, seed, log, ctx }),
    }
  },
})

export type { Supernet }
