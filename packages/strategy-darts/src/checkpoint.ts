import { bytesToFloat32, float32ToBytes, NaskitError } from '@naskit/core'
import type * as tf from '@tensorflow/tfjs'

/** Packs the values of variables, in order, into one little-endian float32 blob. */
export function packVariables(vars: readonly tf.Variable[]): Uint8Array {
  let n = 0
  for (const v of vars) n += v.size
  const out = new Float32Array(n)
  let at = 0
  for (const v of vars) {
    const data = v.dataSync() as Float32Array
    out.set(data, at)
    at += data.length
  }
  return float32ToBytes(out)
}

/** Restores variables from {@link packVariables}'s blob; the layout must match exactly. */
export function unpackVariables(
  vars: readonly tf.Variable[],
  blob: Uint8Array | undefined,
  name: string,
  assign: (v: tf.Variable, values: Float32Array) => void,
): void {
  if (blob === undefined) {
    throw new NaskitError(
      'E_BAD_STATE',
      `The checkpoint has no "${name}" blob; start a new search.`,
    )
  }
  let n = 0
  for (const v of vars) n += v.size
  if (blob.byteLength !== n * 4) {
    throw new NaskitError(
      'E_BAD_STATE',
      `The checkpoint's "${name}" blob holds ${blob.byteLength / 4} values, the supernet needs ${n}: it was written with other options. Start a new search or resume with the same options.`,
    )
  }
  const all = bytesToFloat32(blob)
  let at = 0
  for (const v of vars) {
    assign(v, all.subarray(at, at + v.size))
    at += v.size
  }
}
