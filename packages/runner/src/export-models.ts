import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve as resolvePath } from 'node:path'
import {
  type ExportedModel,
  type Logger,
  NaskitError,
  type Progress,
  Rng,
  SearchSpace,
} from '@naskit/core'
import { createEvaluator, evaluatorSeed, trialRngState } from './evaluate'
import { loadEvaluator } from './plugins'
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
  log?: Logger
  onProgress?(trialId: number, p: Progress): void
  signal?: AbortSignal
}

/** One exported trial. */
export interface ExportedTrial extends ExportedModel {
  trialId: number
  rank: number
  /** The objective the search recorded for this trial. */
  searchObjective: number | null
}

/**
 * Exports the best trials of an experiment as trained models: the experiment's evaluator is
 * created again from its stored configuration and asked (`exportModel`) to train each
 * architecture with the trial's own seed stream, as the search did, and save the model.
 * Writes `<outDir>/trial-<id>/…` and `<outDir>/export.json`.
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
  if (config.evaluator.spec === null) {
    throw new NaskitError(
      'E_BAD_OPTIONS',
      `The experiment's evaluator ("${config.evaluator.name}") was given as an object, so it cannot be loaded again to export models; export from code with the evaluator's own API.`,
    )
  }
  const ranked = rankTrials(data.trials).slice(0, top)
  if (ranked.length === 0)
    throw new NaskitError('E_NO_TRIALS', `${data.dir} has no successful trial to export.`)
  const loaded = await loadEvaluator(config.evaluator.spec, opts.baseDir ?? process.cwd())
  const space = SearchSpace.fromJSON(config.space)
  const log = opts.log ?? { info() {}, warn() {} }
  const evaluator = await createEvaluator(loaded.plugin, {
    options: config.evaluator.options,
    space,
    seed: evaluatorSeed(config.seed, 0),
    log,
  })
  const outDir = resolvePath(opts.outDir ?? join(data.dir, 'models'))
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
      models.push({
        ...exported,
        trialId: trial.id,
        rank: i + 1,
        searchObjective: trial.objective,
      })
    }
    writeFileSync(
      join(outDir, 'export.json'),
      `${JSON.stringify(
        {
          experiment: data.dir,
          evaluator: { name: config.evaluator.name, options: config.evaluator.options },
          space: config.space.name,
          models: models.map((m) => ({
            rank: m.rank,
            trialId: m.trialId,
            searchObjective: m.searchObjective,
            format: m.format,
            dir: m.dir,
            files: m.files,
            metrics: m.metrics,
          })),
        },
        null,
        2,
      )}\n`,
    )
    return { outDir, models }
  } finally {
    await evaluator.dispose?.()
  }
}
