import * as tf from '@tensorflow/tfjs'
import { NaskitError } from '../errors.js'
import { ChainNetwork } from '../models/chain.js'
import { type DartsCell, DartsNetwork } from '../models/darts.js'
import { type NasnetBlock, NasnetNetwork } from '../models/nasnet.js'
import { Nb201Cell, Nb201Network, ResidualReduction } from '../models/nb201.js'
import type { Network, Stem } from '../models/network.js'
import type { Module } from '../ops/module.js'
import {
  Attention,
  DilConv,
  FactorizedReduce,
  Pool,
  ReLUConvBN,
  SepConv,
  Skip,
  Zero,
} from '../ops/ops.js'
import type { BatchNorm, Conv2d, Linear } from '../ops/primitives.js'
import { bilinearMatrix, checkInputPipeline, type InputPipeline } from './input.js'

/** Options of {@link toLayersModel}. */
export interface LayersModelOptions {
  /**
   * Raw pixels in: the model standardises (and resizes) its input as the trainer did. Without
   * it the model takes the network's own (standardised) input.
   */
  input?: InputPipeline
  /** Name of the model. @default 'naskit' */
  name?: string
}

/** A network as a tfjs-layers model, and where each of its weights came from. */
export interface LayersConversion {
  model: tf.LayersModel
  /**
   * For every model weight taken from the network: its name in the model
   * (`layer/weight`) → the network variable's path (as `namedVariables()` names it).
   */
  sources: Record<string, string>
}

type Sym = tf.SymbolicTensor

/**
 * A tensor known to be all zeros (a `none` op, or a cell node whose every edge is `none`):
 * nothing is computed for it unless a layer needs it as input. It has the spatial size of
 * `like` divided (rounding up) by `stride`, and `channels` channels.
 */
interface ZeroValue {
  zero: true
  like: Sym
  stride: number
  channels: number
}
type Value = Sym | ZeroValue

const isZero = (v: Value): v is ZeroValue => (v as ZeroValue).zero === true

function unsupported(what: string, path: string): NaskitError {
  return new NaskitError(
    'E_EXPORT_UNSUPPORTED',
    `Cannot export ${what} (at "${path || 'the network'}") as a TensorFlow.js Layers model: only the networks and ops of the built-in spaces (chain, nasnet, nb201, darts) are expressed with built-in layers. Export it with saveNetwork() instead, which loadNetwork() reads back.`,
    { details: { module: what, path } },
  )
}

/** Spatial size of a 4-D symbolic tensor: [height, width, channels]. */
function dims(x: Sym): [number, number, number] {
  const [, h, w, c] = x.shape
  return [h as number, w as number, c as number]
}

/**
 * Builds the Keras graph of a naskit network, one layer at a time, and remembers each
 * layer's weight values (set once the layer is built) and their source variables.
 */
class Builder {
  private readonly used = new Set<string>()
  private readonly relus = new Map<Sym, Sym>()
  private readonly created: tf.layers.Layer[] = []
  readonly sources: Record<string, string> = {}

  constructor(private readonly varNames: Map<tf.Variable, string>) {}

