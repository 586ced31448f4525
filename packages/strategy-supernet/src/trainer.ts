/**
 * The pieces of @naskit/trainer-tfjs this package builds on, in one place: the op library,
 * the model builders, datasets, the training helpers and backend selection.
 */
export {
  BatchNorm,
  batches,
  buildNetwork,
  cosineLearningRate,
  createOp,
  createRng as createDataRng,
  datasetFromArrays,
  evaluateAccuracy,
  FactorizedReduce,
  globalAvgPool,
  initContext,
  Linear,
  loadFashionMnist,
  loadMnist,
  Module,
  Nb201Network,
  selectBackend,
  splitDataset,
  Stem,
  trainNetwork,
} from '@naskit/trainer-tfjs'
export type {
  BackendChoice,
  BuildOptions,
  Dataset,
  EdgeFactory,
  InitContext,
  NamedVariable,
  Network,
  Splits,
  SplitView,
} from '@naskit/trainer-tfjs'
