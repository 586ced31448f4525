import * as tf from '@tensorflow/tfjs'

/**
 * Convolution gradients written with ordinary tfjs ops (pad, strided slice, concat, matMul,
 * depthwise convolution, reshape, sum). They run on any backend; the wasm backend, which
 * has no native kernel for them, gets them registered as kernels (see `register.ts`).
 * They support every stride, dilation and padding mode, including stride and dilation both
 * greater than one.
 */

export type Pair = [number, number]
export type PadArg = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding
type Rounding = 'floor' | 'round' | 'ceil' | undefined

/** Upper bound on the elements of one im2col chunk (keeps memory flat for large kernels). */
const CHUNK_ELEMENTS = 1 << 22

function pair(v: number | number[] | undefined, fallback = 1): Pair {
  if (v === undefined || v === null) return [fallback, fallback]
  if (typeof v === 'number') return [v, v]
  return [v[0] ?? fallback, v[1] ?? v[0] ?? fallback]
}

interface Geometry {
  batch: number
  inH: number
  inW: number
  outH: number
  outW: number
  kH: number
  kW: number
  sH: number
  sW: number
  dH: number
  dW: number
  top: number
  left: number
}

function geometry(
  xShape: number[],
  filterShape: number[],
  strides: number | number[],
  pad: PadArg,
  dilations: number | number[] | undefined,
  rounding: Rounding,
  depthwise: boolean,
): Geometry {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    pair(strides),
    pair(dilations),
    pad,
    rounding,
    depthwise,
  )
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    outH: info.outHeight,
    outW: info.outWidth,
    kH: info.filterHeight,
    kW: info.filterWidth,
    sH: info.strideHeight,
    sW: info.strideWidth,
    dH: info.dilationHeight,
    dW: info.dilationWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
  }
}

/** Pads (or crops, for negative amounts) the spatial axes of an NHWC tensor. */
function padOrCrop(
  x: tf.Tensor4D,
  top: number,
  bottom: number,
  left: number,
  right: number,
  fill = 0,
) {
  let y = x
  if (top > 0 || bottom > 0 || left > 0 || right > 0) {
    y = tf.pad(
      y,
      [
        [0, 0],
        [Math.max(top, 0), Math.max(bottom, 0)],
        [Math.max(left, 0), Math.max(right, 0)],
        [0, 0],
      ],
      fill,
    )
  }
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const [n, h, w, c] = y.shape
    const t = Math.max(-top, 0)
    const l = Math.max(-left, 0)
    y = tf.slice(y, [0, t, l, 0], [n, h - t - Math.max(-bottom, 0), w - l - Math.max(-right, 0), c])
  }
  return y
}

/** The input patch seen by filter tap (a, b) for every output position: [N, outH, outW, C]. */
function tapSlice(xp: tf.Tensor4D, g: Geometry, a: number, b: number): tf.Tensor4D {
  const r0 = a * g.dH
  const c0 = b * g.dW
  const c = xp.shape[3]
  if (g.sH === 1 && g.sW === 1) return tf.slice(xp, [0, r0, c0, 0], [g.batch, g.outH, g.outW, c])
  return tf.stridedSlice(
    xp,
    [0, r0, c0, 0],
    [g.batch, r0 + (g.outH - 1) * g.sH + 1, c0 + (g.outW - 1) * g.sW + 1, c],
    [1, g.sH, g.sW, 1],
  ) as tf.Tensor4D
}

/** tfjs convolutions need stride 1 or dilation 1; the swapped form then qualifies too. */
function canSwapStrideAndDilation(g: Geometry): boolean {
  return (g.sH === 1 && g.sW === 1) || (g.dH === 1 && g.dW === 1)
}

/** Input zero-padded so that every tap slice is in range. */
function paddedInput(x: tf.Tensor4D, g: Geometry): tf.Tensor4D {
  const needH = (g.outH - 1) * g.sH + (g.kH - 1) * g.dH + 1
  const needW = (g.outW - 1) * g.sW + (g.kW - 1) * g.dW + 1
  return padOrCrop(x, g.top, needH - g.inH - g.top, g.left, needW - g.inW - g.left)
}

