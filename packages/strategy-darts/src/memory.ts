import * as tf from '@tensorflow/tfjs'

/**
 * The largest `tf.memory().numBytes` (bytes of every live tfjs tensor, not the process's
 * resident memory) seen inside the search's steps: sampled where a step holds the most (after
 * its gradients, before the update), and taken from `tf.profile` for the steps it profiles,
 * which sees the peak inside the backward pass.
 */
export class PeakMemory {
  bytes = 0

  /** Records the bytes held now. */
  sample(): void {
    this.note(tf.memory().numBytes)
  }

  /** Records a measured number of bytes. */
  note(bytes: number): void {
    this.bytes = Math.max(this.bytes, bytes)
  }

  /** Runs `step`, under `tf.profile` when `profile` is true (slower: use it once an epoch). */
  async measure<T>(profile: boolean, step: () => T): Promise<T> {
    if (!profile) return step()
    let value: T | undefined
    const info = await tf.profile(() => {
      value = step()
      return []
    })
    this.note(info.peakBytes)
    return value as T
  }
}
