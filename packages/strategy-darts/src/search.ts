import {
  type Arch,
  createRng,
  type JsonValue,
  type Logger,
  NaskitError,
  type Progress,
  type Rng,
  type SearchSpace,
} from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import { packVariables, unpackVariables } from './checkpoint.js'
import { deriveArchitecture, type EdgeMatrix } from './derive.js'
import {
  type PerturbationCriterion,
  type PerturbationResult,
  perturbationSelect,
  perturbedWeights,
} from './perturb.js'
import { Adam, clipByGlobalNorm, cosineLr, MomentumSgd } from './optim.js'
import {
  type CellKind,
  DartsSupernet,
  type EdgeWeights,
  rowsToScalars,
  softWeights,
} from './supernet.js'
import {
  batches,
  createDataRng,
  type Dataset,
  type SplitView as DataSubset,
  loadMnist,
  splitDataset,
} from './trainer.js'

/**
 * Anti-collapse remedies:
 * - `none`: plain DARTS (softmax relaxation).
 * - `gdas`: GDAS (Dong & Yang 2019): one op per edge sampled with Gumbel-max, a
 *   straight-through Gumbel-softmax weight, temperature annealed from `tauMax` to `tauMin`.
 * - `beta-decay`: β-DARTS (Ye et al. 2022): `λ·mean_edges logsumexp(α_edge)` added to the
 *   architecture loss, λ growing linearly to `betaDecay` over the search.
 * - `darts-pt`: DARTS-PT (Wang et al. 2021): plain DARTS training, then perturbation-based
 *   selection: an op is kept for the validation accuracy the supernet loses without it.
 */
export type DartsRemedy = 'none' | 'gdas' | 'beta-decay' | 'darts-pt'

