import * as tf from '@tensorflow/tfjs'
import { toBytes, toFloats } from './weights'

/**
 * SGD with momentum that updates only the variables given a gradient, each with its own
 * velocity, keyed by a stable name. tfjs' momentum optimizer pairs its buffers with the
 * position of a gradient in the list, which breaks when every step trains another path.
 */
export class PathSgd {
  private readonly velocity = new Map<string, tf.Variable>()

  constructor(
    public learningRate: number,
    readonly momentum = 0.9,
    readonly nesterov = false,
  ) {}

  /** Applies `grads` (by stable name) to `vars` (by stable name). */
  step(vars: ReadonlyMap<string, tf.Variable>, grads: ReadonlyMap<string, tf.Tensor>): void {
    const lr = this.learningRate
    const m = this.momentum
    for (const [name, g] of grads) {
      const v = vars.get(name)
      if (v === undefined) continue
      let buf = this.velocity.get(name)
      if (buf === undefined) {
        buf = tf.tidy(() => tf.variable(tf.zerosLike(v), false))
        this.velocity.set(name, buf)
      }
      const b = buf
      tf.tidy(() => {
        const nb = m > 0 ? tf.add(tf.mul(b, m), g) : g
        const update = this.nesterov ? tf.add(g, tf.mul(nb, m)) : nb
        if (m > 0) b.assign(nb)
        v.assign(tf.sub(v, tf.mul(update, lr)))
      })
    }
  }

  /** Velocity buffers by variable name, as bytes (for checkpoints). */
  state(): Record<string, Uint8Array> {
    const out: Record<string, Uint8Array> = {}
    for (const [name, v] of this.velocity) out[name] = toBytes(v.dataSync() as Float32Array)
    return out
  }

  /** Restores buffers saved by {@link PathSgd.state} for the given variables. */
  restore(buffers: Record<string, Uint8Array>, vars: ReadonlyMap<string, tf.Variable>): void {
    this.disposeBuffers()
    for (const [name, bytes] of Object.entries(buffers)) {
      const v = vars.get(name)
      if (v === undefined) continue
      const data = toFloats(bytes)
      if (data.length !== v.size) continue
      this.velocity.set(
        name,
        tf.tidy(() => tf.variable(tf.tensor(data, v.shape), false)),
      )
    }
  }

  private disposeBuffers(): void {
    for (const v of this.velocity.values()) v.dispose()
    this.velocity.clear()
  }

  dispose(): void {
    this.disposeBuffers()
  }
}