function tapChunks(g: Geometry, channels: number): Array<Array<[number, number]>> {
  const perTap = g.batch * g.outH * g.outW * channels
  const size = Math.max(1, Math.floor(CHUNK_ELEMENTS / Math.max(perTap, 1)))
  const taps: Array<[number, number]> = []
  for (let a = 0; a < g.kH; a++) for (let b = 0; b < g.kW; b++) taps.push([a, b])
  const chunks: Array<Array<[number, number]>> = []
  for (let i = 0; i < taps.length; i += size) chunks.push(taps.slice(i, i + size))
  return chunks
}

/**
 * Gradient of a 2-D convolution with respect to its filter.
 * x: [N, H, W, Cin], dy: [N, outH, outW, Cout] → [kH, kW, Cin, Cout].
 */
export function conv2dFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: number | number[],
  pad: PadArg,
  dilations?: number | number[],
  rounding?: Rounding,
): tf.Tensor4D {
  return tf.tidy(() => {
    const g = geometry(x.shape, filterShape, strides, pad, dilations, rounding, false)
    const [kH, kW, cin, cout] = filterShape
    const xp = paddedInput(x, g)
    if (canSwapStrideAndDilation(g)) {
      // One native convolution: the batch becomes the contracted channel axis, the output
      // gradient becomes the filter, and stride and dilation swap roles.
      const xt = tf.transpose(xp, [3, 1, 2, 0]) as tf.Tensor4D
      const ft = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D
      const out = tf.conv2d(xt, ft, [g.dH, g.dW], 'valid', 'NHWC', [g.sH, g.sW])
      return tf.transpose(out, [1, 2, 0, 3]) as tf.Tensor4D
    }
    const m = g.batch * g.outH * g.outW
    const dy2 = tf.reshape(dy, [m, cout]) as tf.Tensor2D
    const parts = tapChunks(g, cin).map((chunk) => {
      const cols = chunk.map(([a, b]) => tapSlice(xp, g, a, b))
      const stacked = cols.length === 1 ? cols[0]! : tf.concat(cols, 3)
      const cols2 = tf.reshape(stacked, [m, chunk.length * cin]) as tf.Tensor2D
      return tf.matMul(cols2, dy2, true, false)
    })
    const all = parts.length === 1 ? parts[0]! : tf.concat(parts, 0)
    return tf.reshape(all, [kH, kW, cin, cout]) as tf.Tensor4D
  })
}

/**
 * Gradient of a depthwise convolution with respect to its filter.
 * x: [N, H, W, C], dy: [N, outH, outW, C·M] → [kH, kW, C, M].
 */
export function depthwiseFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: number | number[],
  pad: PadArg,
  dilations?: number | number[],
  rounding?: Rounding,
): tf.Tensor4D {
  return tf.tidy(() => {
    const g = geometry(x.shape, filterShape, strides, pad, dilations, rounding, true)
    const [kH, kW, c, mult] = filterShape
    const xp = paddedInput(x, g)
    if (canSwapStrideAndDilation(g)) {
      // One native depthwise convolution over N·C channels (batch moved into channels), the
      // output gradient as the filter, then a sum over the batch.
      const [, hp, wp] = xp.shape
      const xt = tf.reshape(tf.transpose(xp, [1, 2, 0, 3]), [1, hp, wp, g.batch * c]) as tf.Tensor4D
      const ft = tf.reshape(tf.transpose(dy, [1, 2, 0, 3]), [
        g.outH,
        g.outW,
        g.batch * c,
        mult,
      ]) as tf.Tensor4D
      const out = tf.depthwiseConv2d(xt, ft, [g.dH, g.dW], 'valid', 'NHWC', [g.sH, g.sW])
      return tf.sum(tf.reshape(out, [kH, kW, g.batch, c, mult]), 2) as tf.Tensor4D
    }
    const dy5 = tf.reshape(dy, [1, g.batch, g.outH, g.outW, c, mult])
    const parts = tapChunks(g, c * mult).map((chunk) => {
      const cols = chunk.map(([a, b]) => tapSlice(xp, g, a, b))
      const stacked = tf.reshape(tf.stack(cols, 0), [chunk.length, g.batch, g.outH, g.outW, c, 1])
      return tf.sum(tf.mul(stacked, dy5), [1, 2, 3])
    })
    const all = parts.length === 1 ? parts[0]! : tf.concat(parts, 0)
    return tf.reshape(all, [kH, kW, c, mult]) as tf.Tensor4D
  })
}

