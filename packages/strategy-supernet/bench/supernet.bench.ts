/**
 * Supernet benchmark on the NAS-Bench-201 space, Fashion-MNIST at low resolution:
 *  - ranking quality: Kendall tau between inherited-weight accuracy (supernet weights, BN
 *    recalibrated per candidate) and stand-alone accuracy (each architecture trained from
 *    scratch on the same data for a short schedule, averaged over seeds) for a uniform random
 *    sample of ≥ 20 architectures; the tau between two stand-alone seeds says how stable the
 *    reference itself is;
 *  - cost: supernet training time against training those architectures one by one, and the
 *    cost of one supernet step against one stand-alone step of the same architecture on the
 *    same batch (interleaved, medians);
 *  - the best architecture a search over the supernet finds, with its CIFAR-10 test accuracy
 *    from the NAS-Bench-201 table (NASKIT_NB201 or ../shared/data/nasbench201/nb201.csv).
 *
 * Settings come from environment variables (BENCH_*); see `settings` below. Results are
 * written to bench/results/supernet.json and bench/results/supernet.md.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Arch, nb201Space, nb201ToString, Rng } from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import {
  createSupernet,
  kendallTau,
  resolveSamplingStrategy,
  retrainStandalone,
  type Supernet,
  SupernetTrainer,
  searchSubnets,
  supernetEvaluator,
} from '../src/index'
import {
  type BackendChoice,
  buildNetwork,
  clipByGlobalNorm,
  loadFashionMnist,
  MomentumSgd,
  type SplitView,
  selectBackend,
  splitDataset,
  withWeightDecay,
} from '../src/trainer'

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback)
const settings = {
  backend: (process.env.BENCH_BACKEND ?? 'auto') as BackendChoice,
  resolution: env('BENCH_RESOLUTION', 12),
  channels: env('BENCH_CHANNELS', 8),
  cellsPerStage: env('BENCH_CELLS', 2),
  trainSize: env('BENCH_TRAIN', 2000),
  validationSize: env('BENCH_VALIDATION', 2000),
  batchSize: env('BENCH_BATCH', 64),
  supernetEpochs: env('BENCH_SUPERNET_EPOCHS', 240),
  supernetLearningRate: env('BENCH_SUPERNET_LR', 0.05),
  /** Floor of the supernet's cosine schedule (the trainer's default: a fifth of the rate). */
  supernetMinLearningRate: env('BENCH_SUPERNET_LR_MIN', 0.01),
  /** Average the supernet's weights over the epochs from this one on (0: off). */
  supernetAverageFrom: env('BENCH_AVERAGE_FROM', 0),
  calibrationBatches: env('BENCH_CALIBRATION_BATCHES', 8),
  standaloneEpochs: env('BENCH_STANDALONE_EPOCHS', 10),
  /** Stand-alone trainings per architecture (seeds seed, seed+1, …), averaged. */
  standaloneSeeds: env('BENCH_STANDALONE_SEEDS', 3),
  archs: env('BENCH_ARCHS', 20),
  searchTrials: env('BENCH_SEARCH_TRIALS', 60),
  /** Architectures of the step-cost comparison. */
  costArchs: env('BENCH_COST_ARCHS', 8),
  /** Learned scale/shift in the batch norms of the supernet's cell ops (0: non-affine). */
  affine: process.env.BENCH_AFFINE !== '0',
  sampler: (process.env.BENCH_SAMPLER ?? 'uniform') as 'uniform' | 'fair',
  /**
   * Few-shot supernet: the decision it splits on ('' for one shared supernet) and the epochs
   * of shared training before the split.
   */
  fewShotDecision: process.env.BENCH_FEWSHOT ?? 'cell.3.0.op',
  fewShotSplitEpoch: env('BENCH_FEWSHOT_SPLIT', 60),
  /** Learning rate of the copies' cycle after the split. */
  fewShotLearningRate: env('BENCH_FEWSHOT_LR', 0.02),
  seed: env('BENCH_SEED', 0),
  /**
   * Train the stand-alone reference in a second process while this one trains the supernet
   * (one core each); 0 runs everything in this process, one phase after the other.
   */
  parallel: process.env.BENCH_PARALLEL !== '0',
}
/**
 * A results file of an earlier run whose stand-alone reference is reused instead of training
 * it again (its sample and stand-alone settings must match this run's).
 */
