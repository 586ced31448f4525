import { bytesToFloat32, float32ToBytes, NaskitError } from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import type { Supernet } from './supernet'

/** Every variable of a supernet (weights and batch-norm statistics) as float32 bytes by path. */
export function saveWeights(supernet: Supernet): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {}
  for (const v of supernet.namedVariables())
    out[v.name] = float32ToBytes(v.variable.dataSync() as Float32Array)
  return out
}

/**
 * Loads weights saved by {@link saveWeights} into a supernet of the same structure.
 * `E_BAD_STATE` names the first missing or mis-sized variable.
 */
export function loadWeights(supernet: Supernet, blobs: Record<string, Uint8Array>): void {
  const vars = supernet.namedVariables()
  for (const v of vars) {
    const bytes = blobs[v.name]
    if (bytes === undefined || bytes.byteLength !== v.variable.size * 4) {
      throw new NaskitError(
        'E_BAD_STATE',
        `The checkpoint does not fit this supernet: variable "${v.name}" is ${bytes === undefined ? 'missing' : `${bytes.byteLength / 4} values instead of ${v.variable.size}`}. Resume with the same space and supernet options.`,
      )
    }
  }
  for (const v of vars) {
    const bytes = blobs[v.name] as Uint8Array
    tf.tidy(() => v.variable.assign(tf.tensor(bytesToFloat32(bytes), v.variable.shape)))
  }
}
