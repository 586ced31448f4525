/**
 * The one place this package imports the trainer's op library, models, data and optimisation
 * tools from, so that every op of the supernet and every update rule is the trainer's own (no
 * second copy).
 */
export {
  Adam,
  batches,
  clipByGlobalNorm,
  cosineLearningRate,
  createOp,
  DartsNetwork,
  initContext,
  loadFashionMnist,
  loadMnist,
  MomentumSgd,
  Module,
  Nb201Network,
  selectBackend,
  splitDataset,
  withWeightDecay,
  yieldToEventLoop,
} from '@naskit/trainer-tfjs'
export type {
  BackendChoice,
  Dataset,
  InitContext,
  Network,
  SplitView,
} from '@naskit/trainer-tfjs'
