import { defineStrategy, option, type Rng, type SamplingStrategy } from '@naskit/core'
import { argmax, expectedImprovement, thompsonSample, upperConfidenceBound } from './acquisition'
import { type SparseVector, squaredDistance } from './encoding'
import { type CandidateOptions, createModelStrategy, type Model } from './engine'
import { createEnsemblePredictor, createGpPredictor } from './predictors'

const ACQUISITIONS = ['its', 'ucb', 'ei'] as const
type Acquisition = (typeof ACQUISITIONS)[number]

/** The options both strategies share, with each strategy's defaults. */
const candidateOptions = (defaults: {
  initialSamples: number
  encoding: 'auto' | 'onehot' | 'path'
  transform: 'none' | 'rank' | 'log'
}) => ({
  initialSamples: option.int({
    default: defaults.initialSamples,
    min: 1,
    description: 'Random architectures asked before the model is used.',
  }),
  parents: option.int({
    default: 10,
    min: 1,
    description:
      'The best architectures so far whose neighbours (every one-decision change) become candidates.',
  }),
  farMutations: option.int({
    default: 5,
    min: 0,
    description: 'Two-decision mutations of each parent added to the candidates.',
  }),
  randomCandidates: option.int({
    default: 100,
    min: 0,
    description: 'Random architectures added to the candidates.',
  }),
  modelClimbs: option.int({
    default: 0,
    min: 0,
    description:
      'Hill climbs on the model’s predicted mean from random architectures; their end points and neighbours join the candidates.',
  }),
  maxNeighbours: option.int({
    default: 64,
    min: 1,
    description:
      'A parent with more neighbours than this contributes this many random one-decision mutations instead.',
  }),
  transform: option.enum(['none', 'rank', 'log'], {
    default: defaults.transform,
    description:
      'How objectives are reshaped before the fit: none; rank (normal scores of the ranks); log (−log(max − y + s), spreading the values near the top).',
  }),
  encoding: option.enum(['auto', 'onehot', 'path'] as ('auto' | 'onehot' | 'path')[], {
    default: defaults.encoding,
    description:
      'Input of the model: space.encode() (onehot), plus the input-to-output paths of each cell (path); auto takes path for cell spaces with at most 512 path features.',
  }),
})

function candidateSettings(o: {
  initialSamples: number
  parents: number
  farMutations: number
  randomCandidates: number
  maxNeighbours: number
  transform: 'none' | 'rank' | 'log'
  modelClimbs: number
}): CandidateOptions {
  return {
    initialSamples: o.initialSamples,
    parents: o.parents,
    farMutations: o.farMutations,
    randomCandidates: o.randomCandidates,
    maxNeighbours: o.maxNeighbours,
    transform: o.transform,
    modelClimbs: o.modelClimbs,
  }
}

/** Acquisition values of the candidates for one pick. */
function acquire(
  kind: Acquisition,
  mean: Float64Array,
  std: Float64Array,
  rng: Rng,
  incumbent: number,
  kappa: number,
): Float64Array {
  const out = new Float64Array(mean.length)
  for (let i = 0; i < mean.length; i++) {
    const m = mean[i] as number
    const s = std[i] as number
    out[i] =
      kind === 'its'
        ? thompsonSample(m, s, rng)
        : kind === 'ucb'
          ? upperConfidenceBound(m, s, kappa)
          : expectedImprovement(m, s, incumbent)
  }
  return out
}

/**
 * The uncertainty left to each candidate once the pending architectures are evaluated, as a
 * factor in (0, 1]: close to 0 next to a pending architecture, 1 far from all of them. The
 * length scale is the typical distance of a candidate to its nearest pending one.
 */
function pendingDiscount(
  candidates: readonly SparseVector[],
  pending: readonly SparseVector[],
): Float64Array {
  const out = new Float64Array(candidates.length).fill(1)
  if (pending.length === 0) return out
  const nearest = new Float64Array(candidates.length)
  for (let i = 0; i < candidates.length; i++) {
    let d = Number.POSITIVE_INFINITY
    for (const p of pending) d = Math.min(d, squaredDistance(candidates[i] as SparseVector, p))
    nearest[i] = d
  }
  const sorted = Float64Array.from(nearest).sort()
  const scale = Math.max(1e-9, sorted[sorted.length >> 1] as number)
  for (let i = 0; i < candidates.length; i++)
    out[i] = Math.sqrt(1 - Math.exp(-(nearest[i] as number) / scale))
  return out
}

/**
 * BANANAS (White et al. 2021): an ensemble of small neural networks predicts the objective
 * with an uncertainty; each proposal maximises an acquisition function (independent Thompson
 * sampling by default) over candidates made by mutating the best architectures, plus random
 * ones.
 */