  /** A unique layer name from a naskit module path. */
  private name(path: string): string {
    const base = path
      .replace(/\//g, '.')
      .replace(/[^A-Za-z0-9_.-]/g, '_')
      .replace(/^[._-]+/, '')
    const stem = base === '' ? 'layer' : base
    let n = stem
    for (let i = 2; this.used.has(n); i++) n = `${stem}_${i}`
    this.used.add(n)
    return n
  }

  /** The path of a network variable (for naming the layer that holds it). */
  varPath(v: tf.Variable | null | undefined, fallback: string): string {
    const name = v ? this.varNames.get(v) : undefined
    if (name === undefined) return fallback
    const i = name.lastIndexOf('/')
    return i < 0 ? fallback : name.slice(0, i)
  }

  /**
   * Applies a new layer made by `make(name)` to `inputs`, then sets its weights by their
   * short names (`kernel`, `gamma`…) from `weights`: network variables (recorded as sources)
   * or constant tensors.
   */
  apply(
    path: string,
    make: (name: string) => tf.layers.Layer,
    inputs: Sym | Sym[],
    weights: Record<string, tf.Tensor> = {},
  ): Sym {
    const layer = make(this.name(path))
    this.created.push(layer)
    const out = layer.apply(inputs) as Sym
    if (layer.weights.length > 0) {
      const values = layer.weights.map((w) => {
        const short = w.originalName.slice(layer.name.length + 1)
        const t = weights[short]
        if (t === undefined) {
          throw new Error(`export: no value for weight ${w.originalName} (${layer.getClassName()})`)
        }
        const source = t instanceof tf.Variable ? this.varNames.get(t) : undefined
        if (source !== undefined) this.sources[w.originalName] = source
        return t
      })
      layer.setWeights(values)
    }
    return out
  }

  relu(x: Sym, path: string): Sym {
    let r = this.relus.get(x)
    if (r === undefined) {
      r = this.apply(
        `${path}/relu`,
        (name) => tf.layers.activation({ activation: 'relu', name }),
        x,
      )
      this.relus.set(x, r)
    }
    return r
  }

  /** A real tensor for a value: zeros are made by a 1×1 convolution with a zero kernel. */
  tensor(v: Value, path: string): Sym {
    if (!isZero(v)) return v
    const cIn = dims(v.like)[2]
    return this.apply(
      `${path}/zeros`,
      (name) =>
        tf.layers.conv2d({
          filters: v.channels,
          kernelSize: 1,
          strides: v.stride,
          padding: 'valid',
          useBias: false,
          name,
        }),
      v.like,
      { kernel: tf.zeros([1, 1, cIn, v.channels]) },
    )
  }

  /** Every s-th row and column from the first (a 1×1 max pooling with stride s). */
  subsample(x: Sym, s: number, path: string): Sym {
    if (s === 1) return x
    return this.apply(
      `${path}/subsample`,
      (name) => tf.layers.maxPooling2d({ poolSize: 1, strides: s, padding: 'valid', name }),
      x,
    )
  }

  zeroPad(x: Sym, pad: number | [[number, number], [number, number]], path: string): Sym {
    if (pad === 0) return x
    const padding =
      typeof pad === 'number'
        ? ([
            [pad, pad],
            [pad, pad],
          ] as [[number, number], [number, number]])
        : pad
    return this.apply(`${path}/pad`, (name) => tf.layers.zeroPadding2d({ padding, name }), x)
  }

  add(values: Value[], path: string): Value | null {
    const real = values.filter((v) => !isZero(v)) as Sym[]
    if (real.length === 0) return values[0] ?? null
    if (real.length === 1) return real[0]!
    return this.apply(`${path}/add`, (name) => tf.layers.add({ name }), real)
  }

  concat(values: Sym[], path: string): Sym {
    if (values.length === 1) return values[0]!
    return this.apply(`${path}/concat`, (name) => tf.layers.concatenate({ axis: -1, name }), values)
  }

  /**
   * Bilinear resize to [h, w] as `tf.image.resizeBilinear` (alignCorners and halfPixelCenters
   * off): a fixed linear map per axis, applied by a Dense layer on the permuted tensor.
   */
  resize(x: Sym, to: [number, number], path: string): Sym {
    const [h, w] = dims(x)
    let y = x
    const axis = (
      from: number,
      size: number,
      dimsIn: [number, number, number],
      label: string,
    ): void => {
      y = this.apply(`${path}/${label}_in`, (name) => tf.layers.permute({ dims: dimsIn, name }), y)
      y = this.apply(
        `${path}/${label}`,
        (name) => tf.layers.dense({ units: size, useBias: false, name }),
        y,
        { kernel: tf.tensor2d(bilinearMatrix(from, size), [from, size]) },
      )
      y = this.apply(`${path}/${label}_out`, (name) => tf.layers.permute({ dims: dimsIn, name }), y)
    }
    if (to[1] !== w) axis(w, to[1], [1, 3, 2], 'resize_cols')
    if (to[0] !== h) axis(h, to[0], [3, 2, 1], 'resize_rows')
    return y
  }

  /** The path of a module in the network (from its first variable), else `fallback`. */
  modulePath(m: Module<tf.Tensor>, fallback: string): string {
    const first = m.namedVariables()[0]
    if (first === undefined) return fallback
    const full = this.varNames.get(first.variable)
    if (full === undefined || !full.endsWith(first.name)) return fallback
    return full.slice(0, full.length - first.name.length).replace(/\/$/, '') || fallback
  }

  /** Disposes every layer made so far (after a failure). */
  disposeAll(): void {
    for (const layer of this.created) {
      try {
        if (layer.weights.length > 0) layer.dispose()
      } catch {
        // a layer that failed while it was applied holds no weights to release
      }
    }
    this.created.length = 0
  }

  /** Disposes the layers that the model does not reach (their weights included). */
  disposeUnused(model: tf.LayersModel): void {
    const kept = new Set(model.layers)
    for (const layer of this.created) {
      if (kept.has(layer)) continue
      for (const key of Object.keys(this.sources)) {
        if (key.startsWith(`${layer.name}/`)) delete this.sources[key]
      }
      if (layer.weights.length > 0) layer.dispose()
    }
  }
}

/** Converts a network's modules to layers. */
class Converter {
  constructor(readonly b: Builder) {}

