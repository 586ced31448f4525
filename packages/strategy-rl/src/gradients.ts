import * as tf from '@tensorflow/tfjs-core'

/**
 * `@tensorflow/tfjs-core` on its own registers no gradient functions in Node (its
 * `register_all_gradients` module is only pulled in by `@tensorflow/tfjs`, `tfjs-layers`
 * or a bundler). The controller's loss uses a handful of kernels; this module registers
 * the gradient of each one that nobody registered yet, so the strategy trains with
 * tfjs-core alone and defers to the official gradients when they are present.
 */

type Grads = Record<string, () => tf.Tensor>

/** Sums `dy` over the axes that broadcasting added, so it has the input's shape again. */
function unbroadcast(dy: tf.Tensor, inShape: number[]): tf.Tensor {
  if (sameShape(dy.shape, inShape)) return dy
  const axes = tf.broadcast_util.getReductionAxes(inShape, dy.shape)
  const reduced = axes.length > 0 ? tf.sum(dy, axes) : dy
  return sameShape(reduced.shape, inShape) ? reduced : tf.reshape(reduced, inShape)
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i])
}

const configs: tf.GradConfig[] = [
  {
    kernelName: tf.Add,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved): Grads => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor]
      const g = dy as tf.Tensor
      return { a: () => unbroadcast(g, a.shape), b: () => unbroadcast(g, b.shape) }
    },
  },
  {
    kernelName: tf.Sub,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved): Grads => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor]
      const g = dy as tf.Tensor
      return { a: () => unbroadcast(g, a.shape), b: () => tf.neg(unbroadcast(g, b.shape)) }
    },
  },
  {
    kernelName: tf.Multiply,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved): Grads => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor]
      const g = dy as tf.Tensor
      return {
        a: () => unbroadcast(tf.mul(g, b), a.shape),
        b: () => unbroadcast(tf.mul(g, a), b.shape),
      }
    },
  },
  {
    kernelName: tf.Neg,
    gradFunc: (dy): Grads => ({ x: () => tf.neg(dy as tf.Tensor) }),
  },
  {
    kernelName: tf.BatchMatMul,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs): Grads => {
      const [a, b] = saved as [tf.Tensor2D, tf.Tensor2D]
      const g = dy as tf.Tensor2D
      const ta = attrs.transposeA === true
      const tb = attrs.transposeB === true
      if (a.rank !== 2 || b.rank !== 2) throw new Error('Only 2-D matMul gradients are registered.')
      if (!ta && !tb)
        return { a: () => tf.matMul(g, b, false, true), b: () => tf.matMul(a, g, true, false) }
      if (!ta && tb)
        return { a: () => tf.matMul(g, b, false, false), b: () => tf.matMul(g, a, true, false) }
      if (ta && !tb)
        return { a: () => tf.matMul(b, g, false, true), b: () => tf.matMul(a, g, false, false) }
      return { a: () => tf.matMul(b, g, true, true), b: () => tf.matMul(g, a, true, true) }
    },
  },
  {
    kernelName: tf.Sigmoid,
    outputsToSave: [true],
    gradFunc: (dy, saved): Grads => {
      const [y] = saved as [tf.Tensor]
      return { x: () => tf.mul(dy as tf.Tensor, tf.mul(y, tf.sub(tf.scalar(1), y))) }
    },
  },
  {
    kernelName: tf.Tanh,
    outputsToSave: [true],
    gradFunc: (dy, saved): Grads => {
      const [y] = saved as [tf.Tensor]
      return { x: () => tf.mul(dy as tf.Tensor, tf.sub(tf.scalar(1), tf.square(y))) }
    },
  },
  {
    kernelName: tf.Exp,
    outputsToSave: [true],
    gradFunc: (dy, saved): Grads => {
      const [y] = saved as [tf.Tensor]
      return { x: () => tf.mul(dy as tf.Tensor, y) }
    },
  },
  {
    kernelName: tf.Sum,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs): Grads => {
      const [x] = saved as [tf.Tensor]
      const rank = x.rank
      const raw = attrs.axis as number | number[] | null | undefined
      const list =
        raw === undefined || raw === null
          ? [...Array(rank).keys()]
          : Array.isArray(raw)
            ? raw
            : [raw]
      const axes = list.map((ax) => (ax < 0 ? ax + rank : ax))
      const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
      return { x: () => tf.mul(tf.reshape(dy as tf.Tensor, kept), tf.ones(x.shape)) }
    },
  },
  {
    kernelName: tf.Slice,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs): Grads => {
      const [x] = saved as [tf.Tensor]
      const g = dy as tf.Tensor
      const begin = attrs.begin as number[]
      const pads = x.shape.map((d, i): [number, number] => [
        begin[i] ?? 0,
        d - (begin[i] ?? 0) - (g.shape[i] ?? 0),
      ])
      return { x: () => tf.pad(g, pads) }
    },
  },
  {
    kernelName: tf.Concat,
    saveAllInputs: true,
    gradFunc: (dy, saved, attrs): Grads => {
      const inputs = saved as tf.Tensor[]
      const rank = (inputs[0] as tf.Tensor).rank
      const raw = attrs.axis as number | number[]
      const axis0 = Array.isArray(raw) ? (raw[0] as number) : raw
      const axis = axis0 < 0 ? axis0 + rank : axis0
      const parts = tf.split(
        dy as tf.Tensor,
        inputs.map((t) => t.shape[axis] as number),
        axis,
      )
      const out: Grads = {}
      parts.forEach((part, i) => {
        out[i] = () => part
      })
      return out
    },
  },
  {
    kernelName: tf.SplitV,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs): Grads => {
      const [x] = saved as [tf.Tensor]
      const rank = x.rank
      const axis0 = attrs.axis as number
      const axis = axis0 < 0 ? axis0 + rank : axis0
      const split = attrs.numOrSizeSplits as number | number[]
      const full = x.shape[axis] as number
      const sizes = Array.isArray(split)
        ? split.map((s) =>
            s === -1 ? full - split.reduce((a, b) => a + (b === -1 ? 0 : b), 0) : s,
          )
        : Array.from({ length: split }, () => full / split)
      // outputs that the loss did not use have no gradient: zeros of their shape
      const parts = (dy as Array<tf.Tensor | null>).map((g, i) => {
        if (g !== null && g !== undefined) return g
        const shape = x.shape.slice()
        shape[axis] = sizes[i] as number
        return tf.zeros(shape)
      })
      return { x: () => tf.concat(parts, axis) }
    },
  },
  {
    kernelName: tf.Reshape,
    inputsToSave: ['x'],
    gradFunc: (dy, saved): Grads => {
      const [x] = saved as [tf.Tensor]
      return { x: () => tf.reshape(dy as tf.Tensor, x.shape) }
    },
  },
]

/** Kernels whose gradients the controller's loss needs. */
export const NEEDED_GRADIENTS: readonly string[] = configs.map((c) => c.kernelName)

/** Registers the gradient of every needed kernel that has none yet; returns their names. */
export function registerMissingGradients(): string[] {
  const added: string[] = []
  for (const config of configs) {
    if (tf.getGradient(config.kernelName) === undefined) {
      tf.registerGradient(config)
      added.push(config.kernelName)
    }
  }
  return added
}
