import type { Arch } from '@naskit/core'
import type { Supernet } from './supernet'
import { buildNetwork, evaluateAccuracy, type SplitView, trainNetwork } from './trainer'

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
    // variables that do not reach the output (a node whose edges out are all `none`) get no
    // gradient: the trainer's loop leaves them alone
    const r = await trainNetwork(net, options.train, {
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
