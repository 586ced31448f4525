import { bytesToFloat32, float32ToBytes, NaskitError } from '@naskit/core'

/** Float32 array → base64 of its little-endian bytes (exact and compact in a JSON checkpoint). */
export function encodeFloats(a: Float32Array): string {
  const bytes = float32ToBytes(a)
  let bin = ''
  for (let i = 0; i < bytes.length; i += 0x8000)
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(bin)
}

/** Inverse of {@link encodeFloats}; checks the length. */
export function decodeFloats(text: unknown, length: number, what: string): Float32Array {
  if (typeof text !== 'string')
    throw new NaskitError('E_BAD_STATE', `rl checkpoint: ${what} is missing.`)
  const bin = atob(text)
  if (bin.length !== length * 4) {
    throw new NaskitError(
      'E_BAD_STATE',
      `rl checkpoint: ${what} has ${bin.length / 4} numbers, expected ${length}; was it written for another space or controller size?`,
    )
  }
  const bytes = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i)
  return bytesToFloat32(bytes)
}
