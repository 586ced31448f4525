export { createEncoder, pathFeatureCount, MAX_AUTO_PATH_FEATURES } from './encoding'
export type { ArchEncoder, EncodingKind, SparseVector } from './encoding'
export { GaussianProcess } from './gp'
export type { GpHyper, GpKernel, GpSettings } from './gp'
export { createEnsemblePredictor, createGpPredictor, kendallTau } from './predictors'
export type {
  ArchPredictor,
  EnsemblePredictorOptions,
  GpPredictor,
  GpPredictorOptions,
  Observation,
  Prediction,
} from './predictors'
export type { EnsemblePredictor } from './predictors'
export { bananasStrategy, boStrategy } from './strategies'
import type { StrategyPlugin } from '@naskit/core'
import { bananasStrategy, boStrategy } from './strategies'
/** Every strategy of this package. */
export const strategies: StrategyPlugin[] = [
  bananasStrategy as StrategyPlugin,
  boStrategy as StrategyPlugin,
]
export default bananasStrategy
