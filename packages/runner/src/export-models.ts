import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve as resolvePath } from 'node:path'
import {
  type Evaluator,
  type ExportedModel,
  type JsonObject,
  type Logger,
  type Metrics,
  NaskitError,
  type Progress,
  Rng,
  SearchSpace,
  validateOptions,
} from '@naskit/core'
import { createEvaluator, evaluatorSeed, trialRngState } from './evaluate'
import { runnerVersion } from './modules'
import { loadEvaluator, pluginVersion } from './plugins'
import { rankTrials, readExperiment } from './report'

/** Options of {@link exportModels}. */
export interface ExportModelsOptions {
  /** The model format, e.g. `tfjs`. */
  format: string
  /** Number of best trials to export. @default 1 */
  top?: number
  /** Output folder. @default `<experiment>/models` */
  outDir?: string
  /** Where the evaluator's name resolves from. @default process.cwd() */
  baseDir?: string
  /**
   * The evaluator to train and save the models with, for an experiment whose evaluator was
   * given as an object (which cannot be created again from the stored configuration). It must
   * be the one the search used, with `exportModel`. @default the experiment's own, created again
   */
  evaluator?: Evaluator
  log?: Logger
  onProgress?(trialId: number, p: Progress): void
  signal?: AbortSignal
}

/**
 * The model card written next to each exported model (`<dir>/export.json`) and listed in the
 * index: what the model takes and returns, how good it is, and where it comes from.
 */
export interface ModelCard {
  /** Version of `@naskit/runner` that exported it. */
  naskitVersion: string | null
  format: string
  /** The model file in `dir` (`model.json` for TensorFlow.js), or null. */
  model: string | null
  files: string[]
  /** Class names in label order, when the model records them. */
  classes: string[] | null
  /** Shape of one input image, [height, width, channels], when the model records it. */
  inputShape: number[] | null
  /**
   * What the model does to its input before the network (raw pixels: scale, per-channel
   * mean and std, resize), when the model records it.
   */
  input: JsonObject | null
  /** What the model outputs (`logits` for the TensorFlow.js evaluators), when recorded. */
  output: string | null
  metrics: Metrics
  params: number | null
  flops: number | null
  latency_ms: number | null
  space: string
  architecture: unknown
  evaluator: { name: string; version: string | null; options: JsonObject }
  trial: { id: number; rank: number; searchObjective: number | null }
  experiment: string
}

/** One exported trial. */
export interface ExportedTrial extends ExportedModel {
  trialId: number
  rank: number
  /** The objective the search recorded for this trial. */
  searchObjective: number | null
  card: ModelCard
}

const numberOrNull = (v: unknown): number | null =>
  typeof v === 'number' && Number.isFinite(v) ? v : null

/** What a TensorFlow.js `model.json` written by naskit records about its input and output. */
function modelFacts(
  dir: string,
  files: string[],
): Pick<ModelCard, 'model' | 'classes' | 'inputShape' | 'input' | 'output'> {
  const none = { model: null, classes: null, inputShape: null, input: null, output: null }
  if (!files.includes('model.json') || !existsSync(join(dir, 'model.json'))) return none
  let meta: Record<string, unknown> | undefined
  try {
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'))
    meta = json?.userDefinedMetadata?.naskit
  } catch {
    return { ...none, model: 'model.json' }
  }
  if (meta === undefined || meta === null || typeof meta !== 'object') {
    return { ...none, model: 'model.json' }
  }
  const strings = (v: unknown) =>
    Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : null
  const numbers = (v: unknown) =>
    Array.isArray(v) && v.every((s) => typeof s === 'number') ? (v as number[]) : null
  return {
    model: 'model.json',
    classes: strings(meta.classes),
    inputShape: numbers(meta.inputShape),
    input:
      meta.input !== null && typeof meta.input === 'object' ? (meta.input as JsonObject) : null,
    output: typeof meta.output === 'string' ? meta.output : null,
  }
}

/**
 * Exports the best trials of an experiment as trained models: the experiment's evaluator is
 * created again from its stored configuration (or `opts.evaluator` is used) and asked
 * (`exportModel`) to train each architecture with the trial's own seed stream, as the search
 * did, and save the model. Writes `<outDir>/trial-<id>/…` with a model card
 * `<outDir>/trial-<id>/export.json`, and the index `<outDir>/export.json` of all of them.
 */