const referenceFile = process.env.BENCH_REFERENCE
/** Set in the child process that trains the stand-alone reference. */
const phase = process.env.BENCH_PHASE

const here = path.dirname(fileURLToPath(import.meta.url))
const nb201Path =
  process.env.NASKIT_NB201 ?? path.resolve(here, '../../../../shared/data/nasbench201/nb201.csv')
const outDir = process.env.BENCH_OUT ?? path.resolve(here, 'results')

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
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length

/**
 * One training step of a supernet path against one step of the same architecture's
 * stand-alone network (the trainer's loop: gradients, weight decay, clipping, momentum),
 * on the same batch, interleaved; medians over repeats, per architecture.
 */
function stepCost(supernet: Supernet, archs: Arch[], data: SplitView, batchSize: number) {
  const [h, w, c] = supernet.inputShape
  const x = tf.randomNormal([batchSize, h, w, c], 0, 1, 'float32', 1) as tf.Tensor4D
  const y = tf.tensor1d(
    Array.from({ length: batchSize }, (_, i) => i % supernet.numClasses),
    'int32',
  )
  const probe = supernet.namedVariables()
  const saved = probe.map((v) => v.variable.clone())
  const trainer = new SupernetTrainer(supernet, data, { epochs: 0, batchSize, learningRate: 0.01 })
  const rows: Array<{ arch: string; supernetMs: number; standaloneMs: number }> = []
  for (const arch of archs) {
    const net = buildNetwork(arch, { ...supernet.buildOptions(), seed: 0 }, supernet.kind)
    const vars = net.trainableVariables()
    const opt = new MomentumSgd(vars, { learningRate: 0.01, momentum: 0.9 })
    const standaloneStep = () =>
      tf.tidy(() => {
        const labels = tf.oneHot(y, supernet.numClasses)
        const { value, grads } = tf.variableGrads(
          () => tf.losses.softmaxCrossEntropy(labels, net.apply(x, true)) as tf.Scalar,
          vars,
        )
        const decayed = vars.map((v) => {
          const g = grads[v.name]
          return g == null ? undefined : withWeightDecay(g, v, 3e-4)
        })
        value.dataSync()
        opt.step(clipByGlobalNorm(decayed, 5))
      })
    const supernetStep = () => {
      trainer.trainStep(x, y, [arch])
    }
    standaloneStep()
    supernetStep()
    const a: number[] = []
    const b: number[] = []
    for (let r = 0; r < 3; r++) {
      let t0 = performance.now()
      supernetStep()
      a.push(performance.now() - t0)
      t0 = performance.now()
      standaloneStep()
      b.push(performance.now() - t0)
    }
    rows.push({ arch: nb201ToString(arch), supernetMs: median(a), standaloneMs: median(b) })
    opt.dispose()
    net.dispose()
  }
  trainer.dispose()
  // the supernet's weights and statistics as they were
  probe.forEach((v, i) => {
    v.variable.assign(saved[i] as tf.Tensor)
  })
  tf.dispose(saved)
  x.dispose()
  y.dispose()
  return rows
}

interface StandaloneFigures {
  bySeed: number[][]
  standaloneMs: number
  standaloneWallMs: number
  standaloneSteps: number
}

/** Trains every sampled architecture from scratch, once per seed. */
async function standalonePhase(
  supernet: Supernet,
  sample: Arch[],
  splits: { train: SplitView; validation: SplitView },
  resize: [number, number],
): Promise<StandaloneFigures> {
  const bySeed: number[][] = []
  let standaloneMs = 0
  let standaloneWallMs = 0
  let standaloneSteps = 0
  for (let s = 0; s < settings.standaloneSeeds; s++) {
    const accs: number[] = []
    for (const a of sample) {
      const t0 = performance.now()
      const res = await retrainStandalone(supernet, a, {
        train: splits.train,
        validation: splits.validation,
        epochs: settings.standaloneEpochs,
        batchSize: settings.batchSize,
        resize,
        seed: settings.seed + s,
      })
      standaloneWallMs += performance.now() - t0
      standaloneMs += res.train_time_ms
      standaloneSteps += Math.ceil(splits.train.indices.length / settings.batchSize) * res.epochs
      accs.push(res.val_accuracy)
    }
    bySeed.push(accs)
    log(`  stand-alone seed ${settings.seed + s} done`)
  }
  return { bySeed, standaloneMs, standaloneWallMs, standaloneSteps }
}