  conv(m: Conv2d, x: Sym, path: string): Sym {
    const name = this.b.varPath(m.weight, `${path}/conv`)
    const pad = ((m.k - 1) * m.dilation) / 2
    const weights = { kernel: m.weight }
    const conv = (strides: number, padding: 'same' | 'valid', input: Sym) =>
      this.b.apply(
        name,
        (n) =>
          tf.layers.conv2d({
            filters: m.cOut,
            kernelSize: m.k,
            strides,
            padding,
            dilationRate: m.dilation,
            useBias: false,
            name: n,
          }),
        input,
        weights,
      )
    if (m.stride === 1) return conv(1, 'same', x)
    if (m.k === 1) return conv(m.stride, 'valid', x)
    if (m.dilation > 1) return this.b.subsample(conv(1, 'same', x), m.stride, name)
    return conv(m.stride, 'valid', this.b.zeroPad(x, pad, name))
  }

  bn(m: BatchNorm, x: Sym, path: string): Sym {
    const affine = m.gamma !== null
    const weights: Record<string, tf.Tensor> = {
      moving_mean: m.runningMean,
      moving_variance: m.runningVar,
    }
    if (m.gamma) weights.gamma = m.gamma
    if (m.beta) weights.beta = m.beta
    return this.b.apply(
      this.b.varPath(m.runningMean, `${path}/bn`),
      (name) =>
        tf.layers.batchNormalization({
          axis: -1,
          epsilon: m.epsilon,
          center: affine,
          scale: affine,
          name,
        }),
      x,
      weights,
    )
  }

  reluConvBn(m: ReLUConvBN, x: Sym, path: string): Sym {
    return this.bn(m.bn, this.conv(m.conv, this.b.relu(x, path), path), path)
  }

  /** ReLU → depthwise k×k (stride, dilation) → pointwise 1×1 → BN, as one SeparableConv2D. */
  dilConv(m: DilConv, x: Sym, path: string): Sym {
    const r = this.b.relu(x, path)
    const dw = m.dw
    const name = `${path}/separable`
    const pad = ((dw.k - 1) * dw.dilation) / 2
    const sep = (strides: number, padding: 'same' | 'valid', input: Sym) =>
      this.b.apply(
        name,
        (n) =>
          tf.layers.separableConv2d({
            filters: m.pw.cOut,
            kernelSize: dw.k,
            strides,
            padding,
            dilationRate: dw.dilation,
            depthMultiplier: 1,
            useBias: false,
            name: n,
          }),
        input,
        { depthwise_kernel: dw.weight, pointwise_kernel: m.pw.weight },
      )
    let y: Sym
    if (dw.stride === 1) y = sep(1, 'same', r)
    else if (dw.dilation > 1) y = this.b.subsample(sep(1, 'same', r), dw.stride, name)
    else y = sep(dw.stride, 'valid', this.b.zeroPad(r, pad, name))
    return this.bn(m.bn, y, path)
  }

  factorizedReduce(m: FactorizedReduce, x: Sym, path: string): Sym {
    const r = this.b.relu(x, path)
    if (m.stride === 1) return this.bn(m.bn, this.conv(m.convs[0]!, r, path), path)
    const [first, second] = m.convs as [Conv2d, Conv2d]
    const a = this.conv(first, r, path)
    const shiftName = this.b.varPath(second.weight, `${path}/conv_2`)
    const cropped = this.b.apply(
      `${shiftName}/shift`,
      (name) =>
        tf.layers.cropping2D({
          cropping: [
            [1, 0],
            [1, 0],
          ],
          name,
        }),
      r,
    )
    const shifted = this.b.zeroPad(
      cropped,
      [
        [0, 1],
        [0, 1],
      ],
      `${shiftName}/shift`,
    )
    const c = this.conv(second, shifted, path)
    return this.bn(m.bn, this.b.concat([a, c], path), path)
  }

