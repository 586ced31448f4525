import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  registerGradientKernels,
  WASM_GRADIENT_KERNELS,
  WASM_REPLACED_KERNELS,
} from '../src/kernels/index.js'
import { maxRelError, useCpu, useWasm, values } from './helpers.js'

type Pad = 'same' | 'valid'
interface Case {
  stride: number
  pad: Pad
  dilation: number
  mult: number
  k: number
}

const grid: Case[] = []
for (const stride of [1, 2])
  for (const pad of ['same', 'valid'] as Pad[])
    for (const dilation of [1, 2])
      for (const mult of [1, 2]) grid.push({ stride, pad, dilation, mult, k: 3 })
// a few larger kernels as well
grid.push({ stride: 2, pad: 'same', dilation: 2, mult: 1, k: 5 })
grid.push({ stride: 1, pad: 'valid', dilation: 1, mult: 2, k: 5 })

const N = 2
const H = 9
const W = 8
const C = 3

/** Inserts zeros into a filter's spatial axes so a dilation-1 conv equals a dilated one. */
function dilateFilter(w: tf.Tensor4D, d: number): tf.Tensor4D {
  if (d === 1) return w
  const [kh, kw, a, b] = w.shape
  const r = tf.reshape(w, [kh, 1, kw, 1, a, b])
  const p = tf.pad(r, [
    [0, 0],
    [0, d - 1],
    [0, 0],
    [0, d - 1],
    [0, 0],
    [0, 0],
  ])
  const full = tf.reshape(p, [kh * d, kw * d, a, b]) as tf.Tensor4D
  return tf.slice(full, [0, 0, 0, 0], [(kh - 1) * d + 1, (kw - 1) * d + 1, a, b])
}

function outShape(c: Case, cout: number): [number, number, number, number] {
  const eff = (c.k - 1) * c.dilation + 1
  const oh = c.pad === 'same' ? Math.ceil(H / c.stride) : Math.ceil((H - eff + 1) / c.stride)
  const ow = c.pad === 'same' ? Math.ceil(W / c.stride) : Math.ceil((W - eff + 1) / c.stride)
  return [N, oh, ow, cout]
}

/** Reference gradients on the cpu backend, through tfjs's own gradient code. */
function reference(c: Case, depthwise: boolean) {
  const cout = C * c.mult
  const xs = tf.tensor4d(values(N * H * W * C, 1), [N, H, W, C])
  const wShape: [number, number, number, number] = depthwise
    ? [c.k, c.k, C, c.mult]
    : [c.k, c.k, C, cout]
  const ws = tf.tensor4d(
    values(
      wShape.reduce((a, b) => a * b),
      2,
    ),
    wShape,
  )
  const dyShape = outShape(c, cout)
  const dy = tf.tensor4d(
    values(
      dyShape.reduce((a, b) => a * b),
      3,
    ),
    dyShape,
  )
  const f = (x: tf.Tensor4D, w: tf.Tensor4D) => {
    const wd = dilateFilter(w, c.dilation)
    const y = depthwise
      ? tf.depthwiseConv2d(x, wd, c.stride, c.pad)
      : tf.conv2d(x, wd, c.stride, c.pad)
    expect(y.shape).toEqual(dyShape)
    return tf.sum(tf.mul(y, dy))
  }
  const [gx, gw] = tf.grads((x, w) => f(x as tf.Tensor4D, w as tf.Tensor4D))([xs, ws])
  return { gx: gx!.dataSync().slice(), gw: gw!.dataSync().slice(), wShape, dyShape }
}

function onWasm(c: Case, depthwise: boolean, wShape: number[], dyShape: number[]) {
  const out: { gx: Float32Array | null; gw: Float32Array } = { gx: null, gw: new Float32Array() }
  tf.tidy(() => {
    const x = tf.tensor4d(values(N * H * W * C, 1), [N, H, W, C])
    const w = tf.tensor4d(
      values(
        wShape.reduce((a, b) => a * b),
        2,
      ),
      wShape as never,
    )
    const dy = tf.tensor4d(
      values(
        dyShape.reduce((a, b) => a * b),
        3,
      ),
      dyShape as never,
    )
    const attrs = {
      strides: [c.stride, c.stride],
      pad: c.pad,
      dilations: [c.dilation, c.dilation],
      dataFormat: 'NHWC',
    }
    const eng = tf.engine()
    if (depthwise) {
      const gx = eng.runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: w }, {
        ...attrs,
        inputShape: [N, H, W, C],
      } as never) as tf.Tensor
      const gw = eng.runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, {
        ...attrs,
        filterShape: wShape,
      } as never) as tf.Tensor
      out.gx = gx.dataSync().slice() as Float32Array
      out.gw = gw.dataSync().slice() as Float32Array
      return
    }
    const gw = eng.runKernel('Conv2DBackpropFilter', { x, dy }, {
      ...attrs,
      filterShape: wShape,
    } as never) as tf.Tensor
    const gx = eng.runKernel('Conv2DBackpropInput', { dy, filter: w }, {
      ...attrs,
      inputShape: [N, H, W, C],
    } as never) as tf.Tensor
    out.gw = gw.dataSync().slice() as Float32Array
    out.gx = gx.dataSync().slice() as Float32Array
  })
  return out
}