/** Runs {@link standalonePhase} in a child process of this script and reads its figures. */
function standaloneInChild(): Promise<StandaloneFigures> {
  const dir = mkdtempSync(path.join(tmpdir(), 'naskit-bench-'))
  const out = path.join(dir, 'standalone.json')
  const args = [...process.execArgv, fileURLToPath(import.meta.url)]
  const child = spawn(process.execPath, args, {
    env: { ...process.env, BENCH_PHASE: 'standalone', BENCH_STANDALONE_OUT: out },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      try {
        if (code !== 0) throw new Error(`the stand-alone process failed (${signal ?? code})`)
        resolve(JSON.parse(readFileSync(out, 'utf8')) as StandaloneFigures)
      } catch (e) {
        reject(e)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  })
}

/** The settings a stand-alone reference depends on. */
const REFERENCE_KEYS = [
  'resolution',
  'channels',
  'cellsPerStage',
  'trainSize',
  'validationSize',
  'batchSize',
  'standaloneEpochs',
  'standaloneSeeds',
  'archs',
  'seed',
] as const

/** The stand-alone figures of an earlier results file, checked against this run. */
function readReference(file: string, sample: Arch[]): StandaloneFigures {
  const prev = JSON.parse(readFileSync(file, 'utf8')) as {
    settings: Record<string, unknown>
    sample: Array<{ arch: string; standaloneBySeed: number[] }>
    standaloneTrainSeconds: number
    standaloneWallSeconds: number
    standaloneSteps: number
  }
  for (const k of REFERENCE_KEYS) {
    if (prev.settings[k] !== settings[k])
      throw new Error(`${file}: its ${k} is ${prev.settings[k]}, this run's ${settings[k]}`)
  }
  sample.forEach((a, i) => {
    if (prev.sample[i]?.arch !== nb201ToString(a))
      throw new Error(`${file}: architecture ${i + 1} differs from this run's sample`)
  })
  log(`stand-alone reference reused from ${file}`)
  return {
    bySeed: Array.from({ length: settings.standaloneSeeds }, (_, s) =>
      prev.sample.map((r) => r.standaloneBySeed[s] as number),
    ),
    standaloneMs: prev.standaloneTrainSeconds * 1000,
    standaloneWallMs: prev.standaloneWallSeconds * 1000,
    standaloneSteps: prev.standaloneSteps,
  }
}

async function main() {
  const benchStart = performance.now()
  const sel = await selectBackend({ backend: settings.backend, log: false })
  if (phase !== 'standalone') log(`backend: ${sel.backend}; settings: ${JSON.stringify(settings)}`)
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
    nb201: {
      channels: settings.channels,
      cellsPerStage: settings.cellsPerStage,
      affine: settings.affine,
    },
    ...(settings.fewShotDecision
      ? {
          fewShot: {
            decision: settings.fewShotDecision,
            splitEpoch: settings.fewShotSplitEpoch,
            learningRate: settings.fewShotLearningRate,
          },
        }
      : {}),
  })
  if (phase !== 'standalone') log(`supernet: ${supernet.paramCount()} parameters`)

  // the architectures: a uniform random sample of the space (distinct)
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

  if (phase === 'standalone') {
    const figures = await standalonePhase(supernet, sample, splits, resize)
    writeFileSync(process.env.BENCH_STANDALONE_OUT as string, JSON.stringify(figures))
    supernet.dispose()
    return
  }
  // the stand-alone reference: reused, in a second process (started now) or after the supernet
  let reference: Promise<StandaloneFigures>
  if (referenceFile) {
    reference = Promise.resolve(readReference(referenceFile, sample))
  } else if (settings.parallel) {
    reference = standaloneInChild()
    reference.catch(() => {}) // awaited below
  } else {
    reference = Promise.resolve(null as unknown as StandaloneFigures)
  }

  // 0. cost of one step: supernet path against the stand-alone network (same arch and batch)
  const costRng = new Rng(settings.seed).fork('bench:cost')
  const costRows = stepCost(
    supernet,
    Array.from({ length: settings.costArchs }, () => space.sample(costRng)),
    splits.train,
    settings.batchSize,
  )
  const stepRatio = median(costRows.map((c) => c.supernetMs / c.standaloneMs))
  log(
    `step cost (median over ${costRows.length} archs): supernet ${median(costRows.map((c) => c.supernetMs)).toFixed(0)} ms, stand-alone ${median(costRows.map((c) => c.standaloneMs)).toFixed(0)} ms, ratio ${stepRatio.toFixed(2)}`,
  )

  // 1. train the supernet (single-path one-shot)
  const trainer = new SupernetTrainer(supernet, splits.train, {
    epochs: settings.supernetEpochs,
    batchSize: settings.batchSize,
    learningRate: settings.supernetLearningRate,
    minLearningRate: settings.supernetMinLearningRate,
    ...(settings.supernetAverageFrom > 0 ? { averageFrom: settings.supernetAverageFrom } : {}),
    sampler: settings.sampler,
    resize,
    seed: settings.seed,
    onEpoch: (i) => {
      if (i.epoch % 5 === 0 || i.epoch === settings.supernetEpochs)
        log(`  supernet epoch ${i.epoch}: loss ${i.loss.toFixed(4)}`)
    },
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
    calibrationBatches: settings.calibrationBatches,
    batchSize: settings.batchSize,
    resize,
    seed: settings.seed,
  })
  const inherited: number[] = []
  let evalMs = 0
  for (const a of sample) {
    const t0 = performance.now()
    inherited.push(evaluator.evaluate(a, {}).objective)
    evalMs += performance.now() - t0
  }
  log(`inherited-weight evaluation: ${(evalMs / sample.length).toFixed(0)} ms per architecture`)

  // 3. stand-alone accuracy, one by one, for every seed
  if (!settings.parallel && !referenceFile)
    reference = standalonePhase(supernet, sample, splits, resize)
  const { bySeed, standaloneMs, standaloneWallMs, standaloneSteps } = await reference
  const standalone = sample.map((_, i) => mean(bySeed.map((accs) => accs[i] as number)))
  for (const [i, a] of sample.entries()) {
    log(
      `  ${String(i + 1).padStart(2)} ${nb201ToString(a)} inherited ${inherited[i]!.toFixed(4)} stand-alone ${bySeed.map((accs) => accs[i]!.toFixed(4)).join(' / ')}`,
    )
  }
  const tau = kendallTau(inherited, standalone)
  const tauPerSeed = bySeed.map((accs) => kendallTau(inherited, accs))
  // stability of the reference: tau between every pair of stand-alone seeds, averaged
  const pairTaus: number[] = []
  for (let i = 0; i < bySeed.length; i++)
    for (let j = i + 1; j < bySeed.length; j++) pairTaus.push(kendallTau(bySeed[i]!, bySeed[j]!))
  const tauSeeds = pairTaus.length > 0 ? mean(pairTaus) : Number.NaN
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

  const supernetStepMs = summary.trainTimeMs / Math.max(1, summary.steps)
  const standaloneStepMs = standaloneMs / Math.max(1, standaloneSteps)
  const result = {
    date: new Date().toISOString(),
    command: 'cd packages/strategy-supernet && npx --yes pnpm@10.34.9 bench',
    backend: sel.backend,
    settings,
    ...(referenceFile ? { referenceReusedFrom: path.basename(referenceFile) } : {}),
    sampleKind: 'uniform random, distinct',
    kendallTau: tau,
    kendallTauPerStandaloneSeed: tauPerSeed,
    kendallTauBetweenStandaloneSeeds: tauSeeds,
    kendallTauInheritedVsCifar10: tauInheritedCifar,
    kendallTauStandaloneVsCifar10: tauStandaloneCifar,
    inheritedRange: [Math.min(...inherited), Math.max(...inherited)],
    standaloneRange: [Math.min(...standalone), Math.max(...standalone)],
    sample: sample.map((a, i) => ({
      arch: nb201ToString(a),
      inherited: inherited[i],
      standalone: standalone[i],
      standaloneBySeed: bySeed.map((accs) => accs[i]),
      cifar10: cifar[i],
    })),
    archs: sample.length,
    supernetTrainSeconds: summary.trainTimeMs / 1000,
    supernetSteps: summary.steps,
    supernetFinalLoss: summary.finalLoss,
    standaloneTrainSeconds: standaloneMs / 1000,
    standaloneWallSeconds: standaloneWallMs / 1000,
    standaloneSteps,
    costRatio: standaloneMs / summary.trainTimeMs,
    supernetStepMs,
    standaloneStepMs,
    stepCost: { medianRatio: stepRatio, perArch: costRows },
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
    benchSeconds: (performance.now() - benchStart) / 1000,
    tensorsLeft: tf.memory().numTensors,
  }
  const lines = [
    `Kendall tau (inherited vs stand-alone mean of ${bySeed.length} seed(s), ${sample.length} uniformly sampled nb201 archs): ${tau.toFixed(3)} (target ≥ 0.5)`,
    `  per stand-alone seed: ${tauPerSeed.map((t) => t.toFixed(3)).join(', ')}; stand-alone seed vs seed: ${tauSeeds.toFixed(3)} (mean over ${pairTaus.length} pair(s))`,
    `  accuracy: inherited mean ${mean(inherited).toFixed(3)} (${result.inheritedRange.map((v) => v.toFixed(3)).join('–')}), stand-alone mean ${mean(standalone).toFixed(3)} (${result.standaloneRange.map((v) => v.toFixed(3)).join('–')})`,
    `reference, Kendall tau against NAS-Bench-201 CIFAR-10 test accuracy: inherited ${tauInheritedCifar.toFixed(3)}, stand-alone ${tauStandaloneCifar.toFixed(3)}`,
    `cost: supernet ${result.supernetTrainSeconds.toFixed(1)} s (${summary.steps} steps, ${supernetStepMs.toFixed(0)} ms/step) vs ${sample.length} archs × ${bySeed.length} seed(s) stand-alone ${result.standaloneTrainSeconds.toFixed(1)} s of training, ${result.standaloneWallSeconds.toFixed(1)} s with evaluation (${standaloneSteps} steps, ${standaloneStepMs.toFixed(0)} ms/step) (×${result.costRatio.toFixed(2)})`,
    `step cost, same arch and batch (median over ${costRows.length} archs): supernet / stand-alone = ${stepRatio.toFixed(2)}`,
    `best found (${strategyName}, ${search.trials.length} trials): ${best?.arch} CIFAR-10 test ${bestAcc.toFixed(2)}% (rank ${better + 1} of 15625; optimum ${all[0]}%)`,
    `bench time: ${(result.benchSeconds / 60).toFixed(1)} min`,
    ...(referenceFile
      ? [`stand-alone reference (and its cost) reused from ${path.basename(referenceFile)}`]
      : []),
  ]
  log('')
  for (const l of lines) log(l)
  mkdirSync(outDir, { recursive: true })
  writeFileSync(path.join(outDir, 'supernet.json'), `${JSON.stringify(result, null, 2)}\n`)
  const md = [
    '# Supernet benchmark (nb201, Fashion-MNIST)',
    '',
    `${result.date}, backend ${sel.backend}. Command: \`${result.command}\``,
    '',
    `Settings: \`${JSON.stringify(settings)}\``,
    '',
    ...lines.map((l) => (l.startsWith('  ') ? `  - ${l.trim()}` : `- ${l}`)),
    '',
    '| # | architecture | inherited | stand-alone (mean) | CIFAR-10 (NB201) |',
    '|---|---|---|---|---|',
    ...result.sample.map(
      (s, i) =>
        `| ${i + 1} | \`${s.arch.replaceAll('|', '\\|')}\` | ${s.inherited!.toFixed(4)} | ${s.standalone!.toFixed(4)} | ${s.cifar10} |`,
    ),
    '',
  ].join('\n')
  writeFileSync(path.join(outDir, 'supernet.md'), md)
  log(`results: ${path.join(outDir, 'supernet.json')}, supernet.md`)
}

await main()
