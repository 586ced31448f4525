import { describe, expect, it } from 'vitest'
import { littleEndianCopy } from '../src/float32'
import { bytesToFloat32, float32ToBytes, isNaskitError } from '../src/index'

describe('float32ToBytes / bytesToFloat32', () => {
  it('round-trips every value exactly, NaN payloads included', () => {
    const values = new Float32Array([0, -0, 1.5, -3.25e-12, 3.4e38, Infinity, -Infinity, 1e-45])
    const back = bytesToFloat32(float32ToBytes(values))
    expect(Object.is(back[1], -0)).toBe(true)
    expect([...back]).toEqual([...values])
    const bits = new Uint32Array([0x7fc00001, 0xffa00000])
    const nan = new Float32Array(bits.buffer)
    expect([...new Uint32Array(bytesToFloat32(float32ToBytes(nan)).buffer)]).toEqual([...bits])
  })

  it('writes little-endian bytes', () => {
    expect([...float32ToBytes(new Float32Array([1]))]).toEqual([0, 0, 0x80, 0x3f])
    expect([...bytesToFloat32(new Uint8Array([0, 0, 0xc0, 0xbf]))]).toEqual([-1.5])
  })

  it('copies, and reads a view at any offset', () => {
    const values = new Float32Array([1, 2, 3, 4])
    const bytes = float32ToBytes(values.subarray(1, 3))
    values[1] = 9
    expect([...bytesToFloat32(bytes)]).toEqual([2, 3])
    const padded = new Uint8Array(9)
    padded.set(bytes, 1)
    expect([...bytesToFloat32(padded.subarray(1))]).toEqual([2, 3])
  })

  it('swaps each group of 4 bytes on a big-endian host', () => {
    const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])
    expect([...littleEndianCopy(bytes, false)]).toEqual([4, 3, 2, 1, 8, 7, 6, 5])
    expect([...littleEndianCopy(littleEndianCopy(bytes, false), false)]).toEqual([...bytes])
  })

  it('refuses a byte length that is not a multiple of 4', () => {
    try {
      bytesToFloat32(new Uint8Array(6))
      expect.unreachable()
    } catch (err) {
      expect(isNaskitError(err, 'E_BAD_STATE')).toBe(true)
      expect((err as Error).message).toMatch(/6 bytes .* multiple of 4/)
    }
  })
})
