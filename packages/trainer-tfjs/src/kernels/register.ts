import * as tf from '@tensorflow/tfjs'
import {
  avgPoolInputGrad,
  conv2dFilterGrad,
  conv2dInputGrad,
  depthwiseFilterGrad,
  depthwiseInputGrad,
  maxPoolInputGrad,
  type PadArg,
} from './conv_grads.js'

/** Kernels that the wasm backend lacks and that this package supplies. */
export const WASM_GRADIENT_KERNELS = [
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
] as const

type Rounding = 'floor' | 'round' | 'ceil' | undefined

interface ConvAttrs {
  strides: number | number[]
  pad: PadArg
  dilations?: number | number[]
  dimRoundingMode?: Rounding
  dataFormat?: string
  filterShape?: [number, number, number, number]
  inputShape?: [number, number, number, number]
}

/** Runs `fn` on real tensors for the kernel inputs (the engine passes tensors already). */
function withTensors<T>(infos: tf.TensorInfo[], backend: unknown, fn: (ts: tf.Tensor4D[]) => T): T {
  const owned: tf.Tensor[] = []
  const ts = infos.map((info) => {
    if (info instanceof tf.Tensor) return info as tf.Tensor4D
    const b = backend as tf.KernelBackend
    b.incRef(info.dataId)
    const t = tf.engine().makeTensorFromDataId(info.dataId, info.shape, info.dtype, b)
    owned.push(t)
    return t as tf.Tensor4D
  })
  try {
    return fn(ts)
  } finally {
    for (const t of owned) t.dispose()
  }
}

function checkFormat(kernel: string, attrs: ConvAttrs) {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new Error(`${kernel} (naskit wasm kernel) supports only NHWC, got ${attrs.dataFormat}`)
  }
}

const conv2DBackpropFilter: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const a = attrs as unknown as ConvAttrs
  checkFormat('Conv2DBackpropFilter', a)
  return withTensors([inputs.x!, inputs.dy!], backend, ([x, dy]) =>
    conv2dFilterGrad(x!, dy!, a.filterShape!, a.strides, a.pad, a.dilations, a.dimRoundingMode),
  )
}

const depthwiseBackpropInput: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const a = attrs as unknown as ConvAttrs
  return withTensors([inputs.dy!, inputs.filter!], backend, ([dy, filter]) =>
    depthwiseInputGrad(
      a.inputShape!,
      dy!,
      filter!,
      a.strides,
      a.pad,
      a.dilations,
      a.dimRoundingMode,
    ),
  )
}

const depthwiseBackpropFilter: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const a = attrs as unknown as ConvAttrs
  return withTensors([inputs.x!, inputs.dy!], backend, ([x, dy]) =>
    depthwiseFilterGrad(x!, dy!, a.filterShape!, a.strides, a.pad, a.dilations, a.dimRoundingMode),
  )
}

interface PoolAttrs {
  filterSize: number | number[]
  strides: number | number[]
  pad: PadArg
  dimRoundingMode?: Rounding
}

const conv2DBackpropInput: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const a = attrs as unknown as ConvAttrs
  checkFormat('Conv2DBackpropInput', a)
  return withTensors([inputs.dy!, inputs.filter!], backend, ([dy, filter]) =>
    conv2dInputGrad(a.inputShape!, dy!, filter!, a.strides, a.pad, a.dilations, a.dimRoundingMode),
  )
}

const maxPoolGrad: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const a = attrs as unknown as PoolAttrs
  return withTensors([inputs.dy!, inputs.input!, inputs.output!], backend, ([dy, x, y]) =>
    maxPoolInputGrad(dy!, x!, y!, a.filterSize, a.strides, a.pad, a.dimRoundingMode),
  )
}

const avgPoolGrad: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const a = attrs as unknown as PoolAttrs
  return withTensors([inputs.dy!, inputs.input!], backend, ([dy, x]) =>
    avgPoolInputGrad(dy!, x!.shape, a.filterSize, a.strides, a.pad, a.dimRoundingMode),
  )
}

/**
 * Kernels the wasm backend has but that are replaced: tfjs-backend-wasm 4.22's MaxPoolGrad
 * routes gradients to the wrong cells for many shapes (checked against the cpu backend and
 * a direct computation), its Conv2DBackpropInput is about 10× slower than the forward
 * convolution it can be written as, and its AvgPoolGrad is 3–5× slower than the transposed
 * depthwise convolution it is.
 */
export const WASM_REPLACED_KERNELS = ['MaxPoolGrad', 'Conv2DBackpropInput', 'AvgPoolGrad'] as const

const REPLACEMENTS: Record<(typeof WASM_REPLACED_KERNELS)[number], tf.KernelFunc> = {
  MaxPoolGrad: (args) => maxPoolGrad(args),
  Conv2DBackpropInput: (args) => conv2DBackpropInput(args),
  AvgPoolGrad: (args) => avgPoolGrad(args),
}

const KERNEL_FUNCS: Record<(typeof WASM_GRADIENT_KERNELS)[number], tf.KernelFunc> = {
  Conv2DBackpropFilter: conv2DBackpropFilter,
  DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInput,
  DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilter,
}

/**
 * Registers the three convolution gradient kernels for a backend that lacks them (by default
 * `wasm`). Kernels the backend already has are left alone; on wasm the faulty MaxPoolGrad
 * is replaced too. Returns the names registered.
 * Safe to call more than once.
 */
export function registerGradientKernels(backendName = 'wasm'): string[] {
  const added: string[] = []
  for (const name of WASM_GRADIENT_KERNELS) {
    if (tf.getKernel(name, backendName) !== undefined) continue
    tf.registerKernel({ kernelName: name, backendName, kernelFunc: KERNEL_FUNCS[name] })
    added.push(name)
  }
  if (backendName === 'wasm') {
    for (const name of WASM_REPLACED_KERNELS) {
      const fn = REPLACEMENTS[name]
      const current = tf.getKernel(name, 'wasm')
      if (current?.kernelFunc === fn) continue
      if (current !== undefined) tf.unregisterKernel(name, 'wasm')
      tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: fn })
      added.push(name)
    }
  }
  return added
}