describe('wasm gradient kernels', () => {
  beforeAll(async () => {
    await useWasm()
  })
  afterAll(async () => {
    await useCpu()
  })

  it('registers the three missing kernels for wasm (and the replacements)', () => {
    for (const k of WASM_GRADIENT_KERNELS) expect(tf.getKernel(k, 'wasm')).toBeDefined()
    for (const k of WASM_REPLACED_KERNELS) expect(tf.getKernel(k, 'wasm')).toBeDefined()
    expect(registerGradientKernels('wasm')).toEqual([])
  })

  for (const depthwise of [true, false]) {
    const kind = depthwise ? 'depthwise' : 'conv2d'
    it.each(grid)(
      `${kind} stride $stride pad $pad dilation $dilation mult $mult k $k matches cpu`,
      async (c) => {
        await useCpu()
        const ref = reference(c, depthwise)
        await useWasm()
        const got = onWasm(c, depthwise, ref.wShape, ref.dyShape)
        expect(maxRelError(got.gw, ref.gw)).toBeLessThan(1e-4)
        expect(maxRelError(got.gx!, ref.gx)).toBeLessThan(1e-4)
      },
    )
  }

  it('lets tf.grad train through conv2d and depthwiseConv2d on wasm', async () => {
    const run = () => {
      const out: Float32Array[] = []
      tf.tidy(() => {
        const x = tf.tensor4d(values(2 * 8 * 8 * 4, 5), [2, 8, 8, 4])
        const w1 = tf.tensor4d(values(3 * 3 * 4 * 2, 6), [3, 3, 4, 2])
        const w2 = tf.tensor4d(values(3 * 3 * 8 * 5, 7), [3, 3, 8, 5])
        const g = tf.grads((a, b, cc) => {
          const h = tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')
          return tf.sum(tf.square(tf.conv2d(tf.relu(h), cc as tf.Tensor4D, 1, 'same')))
        })([x, w1, w2])
        for (const t of g) out.push(t.dataSync().slice() as Float32Array)
      })
      return out
    }
    await useCpu()
    const ref = run()
    await useWasm()
    const got = run()
    for (let i = 0; i < 3; i++) expect(maxRelError(got[i]!, ref[i]!)).toBeLessThan(1e-4)
  })
})

describe('wasm MaxPoolGrad replacement', () => {
  afterAll(async () => {
    await useCpu()
  })
  const cases: Array<[number, number, 'same' | 'valid' | number, number]> = []
  for (const h of [8, 9, 10])
    for (const pad of ['same', 'valid', 1] as const)
      for (const s of [1, 2]) cases.push([h, 8, pad, s])

  it.each(cases)('H=%i C=%i pad %s stride %i matches cpu', async (h, c, pad, s) => {
    const run = () => {
      let out: Float32Array = new Float32Array()
      tf.tidy(() => {
        const x = tf.tensor4d(values(2 * h * h * c, 21), [2, h, h, c])
        const f = (t: tf.Tensor4D) => tf.maxPool(t, 3, s, pad, pad === 1 ? 'floor' : undefined)
        const y = f(x)
        const r = tf.tensor(values(y.size, 22), y.shape)
        out = tf
          .grad((t) => tf.sum(tf.mul(f(t as tf.Tensor4D), r)))(x)
          .dataSync()
          .slice() as Float32Array
      })
      return out
    }
    await useCpu()
    const ref = run()
    await useWasm()
    const got = run()
    expect(maxRelError(got, ref)).toBeLessThan(1e-5)
  })
})

describe('wasm AvgPoolGrad replacement', () => {
  afterAll(async () => {
    await useCpu()
  })
  const cases: Array<[number, number, 'same' | 'valid' | number, number]> = []
  for (const h of [8, 9])
    for (const k of [1, 2, 3])
      for (const pad of ['same', 'valid', ...(k === 3 ? [1] : [])] as const)
        for (const s of [1, 2]) cases.push([h, k, pad, s])

  it.each(cases)('H=%i k=%i pad %s stride %i matches cpu', async (h, k, pad, s) => {
    const run = () => {
      let out: Float32Array = new Float32Array()
      tf.tidy(() => {
        const x = tf.tensor4d(values(2 * h * h * 3, 31), [2, h, h, 3])
        const f = (t: tf.Tensor4D) => tf.avgPool(t, k, s, pad, pad === 1 ? 'floor' : undefined)
        const y = f(x)
        const r = tf.tensor(values(y.size, 32), y.shape)
        out = tf
          .grad((t) => tf.sum(tf.mul(f(t as tf.Tensor4D), r)))(x)
          .dataSync()
          .slice() as Float32Array
      })
      return out
    }
    await useCpu()
    const ref = run()
    await useWasm()
    expect(tf.getKernel('AvgPoolGrad', 'wasm')).toBeDefined()
    const got = run()
    expect(maxRelError(got, ref)).toBeLessThan(1e-5)
  })
})