/** Inserts (s - 1) zeros between the spatial elements of dy (a no-op when s = 1). */
function dilateSpatial(dy: tf.Tensor4D, sH: number, sW: number): tf.Tensor4D {
  if (sH === 1 && sW === 1) return dy
  const [n, h, w, c] = dy.shape
  const r = tf.reshape(dy, [n, h, 1, w, 1, c])
  const p = tf.pad(r, [
    [0, 0],
    [0, 0],
    [0, sH - 1],
    [0, 0],
    [0, sW - 1],
    [0, 0],
  ])
  const full = tf.reshape(p, [n, h * sH, w * sW, c]) as tf.Tensor4D
  return tf.slice(full, [0, 0, 0, 0], [n, (h - 1) * sH + 1, (w - 1) * sW + 1, c])
}

/**
 * Gradient of a depthwise convolution with respect to its input: a stride-1 depthwise
 * correlation of the zero-dilated output gradient with the flipped filter.
 * dy: [N, outH, outW, C·M], filter: [kH, kW, C, M] → [N, H, W, C].
 */
export function depthwiseInputGrad(
  inputShape: [number, number, number, number],
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  strides: number | number[],
  pad: PadArg,
  dilations?: number | number[],
  rounding?: Rounding,
): tf.Tensor4D {
  return tf.tidy(() => {
    const g = geometry(inputShape, filter.shape, strides, pad, dilations, rounding, true)
    const [kH, kW, c, mult] = filter.shape
    const u = dilateSpatial(dy, g.sH, g.sW)
    const effH = (kH - 1) * g.dH
    const effW = (kW - 1) * g.dW
    const padTop = effH - g.top
    const padLeft = effW - g.left
    const padBottom = g.inH + g.top - u.shape[1]
    const padRight = g.inW + g.left - u.shape[2]
    const v = padOrCrop(u, padTop, padBottom, padLeft, padRight)
    const flipped = tf.reverse(filter, [0, 1])
    const w = tf.reshape(flipped, [kH, kW, c * mult, 1]) as tf.Tensor4D
    const dilation: Pair = [g.dH, g.dW]
    const out = tf.depthwiseConv2d(v, w, 1, 'valid', 'NHWC', dilation)
    if (mult === 1) return out
    return tf.sum(tf.reshape(out, [g.batch, g.inH, g.inW, c, mult]), 4) as tf.Tensor4D
  })
}

/**
 * Gradient of a 2-D convolution with respect to its input, for any dilation
 * (the built-in gradient only covers dilation 1).
 */
export function conv2dInputGrad(
  inputShape: [number, number, number, number],
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  strides: number | number[],
  pad: PadArg,
  dilations?: number | number[],
  rounding?: Rounding,
): tf.Tensor4D {
  return tf.tidy(() => {
    const g = geometry(inputShape, filter.shape, strides, pad, dilations, rounding, false)
    const [kH, kW] = filter.shape
    const u = dilateSpatial(dy, g.sH, g.sW)
    const v = padOrCrop(
      u,
      (kH - 1) * g.dH - g.top,
      g.inH + g.top - u.shape[1],
      (kW - 1) * g.dW - g.left,
      g.inW + g.left - u.shape[2],
    )
    // Correlation with the flipped, in/out-swapped filter.
    const w = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D
    return tf.conv2d(v, w, 1, 'valid', 'NHWC', [g.dH, g.dW])
  })
}

