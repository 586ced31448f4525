export { DEFAULT_RECIPE, tfjsEvaluator } from './evaluator.js'
export type { TfjsEvalContext, TfjsEvaluator, TfjsEvaluatorOptions } from './evaluator.js'
export { loadNetwork, saveNetwork } from './export.js'
export {
  backendMemoryLimit,
  estimateMemory,
  inferenceBatchWithin,
  inferenceBytesPerImage,
  measureFootprint,
  trainingBytesPerImage,
  WASM_MEMORY_MAXIMUM,
} from './memory.js'
export type { MemoryEstimate, MemoryEstimateOptions, NetworkFootprint } from './memory.js'
export type { NaskitTopology, SavedModelInfo } from './export.js'
export {
  Adam,
  clipByGlobalNorm,
  cosineLearningRate,
  disposeOptimizer,
  MomentumSgd,
  withWeightDecay,
} from './optim.js'
export type { AdamOptions, MomentumSgdOptions } from './optim.js'
export { evaluateAccuracy, measureLatency, trainNetwork, yieldToEventLoop } from './trainer.js'
export type { OptimizerName, Trainable, TrainOptions, TrainResult } from './trainer.js'
