import {
  defineStrategy,
  type JsonValue,
  NaskitError,
  type OneShotResult,
  type OneShotRunContext,
  option,
} from '@naskit/core'
import { type DartsRemedy, type DartsSearchResult, dartsSearch } from './search.js'
import { supportsSpace } from './supernet.js'
import {
  type BackendChoice,
  type Dataset,
  loadFashionMnist,
  loadMnist,
  selectBackend,
} from './trainer.js'

/**
 * Services the DARTS plugin reads from `OneShotRunContext.services` (all optional):
 * - `dataset`: a trainer `Dataset` to search on (default: the `dataset` option, MNIST);
 * - `backend`: a backend choice (`auto`, `wasm`, `cpu`, …) or `current` to keep the active
 *   one (default: the `backend` option).
 */
export interface DartsServices {
  dataset?: Dataset
  backend?: BackendChoice | 'current'
}

const REMEDIES = ['darts-pt', 'gdas', 'beta-decay', 'none'] as const
const BACKENDS = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu', 'current'] as const

/** The DARTS plugin's options. */
export const dartsOptions = {
  epochs: option.int({
    description: 'Search epochs (a budget.epochs overrides it).',
    default: 50,
    min: 1,
  }),
  batchSize: option.int({ description: 'Images per step for each half.', default: 64, min: 1 }),
  trainSize: option.int({
    description: 'Training images used, split into a weight half and an architecture half.',
    default: 10000,
    min: 4,
  }),
  resolution: option.int({
    description: 'Images are resized to resolution × resolution (0 keeps their size).',
    default: 16,
    min: 0,
  }),
  channels: option.int({ description: 'Supernet channels C.', default: 16, min: 1 }),
  layers: option.int({
    description: 'nb201: cells per stage N; darts: number of cells (0: 5 for nb201, 8 for darts).',
    default: 0,
    min: 0,
  }),
  order: option.enum(['first', 'second'], {
    description:
      'first: alpha gradient at the current weights; second: unrolled step with a finite-difference Hessian-vector product.',
    default: 'first',
  }),
  remedy: option.enum(REMEDIES, {
    description:
      'Anti-collapse remedy: darts-pt (perturbation-based selection), gdas (Gumbel-max sampling, straight-through), beta-decay (β-DARTS regularisation) or none (plain DARTS).',
    default: 'darts-pt',
  }),
  lr: option.number({ description: 'Weights: initial SGD learning rate.', default: 0.025, min: 0 }),
  lrMin: option.number({
    description: 'Weights: final cosine learning rate.',
    default: 0.001,
    min: 0,
  }),
  momentum: option.number({ description: 'Weights: SGD momentum.', default: 0.9, min: 0, max: 1 }),
  weightDecay: option.number({ description: 'Weights: L2 weight decay.', default: 3e-4, min: 0 }),
  gradClip: option.number({
    description: 'Weights: global gradient-norm clip (0: off).',
    default: 5,
    min: 0,
  }),
  archLr: option.number({
    description: 'Architecture: Adam learning rate.',
    default: 3e-4,
    min: 0,
  }),
  archBeta1: option.number({
    description: 'Architecture: Adam beta1.',
    default: 0.5,
    min: 0,
    max: 1,
  }),
  archBeta2: option.number({
    description: 'Architecture: Adam beta2.',
    default: 0.999,
    min: 0,
    max: 1,
  }),
  archWeightDecay: option.number({
    description: 'Architecture: L2 weight decay.',
    default: 1e-3,
    min: 0,
  }),
  tauMax: option.number({
    description: 'gdas: initial Gumbel-softmax temperature.',
    default: 10,
    min: 0,
  }),
  tauMin: option.number({ description: 'gdas: final temperature.', default: 0.1, min: 0 }),
  betaDecay: option.number({
    description: 'beta-decay: regularisation weight reached at the last epoch.',
    default: 5,
    min: 0,
  }),
  ptEvalImages: option.int({
    description:
      'darts-pt: validation images each perturbation is scored on (0: the whole architecture half).',
    default: 512,
    min: 0,
  }),
  ptTuneSteps: option.int({
    description: 'darts-pt: weight steps after each edge decision.',
    default: 10,
    min: 0,
  }),
  ptCriterion: option.enum(['accuracy', 'loss'], {
    description:
      'darts-pt: rank candidates by the validation accuracy (accuracy) or loss (loss) their removal costs.',
    default: 'accuracy',
  }),
  dataset: option.enum(['mnist', 'fashion-mnist'], {
    description: 'Dataset when the host provides none (services.dataset).',
    default: 'mnist',
  }),
  backend: option.enum(BACKENDS, {
    description:
      'tfjs backend when the host provides none (services.backend); current keeps the active one.',
    default: 'auto',
  }),
}

