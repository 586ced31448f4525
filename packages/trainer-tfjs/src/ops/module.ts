import * as tf from '@tensorflow/tfjs'
import { createRng, type Rng } from '../rng.js'

/**
 * Everything a module needs when it creates its variables: a seeded generator, so that the
 * same seed gives the same initial weights on every backend.
 */
export interface InitContext {
  rng: Rng
}

export function initContext(seed: number): InitContext {
  return { rng: createRng(seed) }
}

export interface NamedVariable {
  name: string
  variable: tf.Variable
  trainable: boolean
}

/**
 * A functional module that owns its variables (`tf.variable`). `apply(x, training)` runs it;
 * in training mode batch norms use batch statistics and update their running averages.
 * Modules form a tree; parameter counting, export and disposal walk it.
 */
export abstract class Module<Out extends tf.Tensor = tf.Tensor4D> {
  private readonly own: Array<{ name: string; variable: tf.Variable; trainable: boolean }> = []
  private readonly kids: Array<{ name: string; module: Module<tf.Tensor> }> = []
  private disposed = false

  abstract forward(x: tf.Tensor4D, training: boolean): Out

  apply(x: tf.Tensor4D, training = false): Out {
    return this.forward(x, training)
  }

  protected addVariable(name: string, init: tf.Tensor, trainable = true): tf.Variable {
    const v = tf.variable(init, trainable)
    init.dispose()
    this.own.push({ name, variable: v, trainable })
    return v
  }

  protected addModule<M extends Module<tf.Tensor>>(name: string, m: M): M {
    this.kids.push({ name, module: m })
    return m
  }

  /** All variables of the tree with a stable path name (used for export). */
  namedVariables(prefix = ''): NamedVariable[] {
    const out: NamedVariable[] = this.own.map((o) => ({
      name: prefix + o.name,
      variable: o.variable,
      trainable: o.trainable,
    }))
    for (const k of this.kids) out.push(...k.module.namedVariables(`${prefix}${k.name}/`))
    return out
  }

  /** Calls `fn` on this module and on every module below it, depth first, in creation order. */
  visit(fn: (m: Module<tf.Tensor>) => void): void {
    fn(this as unknown as Module<tf.Tensor>)
    for (const k of this.kids) k.module.visit(fn)
  }

  /** Trainable variables of the tree. */
  trainableVariables(): tf.Variable[] {
    return this.namedVariables()
      .filter((v) => v.trainable)
      .map((v) => v.variable)
  }

  /** Number of trainable scalars (conv and linear weights, biases, BN affine weights). */
  paramCount(): number {
    let n = 0
    for (const v of this.namedVariables()) if (v.trainable) n += v.variable.size
    return n
  }

  isDisposed(): boolean {
    return this.disposed
  }

  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    for (const o of this.own) o.variable.dispose()
    for (const k of this.kids) k.module.dispose()
  }
}

// ---- FLOPs counting -------------------------------------------------------------------

let flopSink: { macs: number } | null = null

/** Adds multiply-accumulates to the active counter (no-op unless counting). */
export function addMacs(n: number): void {
  if (flopSink !== null) flopSink.macs += n
}

/**
 * Runs `fn` (a forward pass on a batch of one) and returns the multiply-accumulates counted
 * by the convolution, linear and attention primitives, NAS-Bench-201 style (pooling and BN
 * not counted; linear layers count weights plus biases).
 */
export function countMacs(fn: () => void): number {
  const prev = flopSink
  flopSink = { macs: 0 }
  try {
    fn()
    return flopSink.macs
  } finally {
    flopSink = prev
  }
}

// ---- initialisers ---------------------------------------------------------------------

export function heNormal(ctx: InitContext, shape: number[], fanIn: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1)
  const std = Math.sqrt(2 / Math.max(fanIn, 1))
  const data = new Float32Array(n)
  for (let i = 0; i < n; i++) data[i] = ctx.rng.normal() * std
  return tf.tensor(data, shape)
}

export function uniform(ctx: InitContext, shape: number[], limit: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1)
  const data = new Float32Array(n)
  for (let i = 0; i < n; i++) data[i] = (ctx.rng.next() * 2 - 1) * limit
  return tf.tensor(data, shape)
}