  pool(m: Pool, x: Value, path: string): Value {
    const s = m.spec.stride
    let y: Value = x
    if (m.pre !== null) y = this.reluConvBn(m.pre, this.b.tensor(x, path), `${path}/pre`)
    if (isZero(y)) return { ...y, stride: y.stride * s }
    const make = m.kind === 'max' ? tf.layers.maxPooling2d : tf.layers.averagePooling2d
    // Stride-1 'same' pooling ignores the padded cells (as the trainer's pooling does); a
    // stride-2 pool centred as the trainer's is its stride-1 result, subsampled.
    const pooled = this.b.apply(
      `${path}/${m.kind}_pool`,
      (name) => make({ poolSize: m.k, strides: 1, padding: 'same', name }),
      y,
    )
    return this.b.subsample(pooled, s, `${path}/${m.kind}_pool`)
  }

  attention(m: Attention, x: Value, path: string): Sym {
    const inp =
      m.pre === null
        ? this.b.tensor(x, path)
        : this.factorizedReduce(m.pre, this.b.tensor(x, path), `${path}/reduce`)
    const [h, w, c] = dims(inp)
    let pool = 1
    while (Math.ceil(h / pool) * Math.ceil(w / pool) > m.maxTokens) pool++
    const src =
      pool === 1
        ? inp
        : this.b.apply(
            `${path}/tokens`,
            (name) =>
              tf.layers.averagePooling2d({ poolSize: pool, strides: pool, padding: 'same', name }),
            inp,
          )
    const [gh, gw] = dims(src)
    const l = gh * gw
    const heads = m.heads
    const dh = c / heads
    const flat = this.b.apply(
      `${path}/flatten`,
      (name) => tf.layers.reshape({ targetShape: [l, c], name }),
      src,
    )
    const project = (p: { weight: tf.Variable }, label: string, input: Sym) =>
      this.b.apply(
        this.b.varPath(p.weight, `${path}/${label}`),
        (name) => tf.layers.dense({ units: c, useBias: false, name }),
        input,
        { kernel: p.weight },
      )
    const q = project(m.q, 'query', flat)
    const k = project(m.k, 'key', flat)
    const v = project(m.v, 'value', flat)
    /** The columns of head `i` of a [L, C] projection, as [L, C / heads]. */
    const head = (t: Sym, label: string, i: number): Sym => {
      if (heads === 1) return t
      const at = `${path}/${label}_head${i}`
      const grid = this.b.apply(
        `${at}/grid`,
        (name) => tf.layers.reshape({ targetShape: [l, c, 1], name }),
        t,
      )
      const cut = this.b.apply(
        `${at}/crop`,
        (name) =>
          tf.layers.cropping2D({
            cropping: [
              [0, 0],
              [i * dh, c - (i + 1) * dh],
            ],
            name,
          }),
        grid,
      )
      return this.b.apply(
        `${at}/tokens`,
        (name) => tf.layers.reshape({ targetShape: [l, dh], name }),
        cut,
      )
    }
    const outs: Sym[] = []
    for (let i = 0; i < heads; i++) {
      const at = `${path}/head${i}`
      const scores = this.b.apply(`${at}/scores`, (name) => tf.layers.dot({ axes: [2, 2], name }), [
        head(q, 'query', i),
        head(k, 'key', i),
      ])
      const scaled = this.b.apply(
        `${at}/scale`,
        (name) => tf.layers.rescaling({ scale: 1 / Math.sqrt(dh), offset: 0, name }),
        scores,
      )
      const weights = this.b.apply(
        `${at}/softmax`,
        (name) => tf.layers.softmax({ axis: -1, name }),
        scaled,
      )
      outs.push(
        this.b.apply(`${at}/mix`, (name) => tf.layers.dot({ axes: [2, 1], name }), [
          weights,
          head(v, 'value', i),
        ]),
      )
    }
    const merged = this.b.concat(outs, `${path}/heads`)
    const projected = project(m.o, 'output', merged)
    let out = this.b.apply(
      `${path}/unflatten`,
      (name) => tf.layers.reshape({ targetShape: [gh, gw, c], name }),
      projected,
    )
    if (pool !== 1) out = this.b.resize(out, [h, w], `${path}/upsample`)
    return this.b.apply(`${path}/residual`, (name) => tf.layers.add({ name }), [inp, out])
  }