/**
 * Gradient of 2-D max pooling with respect to its input. Each output's gradient goes to the
 * first maximal position of its window in row-major order (the cpu backend's rule); padded
 * cells never win.
 */
export function maxPoolInputGrad(
  dy: tf.Tensor4D,
  x: tf.Tensor4D,
  y: tf.Tensor4D,
  filterSize: number | number[],
  strides: number | number[],
  pad: PadArg,
  rounding?: Rounding,
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = tf.backend_util.computePool2DInfo(
      x.shape,
      pair(filterSize) as [number, number],
      pair(strides) as [number, number],
      1,
      pad as 'same',
      rounding,
    )
    const g: Geometry = {
      batch: info.batchSize,
      inH: info.inHeight,
      inW: info.inWidth,
      outH: info.outHeight,
      outW: info.outWidth,
      kH: info.filterHeight,
      kW: info.filterWidth,
      sH: info.strideHeight,
      sW: info.strideWidth,
      dH: 1,
      dW: 1,
      top: info.padInfo.top,
      left: info.padInfo.left,
    }
    const needH = (g.outH - 1) * g.sH + g.kH
    const needW = (g.outW - 1) * g.sW + g.kW
    const bottom = needH - g.inH - g.top
    const right = needW - g.inW - g.left
    const xp = padOrCrop(x, g.top, bottom, g.left, right, Number.NEGATIVE_INFINITY)
    const zeros = tf.zerosLike(dy)
    let taken = tf.zeros(dy.shape, 'bool')
    let acc: tf.Tensor4D | null = null
    for (let a = 0; a < g.kH; a++) {
      for (let b = 0; b < g.kW; b++) {
        const patch = tapSlice(xp, g, a, b)
        const hit = tf.logicalAnd(tf.equal(patch, y), tf.logicalNot(taken))
        taken = tf.logicalOr(taken, hit)
        const part = dilateSpatial(tf.where(hit, dy, zeros) as tf.Tensor4D, g.sH, g.sW)
        const placed = tf.pad(part, [
          [0, 0],
          [a, needH - a - part.shape[1]],
          [b, needW - b - part.shape[2]],
          [0, 0],
        ]) as tf.Tensor4D
        acc = acc === null ? placed : (tf.add(acc, placed) as tf.Tensor4D)
      }
    }
    // back from the padded frame to the input frame
    return padOrCrop(acc!, -g.top, -bottom, -g.left, -right)
  })
}

/**
 * Gradient of 2-D average pooling (divisor: the full window, as tfjs's `AvgPoolGrad`) with
 * respect to its input: the transposed depthwise convolution of dy with a constant filter
 * 1 / (kH·kW). A 1×1 window needs no convolution: dy is spread to every s-th cell.
 * dy: [N, outH, outW, C] → [N, H, W, C].
 */
export function avgPoolInputGrad(
  dy: tf.Tensor4D,
  inputShape: [number, number, number, number],
  filterSize: number | number[],
  strides: number | number[],
  pad: PadArg,
  rounding?: Rounding,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [kH, kW] = pair(filterSize)
    const c = inputShape[3]
    if (kH === 1 && kW === 1) {
      const g = geometry(inputShape, [1, 1, c, 1], strides, pad, 1, rounding, true)
      const u = dilateSpatial(dy, g.sH, g.sW)
      return padOrCrop(u, -g.top, g.inH + g.top - u.shape[1], -g.left, g.inW + g.left - u.shape[2])
    }
    const filter = tf.fill([kH, kW, c, 1], 1 / (kH * kW)) as tf.Tensor4D
    return depthwiseInputGrad(inputShape, dy, filter, strides, pad, 1, rounding)
  })
}