export async function exportModels(
  dir: string,
  opts: ExportModelsOptions,
): Promise<{ outDir: string; models: ExportedTrial[] }> {
  const top = opts.top ?? 1
  if (!Number.isInteger(top) || top < 1)
    throw new NaskitError('E_BAD_OPTIONS', `--top must be a positive integer, got ${top}.`)
  const data = readExperiment(dir)
  const config = data.config
  if (!config)
    throw new NaskitError('E_NO_EXPERIMENT', `${data.dir} holds no experiment configuration yet.`)
  if (config.evaluator.spec === null && opts.evaluator === undefined) {
    throw new NaskitError(
      'E_BAD_OPTIONS',
      `The experiment's evaluator ("${config.evaluator.name}") was given as an object, so it cannot be loaded again to export models; pass the same evaluator to exportModels(dir, { format, evaluator }).`,
    )
  }
  const ranked = rankTrials(data.trials).slice(0, top)
  if (ranked.length === 0)
    throw new NaskitError('E_NO_TRIALS', `${data.dir} has no successful trial to export.`)
  const space = SearchSpace.fromJSON(config.space)
  const log = opts.log ?? { info() {}, warn() {} }
  let evaluator: Evaluator
  let evaluatorInfo: ModelCard['evaluator']
  if (opts.evaluator !== undefined) {
    evaluator = opts.evaluator
    evaluatorInfo = {
      name: config.evaluator.name,
      version: null,
      options: config.evaluator.options,
    }
  } else {
    const loaded = await loadEvaluator(
      config.evaluator.spec as string,
      opts.baseDir ?? process.cwd(),
    )
    evaluator = await createEvaluator(loaded.plugin, {
      options: config.evaluator.options,
      space,
      seed: evaluatorSeed(config.seed, 0),
      log,
    })
    evaluatorInfo = {
      name: config.evaluator.name,
      version: pluginVersion(loaded),
      // with the defaults filled in: the options the models were trained with
      options: validateOptions(
        loaded.plugin.options,
        config.evaluator.options,
        `options of evaluator "${loaded.plugin.name}"`,
      ) as JsonObject,
    }
  }
  const outDir = resolvePath(opts.outDir ?? join(data.dir, 'models'))
  const naskitVersion = runnerVersion() ?? null
  try {
    if (typeof evaluator.exportModel !== 'function') {
      throw new NaskitError(
        'E_BAD_OPTIONS',
        `Evaluator "${config.evaluator.name}" cannot export trained models (it has no exportModel); export architectures with --format json or csv.`,
      )
    }
    const models: ExportedTrial[] = []
    for (const [i, trial] of ranked.entries()) {
      const rng = Rng.fromState(trialRngState(config.seed, trial.id))
      const target = join(outDir, `trial-${trial.id}`)
      mkdirSync(target, { recursive: true })
      const exported = await evaluator.exportModel(trial.arch, {
        trialId: trial.id,
        seed: rng.seed(),
        rng,
        space,
        signal: opts.signal ?? new AbortController().signal,
        progress: (p) => opts.onProgress?.(trial.id, p),
        ...(trial.fidelity ? { fidelity: trial.fidelity } : {}),
        dir: target,
        format: opts.format,
      })
      const files = [...exported.files.filter((f) => f !== 'export.json'), 'export.json']
      const card: ModelCard = {
        naskitVersion,
        format: exported.format,
        ...modelFacts(exported.dir, exported.files),
        files,
        metrics: exported.metrics,
        params: numberOrNull(exported.metrics.params),
        flops: numberOrNull(exported.metrics.flops),
        latency_ms: numberOrNull(exported.metrics.latency_ms),
        space: config.space.name,
        architecture: trial.arch,
        evaluator: evaluatorInfo,
        trial: { id: trial.id, rank: i + 1, searchObjective: trial.objective },
        experiment: data.dir,
      }
      writeFileSync(join(exported.dir, 'export.json'), `${JSON.stringify(card, null, 2)}\n`)
      models.push({
        ...exported,
        files,
        trialId: trial.id,
        rank: i + 1,
        searchObjective: trial.objective,
        card,
      })
    }
    writeFileSync(
      join(outDir, 'export.json'),
      `${JSON.stringify(
        {
          naskitVersion,
          experiment: data.dir,
          evaluator: evaluatorInfo,
          space: config.space.name,
          models: models.map((m) => ({
            rank: m.rank,
            trialId: m.trialId,
            searchObjective: m.searchObjective,
            dir: m.dir,
            ...m.card,
          })),
        },
        null,
        2,
      )}\n`,
    )
    return { outDir, models }
  } finally {
    if (opts.evaluator === undefined) await evaluator.dispose?.()
  }
}