  /** One op of the op library (`createOp`). */
  op(m: Module, x: Value, fallback: string): Value {
    const path = this.b.modulePath(m, fallback)
    if (m instanceof Zero) {
      const like = isZero(x) ? x.like : x
      const stride = (isZero(x) ? x.stride : 1) * m.spec.stride
      return { zero: true, like, stride, channels: m.spec.cOut }
    }
    if (m instanceof Skip) {
      return m.reduce === null
        ? x
        : this.factorizedReduce(m.reduce, this.b.tensor(x, path), `${path}/reduce`)
    }
    if (m instanceof Pool) return this.pool(m, x, path)
    if (m instanceof Attention) return this.attention(m, x, path)
    const t = this.b.tensor(x, path)
    if (m instanceof ReLUConvBN) return this.reluConvBn(m, t, path)
    if (m instanceof SepConv) {
      return this.dilConv(m.second, this.dilConv(m.first, t, `${path}/sep1`), `${path}/sep2`)
    }
    if (m instanceof DilConv) return this.dilConv(m, t, path)
    if (m instanceof FactorizedReduce) return this.factorizedReduce(m, t, path)
    throw unsupported(`the op module ${m.constructor.name}`, path)
  }

  stem(m: Stem, x: Sym): Sym {
    return this.bn(m.bn, this.conv(m.conv, x, 'stem'), 'stem')
  }

  head(m: Linear, x: Sym, path: string, relu: boolean): Sym {
    const input = relu ? this.b.relu(x, path) : x
    const pooled = this.b.apply(
      `${path}/global_pool`,
      (name) => tf.layers.globalAveragePooling2d({ name }),
      input,
    )
    return this.b.apply(
      this.b.varPath(m.weight, 'classifier'),
      (name) => tf.layers.dense({ units: m.outFeatures, useBias: true, name }),
      pooled,
      { kernel: m.weight, bias: m.bias },
    )
  }

  chain(net: ChainNetwork, x: Sym): Sym {
    const [h, w] = dims(x)
    let y: Value =
      h === net.resolution && w === net.resolution
        ? x
        : this.b.resize(x, [net.resolution, net.resolution], 'resolution')
    y = this.stem(net.stem, y)
    net.layers.forEach((l, i) => {
      y = this.op(l, y, `layer${i}`)
    })
    return this.head(net.classifier, this.b.tensor(y, 'head'), 'head', true)
  }

  nasnetBlock(m: NasnetBlock, x: Sym, path: string): Sym {
    const y = this.reluConvBn(m.body, x, path)
    if (!m.skip) return y
    const s = m.shortcut === null ? x : this.op(m.shortcut, x, `${path}/shortcut`)
    return this.b.add([y, s], path) as Sym
  }

  nasnet(net: NasnetNetwork, x: Sym): Sym {
    let y = this.stem(net.stem, x)
    net.blocks.forEach((b, i) => {
      y = this.nasnetBlock(b, y, this.b.modulePath(b, `block${i}`))
    })
    return this.head(net.classifier, y, 'head', true)
  }

  nb201Cell(m: Nb201Cell, x: Sym, path: string): Value {
    const nodes: Value[] = [x]
    m.edges.forEach((edges, k) => {
      const at = `${path}/node${k + 1}`
      const vals = edges
        .filter((e) => !e.isNone)
        .map((e) => this.op(e.op, nodes[e.input]!, `${at}/edge${e.input}`))
      nodes.push(this.b.add(vals, at) ?? { zero: true, like: x, stride: 1, channels: dims(x)[2] })
    })
    return nodes[nodes.length - 1]!
  }

  residualReduction(m: ResidualReduction, x: Sym, path: string): Sym {
    const main = this.reluConvBn(m.b, this.reluConvBn(m.a, x, `${path}/conv_a`), `${path}/conv_b`)
    const pooled = this.b.apply(
      `${path}/downsample/pool`,
      (name) => tf.layers.averagePooling2d({ poolSize: 2, strides: 2, padding: 'valid', name }),
      x,
    )
    const short = this.conv(m.shortcut, pooled, `${path}/downsample`)
    return this.b.add([main, short], path) as Sym
  }

  nb201(net: Nb201Network, x: Sym): Sym {
    let y: Value = this.stem(net.stem, x)
    net.body.forEach((m, i) => {
      const t = this.b.tensor(y, `body${i}`)
      const path = this.b.modulePath(m, `body${i}`)
      if (m instanceof ResidualReduction) y = this.residualReduction(m, t, path)
      else if (m instanceof Nb201Cell) y = this.nb201Cell(m, t, path)
      else throw unsupported(`the module ${m.constructor.name}`, `body${i}`)
    })
    const normed = this.bn(net.lastBn, this.b.tensor(y, 'lastact'), 'lastact')
    return this.head(net.classifier, normed, 'head', true)
  }

