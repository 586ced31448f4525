/**
 * Supernet benchmark on the NAS-Bench-201 space, Fashion-MNIST at low resolution:
 *  - ranking quality: Kendall tau between inherited-weight accuracy (supernet weights, BN
 *    recalibrated) and stand-alone accuracy (each architecture trained from scratch on the
 *    same data for a short schedule) over ≥ 20 architectures;
 *  - cost: supernet training time against training those architectures one by one;
 *  - the best architecture a search over the supernet finds, with its CIFAR-10 test accuracy
 *    from the NAS-Bench-201 table (NASKIT_NB201 or ../shared/data/nasbench201/nb201.csv).
 *
 * Settings come from environment variables (BENCH_*); see `settings` below.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Arch, nb201Space, nb201ToString, Rng } from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import {
  createSupernet,
  kendallTau,
  resolveSamplingStrategy,
  retrainStandalone,
  SupernetTrainer,
  searchSubnets,
  supernetEvaluator,
} from '../src/index'
import { type BackendChoice, loadFashionMnist, selectBackend, splitDataset } from '../src/trainer'

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback)
const settings = {
  backend: (process.env.BENCH_BACKEND ?? 'auto') as BackendChoice,
  resolution: env('BENCH_RESOLUTION', 12),
  channels: env('BENCH_CHANNELS', 8),
  cellsPerStage: env('BENCH_CELLS', 2),
  trainSize: env('BENCH_TRAIN', 2000),
  validationSize: env('BENCH_VALIDATION', 2000),
  batchSize: env('BENCH_BATCH', 64),
  supernetEpochs: env('BENCH_SUPERNET_EPOCHS', 24),
  standaloneEpochs: env('BENCH_STANDALONE_EPOCHS', 4),
  archs: env('BENCH_ARCHS', 20),
  searchTrials: env('BENCH_SEARCH_TRIALS', 60),
  sampler: (process.env.BENCH_SAMPLER ?? 'uniform') as 'uniform' | 'fair',
  seed: env('BENCH_SEED', 0),
}

const here = path.dirname(fileURLToPath(import.meta.url))
const nb201Path =
  process.env.NASKIT_NB201 ?? path.resolve(here, '../../../../shared/data/nasbench201/nb201.csv')

function readNb201(file: string): Map<string, { index: number; cifar10: number }> {
  const lines = readFileSync(file, 'utf8').trim().split('\n')
  const head = (lines[0] as string).split(',')
  const iArch = head.indexOf('arch')
  const iAcc = head.indexOf('cifar10_test')
  const iIdx = head.indexOf('index')
  const out = new Map<string, { index: number; cifar10: number }>()
  for (const line of lines.slice(1)) {
    const f = line.split(',')
    out.set(f[iArch] as string, { index: Number(f[iIdx]), cifar10: Number(f[iAcc]) })
  }
  return out
}

const log = (s: string) => console.log(s)

async function main() {
  const sel = await selectBackend({ backend: settings.backend, log: false })
  log(`backend: ${sel.backend}; settings: ${JSON.stringify(settings)}`)
  const ds = loadFashionMnist()
  const splits = splitDataset(ds, {
    trainSize: settings.trainSize,
    validationSize: settings.validationSize,
    testSize: 0,
    seed: settings.seed,
  })
  const r = settings.resolution
  const resize: [number, number] = [r, r]
  const space = nb201Space()
  const supernet = createSupernet(space, {
    inputShape: [r, r, 1],
    numClasses: 10,
    seed: settings.seed,
    nb201: { channels: settings.channels, cellsPerStage: settings.cellsPerStage },
  })
  log(`supernet: ${supernet.paramCount()} parameters`)

  // 1. train the supernet (single-path one-shot)
  const trainer = new SupernetTrainer(supernet, splits.train, {
    epochs: settings.supernetEpochs,
    batchSize: settings.batchSize,
    sampler: settings.sampler,
    resize,
    seed: settings.seed,
    onEpoch: (i) => log(`  supernet epoch ${i.epoch}: loss ${i.loss.toFixed(4)}`),
  })
  const summary = await trainer.train()
  trainer.dispose()
  log(
    `supernet training: ${(summary.trainTimeMs / 1000).toFixed(1)} s, ${summary.steps} steps, ${summary.images} images`,
  )

  // 2. inherited-weight accuracy of the sample
  const evaluator = supernetEvaluator(supernet, {
    calibration: splits.train,
    validation: splits.validation,
    calibrationBatches: 4,
    batchSize: settings.batchSize,
    resize,
    seed: settings.seed,
  })
  const rng = new Rng(settings.seed).fork('bench:sample')
  const sample: Arch[] = []
  const keys = new Set<string>()
  while (sample.length < settings.archs) {
    const a = space.sample(rng)
    const k = space.key(a)
    if (!keys.has(k)) {
      keys.add(k)
      sample.push(a)
    }
  }
  const inherited: number[] = []
  let evalMs = 0
  for (const a of sample) {
    const t0 = performance.now()
    inherited.push((await evaluator.evaluate(a, {})).objective)
    evalMs += performance.now() - t0
  }
  log(`inherited-weight evaluation: ${(evalMs / sample.length).toFixed(0)} ms per architecture`)

  // 3. stand-alone accuracy, one by one
  const standalone: number[] = []
  let standaloneMs = 0
  for (const [i, a] of sample.entries()) {
    const t0 = performance.now()
    const s = await retrainStandalone(supernet, a, {
      train: splits.train,
      validation: splits.validation,
      epochs: settings.standaloneEpochs,
      batchSize: settings.batchSize,
      resize,
      seed: settings.seed,
    })
    standaloneMs += performance.now() - t0
    standalone.push(s.val_accuracy)
    log(
      `  ${String(i + 1).padStart(2)} ${nb201ToString(a)} inherited ${inherited[i]!.toFixed(4)} stand-alone ${s.val_accuracy.toFixed(4)}`,
    )
  }
  const tau = kendallTau(inherited, standalone)
  // reference: how both proxies rank the same architectures against NAS-Bench-201's CIFAR-10
  const table = readNb201(nb201Path)
  const cifar = sample.map((a) => table.get(nb201ToString(a))?.cifar10 ?? Number.NaN)
  const tauInheritedCifar = kendallTau(inherited, cifar)
  const tauStandaloneCifar = kendallTau(standalone, cifar)

  // 4. search on inherited weights, best architecture looked up in NAS-Bench-201
  let strategyName = 'evolution'
  let strategy: Awaited<ReturnType<typeof resolveSamplingStrategy>>
  try {
    strategy = await resolveSamplingStrategy('evolution')
  } catch {
    strategyName = 'random'
    strategy = await resolveSamplingStrategy('random')
  }
  const t0 = performance.now()
  const search = await searchSubnets({
    space,
    evaluator,
    strategy,
    trials: settings.searchTrials,
    topK: 5,
    seed: settings.seed,
  })
  const searchMs = performance.now() - t0
  const top = search.top.map((t) => {
    const s = nb201ToString(t.arch)
    return { arch: s, inherited: t.score, nb201: table.get(s) ?? null }
  })
  const all = [...table.values()].map((v) => v.cifar10).sort((a, b) => b - a)
  const best = top[0]
  const bestAcc = best?.nb201?.cifar10 ?? Number.NaN
  const better = all.filter((v) => v > bestAcc).length
  evaluator.dispose()
  supernet.dispose()

  const result = {
    backend: sel.backend,
    settings,
    kendallTau: tau,
    kendallTauInheritedVsCifar10: tauInheritedCifar,
    kendallTauStandaloneVsCifar10: tauStandaloneCifar,
    sample: sample.map((a, i) => ({
      arch: nb201ToString(a),
      inherited: inherited[i],
      standalone: standalone[i],
      cifar10: cifar[i],
    })),
    archs: sample.length,
    supernetTrainSeconds: summary.trainTimeMs / 1000,
    standaloneTrainSeconds: standaloneMs / 1000,
    costRatio: standaloneMs / summary.trainTimeMs,
    inheritedEvalMsPerArch: evalMs / sample.length,
    search: {
      strategy: strategyName,
      trials: search.trials.length,
      seconds: searchMs / 1000,
      top,
      bestCifar10Test: bestAcc,
      bestRankAmong15625: better + 1,
      nb201Optimum: all[0],
    },
    tensorsLeft: tf.memory().numTensors,
  }
  log('')
  log(
    `Kendall tau (inherited vs stand-alone, ${sample.length} nb201 archs): ${tau.toFixed(3)} (target ≥ 0.5)`,
  )
  log(
    `reference, Kendall tau against NAS-Bench-201 CIFAR-10 test accuracy: inherited ${tauInheritedCifar.toFixed(3)}, stand-alone ${tauStandaloneCifar.toFixed(3)}`,
  )
  log(
    `cost: supernet ${result.supernetTrainSeconds.toFixed(1)} s vs ${sample.length} stand-alone ${result.standaloneTrainSeconds.toFixed(1)} s (×${result.costRatio.toFixed(2)})`,
  )
  log(
    `best found (${strategyName}, ${search.trials.length} trials): ${best?.arch} CIFAR-10 test ${bestAcc.toFixed(2)}% (rank ${better + 1} of 15625; optimum ${all[0]}%)`,
  )
  log(JSON.stringify(result))
}

await main()