export const bananasStrategy = defineStrategy({
  name: 'bananas',
  kind: 'sampling',
  description:
    'BANANAS: an ensemble of neural predictors with Thompson sampling over mutations of the best architectures (White et al. 2021).',
  options: {
    ...candidateOptions({ initialSamples: 20, encoding: 'onehot', transform: 'log' }),
    acquisition: option.enum(ACQUISITIONS, {
      default: 'its',
      description:
        'its: independent Thompson sampling (a draw per candidate from the ensemble’s mean and spread); ucb: mean + kappa × spread; ei: expected improvement.',
    }),
    kappa: option.number({
      default: 2,
      min: 0,
      description: 'Weight of the uncertainty in the ucb acquisition.',
    }),
    networks: option.int({
      default: 5,
      min: 2,
      description: 'Networks in the ensemble; their spread is the uncertainty.',
    }),
    width: option.int({ default: 20, min: 1, description: 'Units per hidden layer.' }),
    layers: option.int({ default: 1, min: 1, max: 4, description: 'Hidden layers (ReLU).' }),
    epochs: option.int({
      default: 80,
      min: 1,
      description: 'Full-batch Adam steps per network and fit.',
    }),
    learningRate: option.number({ default: 0.02, min: 0, description: 'Adam learning rate.' }),
    weightDecay: option.number({
      default: 0.0001,
      min: 0,
      description: 'L2 penalty on the weights.',
    }),
    bootstrap: option.boolean({
      default: false,
      description: 'Train each network on a bootstrap resample of the trials (bagging).',
    }),
  },
  create({ space, rng, options: o }): SamplingStrategy {
    const predictor = createEnsemblePredictor(space, {
      networks: o.networks,
      hidden: Array.from({ length: o.layers }, () => o.width),
      epochs: o.epochs,
      learningRate: o.learningRate,
      weightDecay: o.weightDecay,
      encoding: o.encoding,
      bootstrap: o.bootstrap,
    })
    const model: Model = {
      fit(x, y, _pending, seed) {
        predictor.seed = seed
        predictor.fitEncoded(x, y)
      },
      mean: (x) => predictor.predictEncoded(x).mean,
      select(candidates, n, rng, incumbent, pending) {
        const { mean, std } = predictor.predictEncoded(candidates)
        const picked = new Set<number>()
        const order: number[] = []
        const chosen = [...pending]
        for (let k = 0; k < n && picked.size < candidates.length; k++) {
          const discount = pendingDiscount(candidates, chosen)
          const s = std.map((v, i) => v * (discount[i] as number))
          const best = argmax(acquire(o.acquisition, mean, s, rng, incumbent, o.kappa), picked)
          if (best < 0) break
          picked.add(best)
          order.push(best)
          chosen.push(candidates[best] as SparseVector)
        }
        return order
      },
    }
    return createModelStrategy({
      name: 'bananas',
      space,
      rng,
      encoder: predictor.encoder,
      candidates: candidateSettings(o),
      model,
    })
  },
})

/**
 * Bayesian optimisation with a Gaussian process: a Matérn-5/2 kernel of the distance between
 * encodings, hyper-parameters by marginal likelihood, expected improvement over candidates made
 * by mutating the best architectures, plus random ones. Pending architectures are fantasised
 * at the posterior mean (kriging believer), so a batch spreads out.
 */
export const boStrategy = defineStrategy({
  name: 'bo',
  kind: 'sampling',
  description:
    'Gaussian-process Bayesian optimisation: Matérn kernel over the encoding, expected improvement, kriging believer for parallel asks.',
  options: {
    ...candidateOptions({ initialSamples: 20, encoding: 'onehot', transform: 'log' }),
    acquisition: option.enum(ACQUISITIONS, {
      default: 'ei',
      description:
        'ei: expected improvement; ucb: mean + kappa × std; its: a posterior draw per candidate.',
    }),
    kappa: option.number({
      default: 2,
      min: 0,
      description: 'Weight of the uncertainty in the ucb acquisition.',
    }),
    kernel: option.enum(['matern52', 'rbf', 'exponential'], {
      default: 'matern52',
      description: 'Kernel, a function of the distance between encodings.',
    }),
    quadratic: option.boolean({
      default: false,
      description:
        'Mix a quadratic kernel (additive effects and pairwise interactions of the encoding) into the kernel, its weight chosen by the marginal likelihood.',
    }),
  },
  create({ space, rng, options: o }): SamplingStrategy {
    const predictor = createGpPredictor(space, {
      kernel: o.kernel,
      encoding: o.encoding,
      mixes: o.quadratic ? [0, 0.25, 0.5, 0.75, 1] : [0],
    })
    const gp = predictor.process
    const model: Model = {
      mean: (x) => gp.predict(x).mean,
      fit(x, y, pending) {
        predictor.fitEncoded(x, y)
        if (pending.length === 0) return
        const { mean } = gp.predict(pending)
        pending.forEach((p, i) => {
          gp.add(p, mean[i] as number)
        })
      },
      select(candidates, n, rng, incumbent) {
        const picked = new Set<number>()
        const order: number[] = []
        for (let k = 0; k < n && picked.size < candidates.length; k++) {
          const { mean, std } = gp.predict(candidates)
          const best = argmax(acquire(o.acquisition, mean, std, rng, incumbent, o.kappa), picked)
          if (best < 0) break
          picked.add(best)
          order.push(best)
          // kriging believer: the pick's outcome is taken to be its posterior mean
          if (k + 1 < n) gp.add(candidates[best] as SparseVector, mean[best] as number)
        }
        return order
      },
    }
    return createModelStrategy({
      name: 'bo',
      space,
      rng,
      encoder: predictor.encoder,
      candidates: candidateSettings(o),
      model,
    })
  },
})
