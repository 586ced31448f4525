import {
  type Arch,
  type JsonValue,
  type Logger,
  NaskitError,
  type Progress,
  Rng,
  type SearchSpace,
} from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import {
  type Batch,
  Bilevel,
  type CheckpointBlob,
  disposeBatch,
  endlessBatches,
} from './bilevel.js'
import { packVariables, unpackVariables } from './checkpoint.js'
import { deriveArchitecture, type EdgeMatrix } from './derive.js'
import { PeakMemory } from './memory.js'
import { type DartsSettings, type ResolvedSettings, resolveOptions } from './options.js'
import type { PerturbationResult } from './perturb.js'
import { type Halves, REMEDIES, type Remedy } from './remedies.js'
import { DartsSupernet, softWeights } from './supernet.js'
import {
  batches,
  cosineLearningRate,
  type Dataset,
  loadMnist,
  splitDataset,
  yieldToEventLoop,
} from './trainer.js'

/** Options of {@link dartsSearch}: the settings of `searchSettings`, and what to search on. */
export interface DartsSearchOptions extends Partial<DartsSettings> {
  space: SearchSpace
  /** Images to search on (default: MNIST from the trainer). */
  dataset?: Dataset
  seed?: number
  /** Stop after the epoch during which this much wall time has passed. */
  timeMs?: number
  signal?: AbortSignal
  onProgress?: (p: Progress) => void
  /** Called after every epoch with the state to persist (JSON and binary blobs). */
  checkpoint?: (state: JsonValue, blobs: Record<string, Uint8Array>) => Promise<void> | void
  /** The last checkpoint, to continue from. */
  resume?: { state: JsonValue; blobs: Record<string, Uint8Array> }
  log?: Logger
}

/** What one epoch left behind. */
export interface EpochRecord {
  epoch: number
  lr: number
  trainLoss: number
  trainAccuracy: number
  valLoss: number
  valAccuracy: number
  timeMs: number
  /** softmax(alpha) / softmax(beta) after the epoch, [edge][op]. */
  weights: { normal: EdgeMatrix; reduce: EdgeMatrix | null }
  arch: Arch
}

export interface DartsSearchResult {
  /** The derived architecture. */
  arch: Arch
  /** softmax(alpha) / softmax(beta) at the end, [edge][op]. */
  weights: { normal: EdgeMatrix; reduce: EdgeMatrix | null }
  /** The raw architecture parameters at the end. */
  alphas: { normal: EdgeMatrix; reduce: EdgeMatrix | null }
  ops: string[]
  edges: Array<{ node: number; input: number }>
  history: EpochRecord[]
  /** Epochs completed (including those before a resume). */
  epochs: number
  /** The epoch the search resumed after, when it did. */
  resumedAfter?: number
  /** Largest `tf.memory().numBytes` seen inside a step (supernet, activations, gradients). */
  peakBytes: number
  /** Bytes of the supernet's variables (weights, BN statistics, alphas). */
  paramBytes: number
  paramCount: number
  /** Mean wall time of the epochs run in this call. */
  epochMs: number
  /** DARTS-PT: the perturbation scores and the wall time of the selection. */
  selection?: PerturbationResult & { timeMs: number }
  backend: string
}

const STATE_VERSION = 1

interface StoredState {
  version: number
  fingerprint: string
  epoch: number
  adamStep: number
  history: EpochRecord[]
}

function fingerprint(r: ResolvedSettings, dataset: Dataset): string {
  return JSON.stringify([
    r.space.name,
    r.space.kind ?? null,
    dataset.name,
    r.trainSize,
    r.resolution,
    r.channels,
    r.layers,
    r.order,
    r.remedy,
    r.seed,
  ])
}

/** The weight and architecture halves of `trainSize` images (checked against the dataset). */
function splitHalves(r: ResolvedSettings, dataset: Dataset): Halves & { size: number } {
  if (r.trainSize < 2 * r.batchSize) {
    throw new NaskitError(
      'E_BAD_OPTIONS',
      `trainSize (${r.trainSize}) must hold at least two batches of ${r.batchSize} (one per half).`,
    )
  }
  if (r.trainSize > dataset.train.count) {
    throw new NaskitError(
      'E_BAD_OPTIONS',
      `trainSize (${r.trainSize}) exceeds the ${dataset.train.count} training images of ${dataset.name}.`,
    )
  }
  const size = Math.floor(r.trainSize / 2)
  const split = splitDataset(dataset, { validationSize: size, trainSize: size, seed: r.seed })
  const res = Math.max(r.resolution, 0)
  return {
    weights: split.train,
    arch: split.validation,
    resize: res > 0 ? [res, res] : undefined,
    size,
  }
}

