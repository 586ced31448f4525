export { tfjsEvaluator } from './evaluator.js'
export type { EvalContext, Evaluator, Metrics, TfjsEvaluatorOptions } from './evaluator.js'
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
  cosineLearningRate,
  disposeOptimizer,
  evaluateAccuracy,
  measureLatency,
  trainNetwork,
} from './trainer.js'
export type { OptimizerName, Trainable, TrainOptions, TrainResult } from './trainer.js'