export interface DartsSearchOptions {
  space: SearchSpace
  /** Images to search on (default: MNIST from the trainer). */
  dataset?: Dataset
  /** Training images used by the search, split into two equal halves (default 10000). */
  trainSize?: number
  /** Images are resized to resolution × resolution (default 16; 0 keeps their size). */
  resolution?: number
  /** Supernet channels C (default 16). */
  channels?: number
  /** nb201: cells per stage N (default 5); darts: number of cells (default 8). */
  layers?: number
  /** Search epochs (default 50). */
  epochs?: number
  /** Images per step, for each half (default 64). */
  batchSize?: number
  /** `first`: alpha gradient at the current weights; `second`: unrolled (default `first`). */
  order?: 'first' | 'second'
  /** Anti-collapse remedy (default `darts-pt`, chosen by measurement; see the README). */
  remedy?: DartsRemedy
  /** Weights: SGD lr, cosine-annealed per epoch from `lr` to `lrMin` (0.025 → 0.001). */
  lr?: number
  lrMin?: number
  momentum?: number
  weightDecay?: number
  /** Clip the weights' global gradient norm (default 5). */
  gradClip?: number
  /** Architecture parameters: Adam lr 3e-4, betas (0.5, 0.999), weight decay 1e-3. */
  archLr?: number
  archBeta1?: number
  archBeta2?: number
  archWeightDecay?: number
  /** GDAS temperature, annealed linearly over the epochs (10 → 0.1). */
  tauMax?: number
  tauMin?: number
  /** β-DARTS regularisation strength at the last epoch (default 5). */
  betaDecay?: number
  /** DARTS-PT: validation images the perturbations are scored on (default 512; 0: the whole architecture half). */
  ptEvalImages?: number
  /** DARTS-PT: weight steps after each decision (default 10). */
  ptTuneSteps?: number
  /** DARTS-PT: rank candidates by the validation accuracy (default) or loss their removal costs. */
  ptCriterion?: PerturbationCriterion
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

type Resolved = Required<
  Omit<
    DartsSearchOptions,
    'dataset' | 'signal' | 'onProgress' | 'checkpoint' | 'resume' | 'log' | 'timeMs' | 'layers'
  >
> & { layers: number; timeMs: number }

/** The defaults `dartsSearch` fills in. */
export function resolveOptions(o: DartsSearchOptions): Resolved {
  const kind = o.space.kind ?? o.space.name
  return {
    space: o.space,
    trainSize: o.trainSize ?? 10000,
    resolution: o.resolution ?? 16,
    channels: o.channels ?? 16,
    layers: o.layers ?? (kind === 'darts' ? 8 : 5),
    epochs: o.epochs ?? 50,
    batchSize: o.batchSize ?? 64,
    order: o.order ?? 'first',
    remedy: o.remedy ?? 'darts-pt',
    lr: o.lr ?? 0.025,
    lrMin: o.lrMin ?? 0.001,
    momentum: o.momentum ?? 0.9,
    weightDecay: o.weightDecay ?? 3e-4,
    gradClip: o.gradClip ?? 5,
    archLr: o.archLr ?? 3e-4,
    archBeta1: o.archBeta1 ?? 0.5,
    archBeta2: o.archBeta2 ?? 0.999,
    archWeightDecay: o.archWeightDecay ?? 1e-3,
    tauMax: o.tauMax ?? 10,
    tauMin: o.tauMin ?? 0.1,
    betaDecay: o.betaDecay ?? 5,
    ptEvalImages: o.ptEvalImages ?? 512,
    ptTuneSteps: o.ptTuneSteps ?? 10,
    ptCriterion: o.ptCriterion ?? 'accuracy',
    seed: o.seed ?? 0,
    timeMs: o.timeMs ?? Number.POSITIVE_INFINITY,
  }
}

function fingerprint(r: Resolved, dataset: Dataset): string {
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

/** Gumbel noise per cell kind ([edges × ops] each), or null for the soft relaxation. */
type Noise = Record<CellKind, Float32Array | null> | null

function gumbelNoise(net: DartsSupernet, rng: Rng): Noise {
  const make = (v: tf.Variable | null) => {
    if (v === null) return null
    const out = new Float32Array(v.size)
    for (let i = 0; i < out.length; i++) {
      let u = rng.next()
      while (u <= 0) u = rng.next()
      out[i] = -Math.log(-Math.log(u))
    }
    return out
  }
  return { normal: make(net.alphas.normal), reduce: make(net.alphas.reduce) }
}

/**
 * GDAS weights (call inside the tape): index = argmax(log_softmax(α) + g); the weight vector
 * is one-hot in value with the gradient of softmax((log_softmax(α) + g) / τ).
 */
function gumbelWeights(
  net: DartsSupernet,
  noise: NonNullable<Noise>,
  tau: number,
): Record<CellKind, EdgeWeights[] | null> {
  const of = (v: tf.Variable | null, g: Float32Array | null): EdgeWeights[] | null => {
    if (v === null || g === null) return null
    const [e, k] = v.shape as [number, number]
    const logits = tf.div(tf.add(tf.logSoftmax(v), tf.tensor2d(g, [e, k])), tau)
    const soft = tf.softmax(logits) as tf.Tensor2D
    const s = soft.dataSync()
    const shift = new Float32Array(e * k)
    const index: number[] = []
    for (let i = 0; i < e; i++) {
      let best = 0
      for (let j = 1; j < k; j++) if (s[i * k + j]! > s[i * k + best]!) best = j
      index.push(best)
      for (let j = 0; j < k; j++) shift[i * k + j] = (j === best ? 1 : 0) - s[i * k + j]!
    }
    const hard = tf.add(soft, tf.tensor2d(shift, [e, k])) as tf.Tensor2D
    return rowsToScalars(hard).map((weights, i) => ({ mode: 'hard', index: index[i]!, weights }))
  }
  return {
    normal: of(net.alphas.normal, noise.normal),
    reduce: of(net.alphas.reduce, noise.reduce),
  }
}

interface Batch {
  x: tf.Tensor4D
  y: tf.Tensor1D
}

/** Mean cross-entropy and the batch's correct predictions, from the given edge weights. */
function lossOf(
  net: DartsSupernet,
  b: Batch,
  weights: Record<CellKind, EdgeWeights[] | null>,
  out?: { correct: number },
): tf.Scalar {
  const logits = net.forwardWith(b.x, true, weights)
  if (out) {
    out.correct = tf
      .sum(tf.cast(tf.equal(tf.argMax(logits, 1), b.y), 'int32'))
      .dataSync()[0] as number
  }
  const labels = tf.oneHot(b.y, net.network.numClasses)
  return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar
}

/** β-DARTS regulariser: mean over edges of logsumexp(α_edge), summed over cell kinds. */
function betaDecayLoss(net: DartsSupernet): tf.Scalar {
  return tf.addN(net.archVariables().map((v) => tf.mean(tf.logSumExp(v, 1)))) as tf.Scalar
}

/**
 * DARTS (Liu et al. 2019) on the nb201 or darts cell space: trains the supernet's weights
 * with SGD on one half of the training images and the architecture parameters with Adam on
 * the other half, alternating, then derives the discrete architecture. Usable without the
 * runner; `checkpoint`/`resume` make it survive a kill.
 */
export async function dartsSearch(options: DartsSearchOptions): Promise<DartsSearchResult> {
  const r = resolveOptions(options)
  const log = options.log
  const dataset = options.dataset ?? loadMnist()
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
  const half = Math.floor(r.trainSize / 2)
  const split = splitDataset(dataset, { validationSize: half, trainSize: half, seed: r.seed })
  const wData: DataSubset = split.train
  const aData: DataSubset = split.validation
  const [h0, w0, c0] = dataset.imageShape
  const res = Math.max(r.resolution, 0)
  const resize: [number, number] | undefined = res > 0 ? [res, res] : undefined
  const inputShape: [number, number, number] = res > 0 ? [res, res, c0] : [h0, w0, c0]

  const net = new DartsSupernet(r.space, {
    channels: r.channels,
    layers: r.layers,
    numClasses: dataset.numClasses,
    inputShape,
    seed: r.seed,
  })
  const wVars = net.weightVariables()
  const aVars = net.archVariables()
  const sgd = new MomentumSgd(wVars, {
    lr: r.lr,
    momentum: r.momentum,
    weightDecay: r.weightDecay,
  })
  const adam = new Adam(aVars, {
    lr: r.archLr,
    beta1: r.archBeta1,
    beta2: r.archBeta2,
    weightDecay: r.archWeightDecay,
  })
  const allNetVars = net.network.namedVariables().map((v) => v.variable)
  const fp = fingerprint(r, dataset)
  let history: EpochRecord[] = []
  let startEpoch = 0
  let resumedAfter: number | undefined
  let peakBytes = 0
  const ranEpochMs: number[] = []
  try {
    if (options.resume) {
      const st = options.resume.state as unknown as StoredState
      if (st?.version !== STATE_VERSION || st.fingerprint !== fp) {
        throw new NaskitError(
          'E_RESUME',
          'The checkpoint was written by a DARTS search with other options (space, data, supernet shape, order, remedy or seed). Resume with the same options or start a new search.',
        )
      }
      const assign = (v: tf.Variable, values: Float32Array) =>
        v.assign(tf.tensor(values, v.shape, 'float32'))
      const b = options.resume.blobs
      tf.tidy(() => {
        unpackVariables(allNetVars, b.weights, 'weights', assign)
        unpackVariables(aVars, b.alphas, 'alphas', assign)
        unpackVariables(sgd.buffers, b.sgd, 'sgd', assign)
        unpackVariables([...adam.m, ...adam.v], b.adam, 'adam', assign)
      })
      adam.t = st.adamStep
      history = st.history
      startEpoch = st.epoch
      resumedAfter = st.epoch
      log?.info(`darts: resuming after epoch ${st.epoch}`)
    }

    const started = performance.now()
    const totalEpochs = r.epochs
    for (let epoch = startEpoch; epoch < totalEpochs; epoch++) {
      if (performance.now() - started > r.timeMs) {
        log?.info(`darts: time budget reached after epoch ${epoch}`)
        break
      }
      const t0 = performance.now()
      const lr = cosineLr(r.lr, r.lrMin, epoch, totalEpochs)
      sgd.lr = lr
      const progress = totalEpochs > 1 ? epoch / (totalEpochs - 1) : 1
      const tau = r.tauMax - (r.tauMax - r.tauMin) * progress
      const lambda = r.betaDecay * ((epoch + 1) / totalEpochs)
      const noiseRng = createRng(r.seed).fork(`darts:gumbel:${epoch}`)
      const sample = (): Noise => (r.remedy === 'gdas' ? gumbelNoise(net, noiseRng) : null)
      const weightsFor = (noise: Noise) =>
        noise === null ? softWeights(net) : gumbelWeights(net, noise, tau)
      const archLoss = (b: Batch, noise: Noise, out?: { correct: number }) => {
        const l = lossOf(net, b, weightsFor(noise), out)
        return r.remedy === 'beta-decay' && lambda > 0
          ? (tf.add(l, tf.mul(betaDecayLoss(net), lambda)) as tf.Scalar)
          : l
      }

      const stats = { tl: 0, tc: 0, vl: 0, vc: 0, n: 0, steps: 0 }
      const wIter = batches(wData, {
        batchSize: r.batchSize,
        rng: createDataRng(r.seed * 7919 + epoch * 2 + 1),
        resize,
        dropLast: true,
      })
      let aIter = batches(aData, {
        batchSize: r.batchSize,
        rng: createDataRng(r.seed * 7919 + epoch * 2 + 2),
        resize,
        dropLast: true,
      })
      const stepsPerEpoch = Math.floor(half / r.batchSize)
      for (const trainBatch of wIter) {
        let valBatch = aIter.next().value as Batch | undefined
        if (valBatch === undefined) {
          aIter = batches(aData, { batchSize: r.batchSize, resize, dropLast: true })
          valBatch = aIter.next().value as Batch
        }
        try {
          if (options.signal?.aborted) {
            throw new NaskitError('E_ABORTED', 'The DARTS search was aborted.')
          }
          const out = { correct: 0 }
          const tout = { correct: 0 }
          const step = (): [number, number] => {
            // 1. architecture step on the other half
            const noise = sample()
            let valLoss: number
            if (r.order === 'first') {
              valLoss = tf.tidy(() => {
                const { value, grads } = tf.variableGrads(
                  () => archLoss(valBatch, noise, out),
                  aVars,
                )
                peakBytes = Math.max(peakBytes, tf.memory().numBytes)
                adam.step(aVars.map((v) => grads[v.name]!))
                return value.dataSync()[0]!
              })
            } else {
              const u = unrolledArchGradients({
                net,
                sgd,
                xi: sgd.lr,
                trainLoss: () => lossOf(net, trainBatch, weightsFor(noise)),
                valLoss: () => archLoss(valBatch, noise, out),
                onMemory: (bytes) => {
                  peakBytes = Math.max(peakBytes, bytes)
                },
              })
              adam.step(u.grads)
              tf.dispose(u.grads)
              valLoss = u.loss
            }
            // 2. weight step on this half
            const trainLoss = tf.tidy(() => {
              const wNoise = sample()
              const { value, grads } = tf.variableGrads(
                () => lossOf(net, trainBatch, weightsFor(wNoise), tout),
                wVars,
              )
              peakBytes = Math.max(peakBytes, tf.memory().numBytes)
              const gs = clipByGlobalNorm(
                wVars.map((v) => grads[v.name]),
                r.gradClip,
              )
              sgd.step(gs)
              return value.dataSync()[0]!
            })
            return [valLoss, trainLoss]
          }
          // tf.profile sees the peak inside the backward pass: profile each epoch's first step
          let losses: [number, number] = [0, 0]
          if (stats.steps === 0) {
            const info = await tf.profile(() => {
              losses = step()
              return []
            })
            peakBytes = Math.max(peakBytes, info.peakBytes)
          } else {
            losses = step()
          }
          const [valLoss, trainLoss] = losses
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
          trainBatch.x.dispose()
          trainBatch.y.dispose()
          valBatch.x.dispose()
          valBatch.y.dispose()
        }
        options.onProgress?.({
          fraction: (epoch + stats.steps / stepsPerEpoch) / totalEpochs,
          message: `epoch ${epoch + 1}/${totalEpochs}, step ${stats.steps}/${stepsPerEpoch}`,
        })
        if (stats.steps % 4 === 0) await new Promise<void>((res) => setImmediate(res))
      }
      // close the generators (they hold no tensors between batches)
      aIter.return(undefined)
      const soft = net.softmaxWeights()
      const rec: EpochRecord = {
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
      history.push(rec)
      ranEpochMs.push(rec.timeMs)
      log?.info(
        `darts: epoch ${rec.epoch}/${totalEpochs} train ${rec.trainLoss.toFixed(3)} (${(100 * rec.trainAccuracy).toFixed(1)}%) val ${rec.valLoss.toFixed(3)} (${(100 * rec.valAccuracy).toFixed(1)}%) ${(rec.timeMs / 1000).toFixed(1)}s`,
      )
      options.onProgress?.({
        fraction: (epoch + 1) / totalEpochs,
        message: `epoch ${epoch + 1}/${totalEpochs} done`,
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
          adamStep: adam.t,
          history,
        }
        await options.checkpoint(state as unknown as JsonValue, {
          weights: packVariables(allNetVars),
          alphas: packVariables(aVars),
          sgd: packVariables(sgd.buffers),
          adam: packVariables([...adam.m, ...adam.v]),
        })
      }
    }

    const soft = net.softmaxWeights()
    const raw = net.alphaValues()
    let selection: (PerturbationResult & { timeMs: number }) | undefined
    if (r.remedy === 'darts-pt') {
      const t0 = performance.now()
      const evalBatches = [
        ...batches(
          {
            ...aData,
            indices: aData.indices.slice(
              0,
              r.ptEvalImages > 0
                ? Math.min(r.ptEvalImages, aData.indices.length)
                : aData.indices.length,
            ),
          },
          { batchSize: 128, resize },
        ),
      ]
      const tuneRng = createDataRng(r.seed * 7919 + 104729)
      let tuneIter = batches(wData, {
        batchSize: r.batchSize,
        rng: tuneRng,
        resize,
        dropLast: true,
      })
      sgd.lr = (r.lr + r.lrMin) / 2
      try {
        const sel = await perturbationSelect({
          net,
          batches: evalBatches,
          rng: createRng(r.seed).fork('darts:pt'),
          criterion: r.ptCriterion,
          tune: async (decisions, dropped) => {
            for (let i = 0; i < r.ptTuneSteps; i++) {
              if (options.signal?.aborted) {
                throw new NaskitError('E_ABORTED', 'The DARTS search was aborted.')
              }
              let b = tuneIter.next().value as Batch | undefined
              if (b === undefined) {
                tuneIter = batches(wData, {
                  batchSize: r.batchSize,
                  rng: tuneRng,
                  resize,
                  dropLast: true,
                })
                b = tuneIter.next().value as Batch
              }
              try {
                tf.tidy(() => {
                  const { grads } = tf.variableGrads(
                    () => lossOf(net, b, perturbedWeights(net, decisions, null, dropped)),
                    wVars,
                  )
                  sgd.step(
                    clipByGlobalNorm(
                      wVars.map((v) => grads[v.name]),
                      r.gradClip,
                    ),
                  )
                })
              } finally {
                b.x.dispose()
                b.y.dispose()
              }
            }
            await new Promise<void>((res) => setImmediate(res))
          },
        })
        selection = { ...sel, timeMs: performance.now() - t0 }
      } finally {
        for (const b of evalBatches) {
          b.x.dispose()
          b.y.dispose()
        }
      }
      log?.info(`darts-pt: selected in ${((performance.now() - t0) / 1000).toFixed(1)}s`)
    }
    return {
      arch: selection?.arch ?? deriveArchitecture(soft, net.layout),
      ...(selection === undefined ? {} : { selection }),
      weights: { normal: soft.normal!, reduce: soft.reduce },
      alphas: { normal: raw.normal!, reduce: raw.reduce },
      ops: [...net.layout.ops],
      edges: net.layout.edges.map((e) => ({ ...e })),
      history,
      epochs: history.length,
      ...(resumedAfter === undefined ? {} : { resumedAfter }),
      peakBytes,
      paramBytes: net.paramBytes(),
      paramCount: net.network.paramCount(),
      epochMs:
        ranEpochMs.length === 0 ? 0 : ranEpochMs.reduce((a, b) => a + b, 0) / ranEpochMs.length,
      backend: tf.getBackend(),
    }
  } finally {
    sgd.dispose()
    adam.dispose()
    net.dispose()
  }
}

/**
 * The second-order architecture gradient (DARTS eq. 7–8), without applying it:
 * w' = w − ξ·(μ·buf + ∇w L_train + λw), then
 * ∇α L_val(w', α) − ξ·(∇α L_train(w⁺, α) − ∇α L_train(w⁻, α)) / 2ε with
 * w± = w ± ε·∇w' L_val(w', α) and ε = 0.01 / ‖∇w' L_val‖. Every network variable (BN
 * statistics included) is restored afterwards. The caller disposes the returned gradients.
 */
export function unrolledArchGradients(args: {
  net: DartsSupernet
  sgd: MomentumSgd
  xi: number
  trainLoss: () => tf.Scalar
  valLoss: () => tf.Scalar
  onMemory?: (bytes: number) => void
}): { grads: tf.Tensor[]; loss: number } {
  const { net, sgd, xi } = args
  const aVars = net.archVariables()
  const wVars = sgd.vars
  const allNetVars = net.network.namedVariables().map((v) => v.variable)
  const saved = allNetVars.map((v) => tf.clone(v))
  const savedOf = new Map(allNetVars.map((v, i) => [v, saved[i]!]))
  const restore = () =>
    tf.tidy(() => {
      allNetVars.forEach((v, i) => {
        v.assign(saved[i]!)
      })
    })
  const track = () => args.onMemory?.(tf.memory().numBytes)
  try {
    // w' = w − ξ (μ·buf + g + λw)
    tf.tidy(() => {
      const { grads } = tf.variableGrads(args.trainLoss, wVars)
      track()
      const steps = wVars.map((v, i) => {
        const g = grads[v.name]
        const m = tf.mul(sgd.buffers[i]!, sgd.momentum)
        return g === undefined ? m : tf.add(m, sgd.decayed(g, i))
      })
      wVars.forEach((v, i) => {
        v.assign(tf.sub(v, tf.mul(steps[i]!, xi)))
      })
    })
    // ∇α and ∇w' of L_val at (w', α)
    const [dAlpha, dW, loss] = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(args.valLoss, [...aVars, ...wVars])
      track()
      return [
        aVars.map((v) => tf.keep(grads[v.name] ?? tf.zerosLike(v))),
        wVars.map((v) => tf.keep(grads[v.name] ?? tf.zerosLike(v))),
        tf.keep(value),
      ] as const
    })
    restore()
    const lossValue = loss.dataSync()[0]!
    loss.dispose()
    // finite-difference Hessian-vector product
    const norm = tf.tidy(() =>
      Math.sqrt(tf.addN(dW.map((g) => tf.sum(tf.square(g)))).dataSync()[0]!),
    )
    const eps = 0.01 / Math.max(norm, 1e-12)
    const gradAt = (sign: number): tf.Tensor[] => {
      tf.tidy(() => {
        wVars.forEach((v, i) => {
          v.assign(tf.add(savedOf.get(v)!, tf.mul(dW[i]!, sign * eps)))
        })
      })
      return tf.tidy(() => {
        const { grads } = tf.variableGrads(args.trainLoss, aVars)
        return aVars.map((v) => tf.keep(grads[v.name] ?? tf.zerosLike(v)))
      })
    }
    const gPlus = gradAt(1)
    const gMinus = gradAt(-1)
    restore()
    const grads = tf.tidy(() =>
      dAlpha.map((g, i) => tf.sub(g, tf.mul(tf.sub(gPlus[i]!, gMinus[i]!), xi / (2 * eps)))),
    )
    tf.dispose([...gPlus, ...gMinus, ...dAlpha, ...dW])
    return { grads, loss: lossValue }
  } finally {
    tf.dispose(saved)
  }
}