/** The blobs of a checkpoint. */
function checkpointBlobs(bilevel: Bilevel): Record<CheckpointBlob, Uint8Array> {
  const vars = bilevel.checkpointVariables()
  return {
    weights: packVariables(vars.weights),
    alphas: packVariables(vars.alphas),
    sgd: packVariables(vars.sgd),
    adam: packVariables(vars.adam),
  }
}

/**
 * Puts a checkpoint's variables and optimiser state in place; `E_BAD_STATE` for a checkpoint
 * of a search with other options.
 */
function restoreCheckpoint(
  resume: NonNullable<DartsSearchOptions['resume']>,
  fp: string,
  bilevel: Bilevel,
): StoredState {
  const st = resume.state as unknown as StoredState
  if (st?.version !== STATE_VERSION || st.fingerprint !== fp) {
    throw new NaskitError(
      'E_BAD_STATE',
      'The checkpoint was written by a DARTS search with other options (space, data, supernet shape, order, remedy or seed). Resume with the same options or start a new search.',
    )
  }
  const assign = (v: tf.Variable, values: Float32Array) =>
    v.assign(tf.tensor(values, v.shape, 'float32'))
  const vars = bilevel.checkpointVariables()
  tf.tidy(() => {
    for (const name of ['weights', 'alphas', 'sgd', 'adam'] as const)
      unpackVariables(vars[name], resume.blobs[name], name, assign)
  })
  bilevel.adam.t = st.adamStep
  return st
}

/** What {@link runEpoch} needs. */
interface EpochArgs {
  bilevel: Bilevel
  remedy: Remedy
  halves: Halves & { size: number }
  rng: Rng
  memory: PeakMemory
  epoch: number
  signal?: AbortSignal | undefined
  onProgress?: ((p: Progress) => void) | undefined
}

/**
 * One search epoch: for every batch of the weight half, an architecture step on a batch of
 * the architecture half, then a weight step, mixed as the remedy says. The epoch's first step
 * runs under `tf.profile` for the memory peak.
 */
async function runEpoch(a: EpochArgs): Promise<EpochRecord> {
  const { bilevel, halves, memory, epoch } = a
  const { net, settings: r } = bilevel
  const t0 = performance.now()
  const lr = cosineLearningRate(r.lr, r.lrMin, epoch, r.epochs)
  bilevel.sgd.learningRate = lr
  const plan = a.remedy.beforeEpoch?.({ net, epoch, epochs: r.epochs, settings: r, rng: a.rng })
  const draw = plan?.draw ?? (() => () => softWeights(net))
  const stats = { tl: 0, tc: 0, vl: 0, vc: 0, n: 0, steps: 0 }
  const stepsPerEpoch = Math.floor(halves.size / r.batchSize)
  const batchOptions = { batchSize: r.batchSize, resize: halves.resize, dropLast: true }
  const archBatches = endlessBatches(halves.arch, {
    ...batchOptions,
    rng: a.rng.fork(`darts:arch:${epoch}`),
  })
  const weightBatches = batches(halves.weights, {
    ...batchOptions,
    rng: a.rng.fork(`darts:weights:${epoch}`),
  })
  try {
    for (const train of weightBatches) {
      const val = archBatches.next().value as Batch
      try {
        if (a.signal?.aborted) throw new NaskitError('E_ABORTED', 'The DARTS search was aborted.')
        const out = { correct: 0 }
        const tout = { correct: 0 }
        const [valLoss, trainLoss] = await memory.measure(
          stats.steps === 0,
          (): [number, number] => [
            bilevel.archStep(train, val, draw(), { extra: plan?.archLossTerm, out, memory }),
            bilevel.weightStep(train, draw(), { out: tout, memory }),
          ],
        )
        if (!Number.isFinite(trainLoss) || !Number.isFinite(valLoss)) {
          throw new NaskitError(
            'E_DIVERGED',
            `The DARTS search diverged at epoch ${epoch + 1} (loss ${trainLoss} / ${valLoss}). Lower lr or archLr.`,
          )
        }
        stats.vl += valLoss
        stats.vc += out.correct
        stats.tl += trainLoss
        stats.tc += tout.correct
        stats.n += r.batchSize
        stats.steps++
      } finally {
        disposeBatch(train)
        disposeBatch(val)
      }
      a.onProgress?.({
        fraction: (epoch + stats.steps / stepsPerEpoch) / r.epochs,
        message: `epoch ${epoch + 1}/${r.epochs}, step ${stats.steps}/${stepsPerEpoch}`,
      })
      if (stats.steps % 4 === 0) await yieldToEventLoop()
    }
  } finally {
    // close the generators (they hold no tensors between batches)
    weightBatches.return(undefined)
    archBatches.return(undefined)
  }
  const soft = net.softmaxWeights()
  return {
    epoch: epoch + 1,
    lr,
    trainLoss: stats.tl / Math.max(1, stats.steps),
    trainAccuracy: stats.tc / Math.max(1, stats.n),
    valLoss: stats.vl / Math.max(1, stats.steps),
    valAccuracy: stats.vc / Math.max(1, stats.n),
    timeMs: performance.now() - t0,
    weights: { normal: soft.normal!, reduce: soft.reduce },
    arch: deriveArchitecture(soft, net.layout),
  }
}

