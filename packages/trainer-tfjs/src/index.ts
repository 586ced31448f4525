export {
  AUTO_ORDER,
  BACKEND_CHOICES,
  defaultLoaders,
  requestedBackend,
  selectBackend,
} from './backend.js'
export type {
  BackendChoice,
  BackendLoader,
  BackendSelection,
  ConcreteBackend,
  SelectBackendOptions,
} from './backend.js'
export {
  batches,
  computeStats,
  datasetFromArrays,
  loadFashionMnist,
  loadMnist,
  parseIdx,
  splitDataset,
} from './data/index.js'
export type {
  ArrayDatasetInput,
  Batch,
  BatchOptions,
  Dataset,
  SplitView,
  ImageSet,
  SplitOptions,
  Splits,
} from './data/index.js'
export { hasErrorCode, NaskitError } from './errors.js'
export type { TrainerErrorCode } from './errors.js'
export {
  conv2dFilterGrad,
  conv2dInputGrad,
  depthwiseFilterGrad,
  depthwiseInputGrad,
  maxPoolInputGrad,
  registerGradientKernels,
  WASM_GRADIENT_KERNELS,
  WASM_REPLACED_KERNELS,
} from './kernels/index.js'
export {
  buildNetwork,
  CHAIN_OPS,
  ChainNetwork,
  DARTS_OPS,
  DartsCell,
  DartsNetwork,
  globalAvgPool,
  inferSpace,
  NasnetBlock,
  NasnetNetwork,
  NB201_OPS,
  Nb201Cell,
  Nb201Network,
  Network,
  ResidualReduction,
  Stem,
  validateChain,
  validateDarts,
  validateDartsCell,
  validateNasnet,
  validateNb201,
} from './models/index.js'
export type {
  BuildOptions,
  ChainArch,
  ChainOptions,
  DartsArch,
  DartsCellGenotype,
  DartsEdgeFactory,
  DartsOptions,
  EdgeFactory,
  NasnetArch,
  NasnetOptions,
  Nb201Arch,
  Nb201Op,
  Nb201Options,
  SpaceName,
} from './models/index.js'
export {
  addMacs,
  Attention,
  avgPoolExcludePad,
  BatchNorm,
  Conv2d,
  countMacs,
  createOp,
  DepthwiseConv2d,
  DilConv,
  FactorizedReduce,
  heNormal,
  initContext,
  Linear,
  Module,
  OP_NAMES,
  Pool,
  ReLUConvBN,
  SepConv,
  Skip,
  subsample,
  uniform,
  Zero,
} from './ops/index.js'
export type { BatchNormOptions, InitContext, NamedVariable, OpName, OpSpec } from './ops/index.js'
export { createRng, shuffleInPlace } from './rng.js'
export type { Rng } from './rng.js'
export {
  cosineLearningRate,
  disposeOptimizer,
  evaluateAccuracy,
  loadNetwork,
  measureLatency,
  saveNetwork,
  tfjsEvaluator,
  trainNetwork,
} from './train/index.js'
export type {
  EvalContext,
  Evaluator,
  Metrics,
  NaskitTopology,
  OptimizerName,
  SavedModelInfo,
  TfjsEvaluatorOptions,
  Trainable,
  TrainOptions,
  TrainResult,
} from './train/index.js'
export { evaluators } from './plugins.js'
