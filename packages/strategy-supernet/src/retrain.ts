import type { Arch } from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import type { Supernet } from './supernet'
import {
  buildNetwork,
  evaluateAccuracy,
  type Network,
  type SplitView,
  trainNetwork,
} from './trainer'

/** Options of {@link retrainStandalone}. */
export interface RetrainOptions {
  train: SplitView
  validation: SplitView
  test?: SplitView
  epochs: number
  /** @default 64 */
  batchSize?: number
  /** @default 0.05 */
  learningRate?: number
  resize?: [number, number]
  seed?: number
  signal?: AbortSignal
  onProgress?(fraction: number): void
}

/** Stand-alone figures of an architecture trained from scratch. */
export interface StandaloneResult {
  val_accuracy: number
  test_accuracy: number | null
  params: number
  train_time_ms: number
  epochs: number
}

/**
 * Trains `arch` from scratch as a stand-alone network with the supernet's structure (the
 * trainer's model builder with the supernet's build options) and reports its accuracy.
 */
export async function retrainStandalone(
  supernet: Supernet,
  arch: Arch,
  options: RetrainOptions,
): Promise<StandaloneResult> {
  const net = buildNetwork(
    arch,
    { ...supernet.buildOptions(), seed: options.seed ?? 0 },
    supernet.kind,
  )
  try {
    const r = await trainNetwork(connectedOnly(net), options.train, {
      epochs: options.epochs,
      batchSize: options.batchSize ?? 64,
      learningRate: options.learningRate ?? 0.05,
      resize: options.resize,
      seed: options.seed ?? 0,
      signal: options.signal,
      onProgress: (p) => options.onProgress?.(p.fraction),
    })
    const val = evaluateAccuracy(net, options.validation, 256, options.resize)
    const test =
      options.test && options.test.indices.length > 0
        ? evaluateAccuracy(net, options.test, 256, options.resize)
        : null
    return {
      val_accuracy: val,
      test_accuracy: test,
      params: net.paramCount(),
      train_time_ms: r.trainTimeMs,
      epochs: options.epochs,
    }
  } finally {
    net.dispose()
  }
}

/**
 * The network with only the trainable variables that reach its output. A cell whose
 * intermediate node leads nowhere (e.g. all its outgoing edges are `none`) still holds
 * weights; the trainer's loop expects a gradient for every variable it is given.
 */
function connectedOnly(net: Network): Network {
  const vars = net.trainableVariables()
  const x = tf.zeros([2, ...net.inputShape]) as tf.Tensor4D
  const used = tf.tidy(() => {
    const { grads } = tf.variableGrads(() => tf.sum(net.apply(x, false)) as tf.Scalar, vars)
    return vars.filter((v) => grads[v.name] != null).map((v) => v.name)
  })
  x.dispose()
  const keep = new Set(used)
  if (keep.size === vars.length) return net
  return new Proxy(net, {
    get(target, prop, receiver) {
      if (prop === 'trainableVariables')
        return () => target.trainableVariables().filter((v) => keep.has(v.name))
      const value = Reflect.get(target, prop, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}