/**
 * DARTS (Liu et al. 2019) on the nb201 or darts cell space: trains the supernet's weights
 * with SGD on one half of the training images and the architecture parameters with Adam on
 * the other half, alternating, then derives the discrete architecture (or lets the remedy
 * derive it). Usable without the runner; `checkpoint`/`resume` make it survive a kill.
 */
export async function dartsSearch(options: DartsSearchOptions): Promise<DartsSearchResult> {
  const r = resolveOptions(options)
  const { log, signal, onProgress } = options
  const dataset = options.dataset ?? loadMnist()
  const halves = splitHalves(r, dataset)
  const [h0, w0, c0] = dataset.imageShape
  const net = new DartsSupernet(r.space, {
    channels: r.channels,
    layers: r.layers,
    numClasses: dataset.numClasses,
    inputShape: halves.resize ? [...halves.resize, c0] : [h0, w0, c0],
    seed: r.seed,
  })
  const bilevel = new Bilevel(net, r)
  const remedy = REMEDIES[r.remedy]
  const rng = new Rng(r.seed)
  const memory = new PeakMemory()
  const fp = fingerprint(r, dataset)
  try {
    const resumed = options.resume ? restoreCheckpoint(options.resume, fp, bilevel) : null
    if (resumed) log?.info(`darts: resuming after epoch ${resumed.epoch}`)
    const history: EpochRecord[] = resumed?.history ?? []
    const ranEpochMs: number[] = []
    const started = performance.now()
    for (let epoch = resumed?.epoch ?? 0; epoch < r.epochs; epoch++) {
      if (performance.now() - started > r.timeMs) {
        log?.info(`darts: time budget reached after epoch ${epoch}`)
        break
      }
      const rec = await runEpoch({
        bilevel,
        remedy,
        halves,
        rng,
        memory,
        epoch,
        signal,
        onProgress,
      })
      history.push(rec)
      ranEpochMs.push(rec.timeMs)
      log?.info(
        `darts: epoch ${rec.epoch}/${r.epochs} train ${rec.trainLoss.toFixed(3)} (${(100 * rec.trainAccuracy).toFixed(1)}%) val ${rec.valLoss.toFixed(3)} (${(100 * rec.valAccuracy).toFixed(1)}%) ${(rec.timeMs / 1000).toFixed(1)}s`,
      )
      onProgress?.({
        fraction: (epoch + 1) / r.epochs,
        message: `epoch ${epoch + 1}/${r.epochs} done`,
        metrics: {
          epoch: epoch + 1,
          trainLoss: rec.trainLoss,
          valLoss: rec.valLoss,
          valAccuracy: rec.valAccuracy,
        },
      })
      if (options.checkpoint) {
        const state: StoredState = {
          version: STATE_VERSION,
          fingerprint: fp,
          epoch: epoch + 1,
          adamStep: bilevel.adam.t,
          history,
        }
        await options.checkpoint(state as unknown as JsonValue, checkpointBlobs(bilevel))
      }
    }

    const soft = net.softmaxWeights()
    const raw = net.alphaValues()
    const derived = await remedy.derive?.({ bilevel, halves, rng, signal, log })
    return {
      arch: derived?.arch ?? deriveArchitecture(soft, net.layout),
      ...(derived === undefined ? {} : { selection: derived.selection }),
      weights: { normal: soft.normal!, reduce: soft.reduce },
      alphas: { normal: raw.normal!, reduce: raw.reduce },
      ops: [...net.layout.ops],
      edges: net.layout.edges.map((e) => ({ ...e })),
      history,
      epochs: history.length,
      ...(resumed ? { resumedAfter: resumed.epoch } : {}),
      peakBytes: memory.bytes,
      paramBytes: net.paramBytes(),
      paramCount: net.network.paramCount(),
      epochMs:
        ranEpochMs.length === 0 ? 0 : ranEpochMs.reduce((x, y) => x + y, 0) / ranEpochMs.length,
      backend: tf.getBackend(),
    }
  } finally {
    bilevel.dispose()
    net.dispose()
  }
}