  dartsCell(m: DartsCell, s0: Sym, s1: Sym, path: string): Sym {
    const states: Value[] = [
      this.op(m.pre0, s0, `${path}/preprocess0`),
      this.op(m.pre1, s1, `${path}/preprocess1`),
    ]
    m.edges.forEach((edges, i) => {
      const at = `${path}/node${i + 2}`
      const vals = edges.map((e) => this.op(e.op, states[e.input]!, `${at}/edge${e.input}`))
      states.push(this.b.add(vals, at)!)
    })
    const outs = states.slice(2).map((v, i) => this.b.tensor(v, `${path}/node${i + 2}`))
    return this.b.concat(outs, path)
  }

  darts(net: DartsNetwork, x: Sym): Sym {
    let s0 = this.stem(net.stem, x)
    let s1 = s0
    net.cells.forEach((cell, i) => {
      const s2 = this.dartsCell(cell, s0, s1, this.b.modulePath(cell, `cell${i}`))
      s0 = s1
      s1 = s2
    })
    return this.head(net.classifier, s1, 'head', false)
  }

  network(net: Network, x: Sym): Sym {
    if (net instanceof ChainNetwork) return this.chain(net, x)
    if (net instanceof NasnetNetwork) return this.nasnet(net, x)
    if (net instanceof Nb201Network) return this.nb201(net, x)
    if (net instanceof DartsNetwork) return this.darts(net, x)
    throw unsupported(`a ${net.constructor.name}`, '')
  }

  /** Raw pixels → standardised (one per-channel affine map) → resized. */
  input(p: InputPipeline, x: Sym): Sym {
    const c = p.shape[2]
    const identity = p.scale === 1 && p.mean.every((m) => m === 0) && p.std.every((s) => s === 1)
    let y = x
    if (!identity) {
      const kernel = new Float32Array(c)
      const bias = new Float32Array(c)
      for (let k = 0; k < c; k++) {
        const inv = 1 / p.std[k]!
        kernel[k] = p.scale * inv
        bias[k] = -p.mean[k]! * inv
      }
      y = this.b.apply(
        'standardize',
        (name) =>
          tf.layers.depthwiseConv2d({
            kernelSize: 1,
            depthMultiplier: 1,
            useBias: true,
            name,
          }),
        y,
        { depthwise_kernel: tf.tensor4d(kernel, [1, 1, c, 1]), bias: tf.tensor1d(bias) },
      )
    }
    if (p.resize !== null) y = this.b.resize(y, p.resize, 'resize')
    return y
  }
}

/**
 * Expresses a network of a built-in space as a tfjs-layers (Keras) model made of built-in
 * layers only, holding copies of the network's weights (batch norms in inference form): any
 * TensorFlow.js app loads it with `tf.loadLayersModel`, with no naskit code. The model outputs
 * logits. With `input`, it takes raw pixels and standardises (and resizes) them itself.
 * Throws `E_EXPORT_UNSUPPORTED` for a module outside the op library.
 *
 * The caller owns the model (`model.dispose()`).
 */
export function toLayersModel(net: Network, options: LayersModelOptions = {}): LayersConversion {
  const p = options.input ? checkInputPipeline(options.input) : null
  const netShape = net.inputShape
  if (p !== null) {
    const [h, w] = p.resize ?? [p.shape[0], p.shape[1]]
    if (h !== netShape[0] || w !== netShape[1] || p.shape[2] !== netShape[2]) {
      throw new NaskitError(
        'E_BAD_OPTIONS',
        `The input pipeline gives [${h}, ${w}, ${p.shape[2]}] images but the network takes [${netShape.join(', ')}]: set its resize (or shape) to match the network's input shape.`,
      )
    }
  }
  const varNames = new Map(net.namedVariables().map((v) => [v.variable, v.name]))
  const builder = new Builder(varNames)
  const conv = new Converter(builder)
  const shape = p?.shape ?? netShape
  let result: LayersConversion | null = null
  try {
    // constant weights made on the way are released; the layers keep copies
    tf.tidy(() => {
      const input = tf.input({ shape: [...shape], name: 'image', dtype: 'float32' })
      const x = p === null ? input : conv.input(p, input)
      const out = conv.network(net, x)
      const model = tf.model({ inputs: input, outputs: out, name: options.name ?? 'naskit' })
      builder.disposeUnused(model)
      result = { model, sources: builder.sources }
    })
  } catch (e) {
    builder.disposeAll()
    throw e
  }
  return result as unknown as LayersConversion
}
