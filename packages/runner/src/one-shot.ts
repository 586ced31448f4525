import {
  type JsonValue,
  type Logger,
  NaskitError,
  type OneShotServices,
  type OneShotStrategy,
  type Proposal,
  type SamplingStrategy,
  SearchSpace,
  type StrategyStatus,
} from '@naskit/core'
import type { LoadedEvaluator } from './plugins'
import type { Store } from './store'
import type { RunEvent, StoredConfig } from './types'

/** A strategy that proposes a fixed list (the architectures a one-shot search returned). */
export function listStrategy(items: Proposal[]): SamplingStrategy {
  let index = 0
  return {
    ask(n) {
      const out = items.slice(index, index + n)
      index += out.length
      return out
    },
    tell() {},
    state: () => ({ version: 1, index }),
    restore(state) {
      const s = state as { index?: unknown } | null
      if (!s || typeof s.index !== 'number')
        throw new NaskitError(
          'E_BAD_STATE',
          'The checkpoint of the one-shot result list is malformed.',
        )
      index = s.index
    },
    status: (): StrategyStatus =>
      index >= items.length
        ? {
            done: true,
            reason: 'finished',
            message: `Evaluated all ${items.length} architectures the one-shot search returned.`,
          }
        : { done: false },
  }
}

/** The experiment's budget in training epochs, when it has one. */
function epochsOf(config: StoredConfig): { epochs?: number } {
  const epochs = (config.budget as { epochs?: unknown }).epochs
  return typeof epochs === 'number' ? { epochs } : {}
}

/**
 * The services a one-shot strategy gets: the experiment's data (through the evaluator
 * plugin's `dataset` hook, loaded when the strategy asks), its backend, seed, space and log,
 * so that DARTS or a supernet search what the experiment's evaluator trains on.
 */
export function oneShotServices(
  config: StoredConfig,
  host: { evaluator?: LoadedEvaluator; log?: Logger },
): OneShotServices {
  const plugin = host.evaluator?.plugin
  const options = config.evaluator.options as never
  const log = host.log
  const services: OneShotServices = {
    config,
    space: SearchSpace.fromJSON(config.space),
    evaluator: { name: config.evaluator.name, options: config.evaluator.options },
    seed: config.seed,
  }
  if (log) services.log = log
  if (plugin?.dataset) {
    const hook = plugin.dataset.bind(plugin)
    services.dataset = () => hook({ options, log: log ?? { info() {}, warn() {} } })
  }
  if (plugin?.backend) services.backend = plugin.backend(options)
  return services
}

/**
 * Runs a one-shot strategy's own search (supernet training) with the experiment's budget,
 * progress events, checkpoints in the store and the stop signal, and stores the architectures
 * it returns; a resumed experiment continues from the last checkpoint, or takes the stored
 * result. Null when interrupted.
 */
export async function runOneShot(
  strategy: OneShotStrategy,
  store: Store,
  config: StoredConfig,
  emit: (e: RunEvent) => void,
  signal: AbortSignal | undefined,
  host: { evaluator?: LoadedEvaluator; log?: Logger } = {},
): Promise<Proposal[] | null> {
  const saved = store.getMeta<{ architectures: Proposal[] }>('oneShotResult')
  if (saved) return saved.architectures
  const resume = store.getMeta<JsonValue>('oneShotState')
  const controller = new AbortController()
  const onAbort = () => controller.abort()
  signal?.addEventListener('abort', onAbort, { once: true })
  if (signal?.aborted) controller.abort()
  try {
    const result = await strategy.run({
      budget: {
        ...epochsOf(config),
        ...(config.budget.timeMs !== null ? { timeMs: config.budget.timeMs } : {}),
        ...(config.budget.trials !== null ? { trials: config.budget.trials } : {}),
      },
      signal: controller.signal,
      progress: (p) =>
        emit({
          type: 'one-shot',
          fraction: p.fraction,
          ...(p.message ? { message: p.message } : {}),
          ...(p.metrics ? { metrics: p.metrics } : {}),
        }),
      checkpoint: async (state, blobs) => {
        store.transaction(() => {
          store.setMeta('oneShotState', state)
          if (blobs) store.setBlobs(blobs)
          store.event('one-shot-checkpoint')
        })
      },
      ...(resume !== undefined ? { resume: { state: resume, blobs: store.blobs() } } : {}),
      services: oneShotServices(config, host),
    })
    if (controller.signal.aborted) return null
    const architectures = result.architectures.map((a) => ({
      arch: a.arch,
      ...(a.meta !== undefined ? { meta: a.meta } : {}),
      ...(a.fidelity ? { fidelity: a.fidelity } : {}),
    }))
    store.transaction(() => {
      store.setMeta('oneShotResult', { architectures, details: result.details ?? null })
      store.event('one-shot-done', { architectures: architectures.length })
    })
    return architectures
  } catch (error) {
    if (controller.signal.aborted) return null
    throw error
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
}
