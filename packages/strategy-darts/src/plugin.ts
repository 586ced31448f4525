import {
  defineStrategy,
  type JsonValue,
  NaskitError,
  type OneShotResult,
  type OneShotRunContext,
  type OneShotServices,
  option,
} from '@naskit/core'
import { searchSettings } from './options.js'
import { type DartsSearchResult, dartsSearch } from './search.js'
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
export interface DartsServices extends OneShotServices<Dataset> {
  /** The data to search on: a function (as the runner gives it) or a dataset. */
  dataset?: (() => Dataset | Promise<Dataset>) | Dataset
  backend?: BackendChoice | 'current'
}

const BACKENDS = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu', 'current'] as const

/** The DARTS plugin's options: the search settings, and what to use when the host gives none. */
export const dartsOptions = {
  ...searchSettings,
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
        const given = services.dataset
        const dataset =
          given === undefined
            ? o.dataset === 'fashion-mnist'
              ? loadFashionMnist()
              : loadMnist()
            : typeof given === 'function'
              ? await given()
              : given
        const [h, w, c] = dataset.imageShape
        ctx.log.info(
          `darts: searching on ${dataset.name} (${dataset.train.count} training images of ${h}×${w}×${c}, ${dataset.numClasses} classes)`,
        )
        const epochs = run.budget.epochs ?? o.epochs
        if (!(Number.isInteger(epochs) && epochs >= 1)) {
          throw new NaskitError(
            'E_BAD_OPTIONS',
            `budget.epochs must be an integer ≥ 1, got ${epochs}.`,
          )
        }
        const { dataset: _name, backend: _backend, ...settings } = o
        const r = await dartsSearch({
          ...settings,
          space: ctx.space,
          dataset,
          trainSize: Math.min(o.trainSize, dataset.train.count),
          epochs,
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
