import { builtInKind, type InferOptions, option, type SearchSpace } from '@naskit/core'

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
export const REMEDY_NAMES = ['darts-pt', 'gdas', 'beta-decay', 'none'] as const

/** One of {@link REMEDY_NAMES}. */
export type DartsRemedy = (typeof REMEDY_NAMES)[number]

/**
 * The settings of a DARTS search: each with its default, bounds and description, written
 * once. `dartsSearch` fills in missing settings from this table, and the plugin's options
 * schema is this table plus the options a host decides (dataset, backend).
 */
export const searchSettings = {
  epochs: option.int({
    description: 'Search epochs (a budget.epochs overrides it).',
    default: 50,
    min: 1,
  }),
  batchSize: option.int({ description: 'Images per step for each half.', default: 64, min: 1 }),
  trainSize: option.int({
    description: 'Training images used, split into a weight half and an architecture half.',
    default: 10000,
    min: 4,
  }),
  resolution: option.int({
    description: 'Images are resized to resolution × resolution (0 keeps their size).',
    default: 16,
    min: 0,
  }),
  channels: option.int({ description: 'Supernet channels C.', default: 16, min: 1 }),
  layers: option.int({
    description: 'nb201: cells per stage N; darts: number of cells (0: 5 for nb201, 8 for darts).',
    default: 0,
    min: 0,
  }),
  order: option.enum(['first', 'second'], {
    description:
      'first: alpha gradient at the current weights; second: unrolled step with a finite-difference Hessian-vector product.',
    default: 'first',
  }),
  remedy: option.enum(REMEDY_NAMES, {
    description:
      'Anti-collapse remedy: darts-pt (perturbation-based selection), gdas (Gumbel-max sampling, straight-through), beta-decay (β-DARTS regularisation) or none (plain DARTS).',
    default: 'darts-pt',
  }),
  lr: option.number({
    description: 'Weights: initial SGD learning rate.',
    default: 0.025,
    min: 0,
  }),
  lrMin: option.number({
    description: 'Weights: final cosine learning rate.',
    default: 0.001,
    min: 0,
  }),
  momentum: option.number({ description: 'Weights: SGD momentum.', default: 0.9, min: 0, max: 1 }),
  weightDecay: option.number({ description: 'Weights: L2 weight decay.', default: 3e-4, min: 0 }),
  gradClip: option.number({
    description: 'Weights: global gradient-norm clip (0: off).',
    default: 5,
    min: 0,
  }),
  archLr: option.number({
    description: 'Architecture: Adam learning rate.',
    default: 3e-4,
    min: 0,
  }),
  archBeta1: option.number({
    description: 'Architecture: Adam beta1.',
    default: 0.5,
    min: 0,
    max: 1,
  }),
  archBeta2: option.number({
    description: 'Architecture: Adam beta2.',
    default: 0.999,
    min: 0,
    max: 1,
  }),
  archWeightDecay: option.number({
    description: 'Architecture: L2 weight decay.',
    default: 1e-3,
    min: 0,
  }),
  tauMax: option.number({
    description: 'gdas: initial Gumbel-softmax temperature.',
    default: 10,
    min: 0,
  }),
  tauMin: option.number({ description: 'gdas: final temperature.', default: 0.1, min: 0 }),
  betaDecay: option.number({
    description: 'beta-decay: regularisation weight reached at the last epoch.',
    default: 5,
    min: 0,
  }),
  ptEvalImages: option.int({
    description:
      'darts-pt: validation images each perturbation is scored on (0: the whole architecture half).',
    default: 512,
    min: 0,
  }),
  ptTuneSteps: option.int({
    description: 'darts-pt: weight steps after each edge decision.',
    default: 10,
    min: 0,
  }),
  ptCriterion: option.enum(['accuracy', 'loss'], {
    description:
      'darts-pt: rank candidates by the validation accuracy (accuracy) or loss (loss) their removal costs.',
    default: 'accuracy',
  }),
}

/** The settings of a DARTS search (see {@link searchSettings} for each one and its default). */
export type DartsSettings = InferOptions<typeof searchSettings>

/** A search's settings with every default filled in. */
export type ResolvedSettings = DartsSettings & {
  space: SearchSpace
  seed: number
  /** Stop after the epoch during which this much wall time has passed. */
  timeMs: number
}

/** The defaults `dartsSearch` fills in, from {@link searchSettings}. */
export function resolveOptions(
  o: Partial<DartsSettings> & { space: SearchSpace; seed?: number; timeMs?: number },
): ResolvedSettings {
  const given = o as Record<string, unknown>
  const settings: Record<string, unknown> = {}
  for (const [name, spec] of Object.entries(searchSettings))
    settings[name] = given[name] ?? spec.default
  const r = settings as DartsSettings
  return {
    ...r,
    layers: r.layers > 0 ? r.layers : builtInKind(o.space) === 'darts' ? 8 : 5,
    space: o.space,
    seed: o.seed ?? 0,
    timeMs: o.timeMs ?? Number.POSITIVE_INFINITY,
  }
}
