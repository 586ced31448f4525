export {
  avgPoolInputGrad,
  conv2dFilterGrad,
  conv2dInputGrad,
  depthwiseFilterGrad,
  depthwiseInputGrad,
  maxPoolInputGrad,
} from './conv_grads.js'
export {
  registerGradientKernels,
  WASM_GRADIENT_KERNELS,
  WASM_REPLACED_KERNELS,
} from './register.js'
