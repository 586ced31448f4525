export { addMacs, countMacs, heNormal, initContext, Module, uniform } from './module.js'
export type { InitContext, NamedVariable } from './module.js'
export {
  Attention,
  createOp,
  DilConv,
  FactorizedReduce,
  OP_NAMES,
  Pool,
  ReLUConvBN,
  SepConv,
  Skip,
  Zero,
} from './ops.js'
export type { OpName, OpSpec } from './ops.js'
export {
  avgPoolExcludePad,
  avgPoolSameExcludePad,
  BatchNorm,
  batchNorms,
  Conv2d,
  DepthwiseConv2d,
  Linear,
  maxPoolSymmetric,
  recalibrateBatchNorms,
  subsample,
} from './primitives.js'
export type { BatchNormOptions } from './primitives.js'