function resultOf(r: DartsSearchResult): OneShotResult {
  const last = r.history.at(-1)
  return {
    architectures: [
      {
        arch: r.arch,
        ...(last === undefined ? {} : { score: last.valAccuracy }),
        meta: { derivedAtEpoch: r.epochs } as JsonValue,
      },
    ],
    details: {
      ops: r.ops,
      edges: r.edges,
      weights: r.weights,
      alphas: r.alphas,
      history: r.history.map((h) => ({ ...h })),
      epochs: r.epochs,
      peakBytes: r.peakBytes,
      paramBytes: r.paramBytes,
      paramCount: r.paramCount,
      epochMs: r.epochMs,
      backend: r.backend,
    } as unknown as JsonValue,
  }
}

/**
 * DARTS (Liu et al. 2019): a one-shot strategy that trains a supernet of mixed ops on the
 * nb201 or darts cell space and derives one architecture from its architecture parameters.
 */
export const dartsStrategy = defineStrategy({
  name: 'darts',
  description:
    'DARTS: differentiable architecture search over the nb201 and darts cell spaces (first or second order, with an anti-collapse remedy).',
  kind: 'one-shot',
  options: dartsOptions,
  supports: supportsSpace,
  create(ctx) {
    const o = ctx.options
    return {
      async run(run: OneShotRunContext): Promise<OneShotResult> {
        const services = (run.services ?? {}) as DartsServices
        const backend = services.backend ?? o.backend
        if (backend !== 'current') {
          await selectBackend({ backend, log: (line) => ctx.log.info(line) })
        }
        const dataset =
          services.dataset ?? (o.dataset === 'fashion-mnist' ? loadFashionMnist() : loadMnist())
        const epochs = run.budget.epochs ?? o.epochs
        if (!(Number.isInteger(epochs) && epochs >= 1)) {
          throw new NaskitError(
            'E_BAD_OPTIONS',
            `budget.epochs must be an integer ≥ 1, got ${epochs}.`,
          )
        }
        const r = await dartsSearch({
          space: ctx.space,
          dataset,
          trainSize: Math.min(o.trainSize, dataset.train.count),
          resolution: o.resolution,
          channels: o.channels,
          ...(o.layers > 0 ? { layers: o.layers } : {}),
          epochs,
          batchSize: o.batchSize,
          order: o.order,
          remedy: o.remedy as DartsRemedy,
          lr: o.lr,
          lrMin: o.lrMin,
          momentum: o.momentum,
          weightDecay: o.weightDecay,
          gradClip: o.gradClip,
          archLr: o.archLr,
          archBeta1: o.archBeta1,
          archBeta2: o.archBeta2,
          archWeightDecay: o.archWeightDecay,
          tauMax: o.tauMax,
          tauMin: o.tauMin,
          betaDecay: o.betaDecay,
          ptEvalImages: o.ptEvalImages,
          ptTuneSteps: o.ptTuneSteps,
          ptCriterion: o.ptCriterion,
          seed: ctx.seed,
          ...(run.budget.timeMs === undefined ? {} : { timeMs: run.budget.timeMs }),
          signal: run.signal,
          onProgress: (p) => run.progress(p),
          checkpoint: (state, blobs) => run.checkpoint(state, blobs),
          ...(run.resume === undefined ? {} : { resume: run.resume }),
          log: ctx.log,
        })
        return resultOf(r)
      },
    }
  },
})
