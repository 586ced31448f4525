import { NaskitError } from './errors'

/** Whether this machine stores numbers little-endian (every common one does). */
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

/**
 * A copy of `bytes` with each 4-byte group in little-endian order: as it is on a
 * little-endian host, reversed on a big-endian one. Its own inverse; bit for bit, so NaN
 * payloads survive.
 */
export function littleEndianCopy(
  bytes: Uint8Array,
  hostIsLittleEndian = LITTLE_ENDIAN_HOST,
): Uint8Array {
  const out = new Uint8Array(bytes.byteLength)
  if (hostIsLittleEndian) {
    out.set(bytes)
    return out
  }
  for (let i = 0; i + 3 < bytes.length; i += 4) {
    out[i] = bytes[i + 3] as number
    out[i + 1] = bytes[i + 2] as number
    out[i + 2] = bytes[i + 1] as number
    out[i + 3] = bytes[i] as number
  }
  return out
}

/**
 * The float32 values as little-endian bytes (a copy), for checkpoints and blobs.
 * {@link bytesToFloat32} gives the very same values back.
 */
export function float32ToBytes(values: Float32Array): Uint8Array {
  return littleEndianCopy(new Uint8Array(values.buffer, values.byteOffset, values.byteLength))
}

/**
 * The float32 values of little-endian bytes written by {@link float32ToBytes} (a copy).
 * `E_BAD_STATE` when the byte length is not a multiple of 4.
 */
export function bytesToFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) {
    throw new NaskitError(
      'E_BAD_STATE',
      `${bytes.byteLength} bytes are not float32 values: the length must be a multiple of 4.`,
    )
  }
  const copy = littleEndianCopy(bytes)
  return new Float32Array(copy.buffer, 0, copy.byteLength / 4)
}
