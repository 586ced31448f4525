import * as tf from '@tensorflow/tfjs'
import { selectBackend } from '../src/backend.js'

/** Activates the wasm backend (with the naskit gradient kernels registered). */
export async function useWasm(): Promise<void> {
  await selectBackend({ backend: 'wasm', log: false })
}

export async function useCpu(): Promise<void> {
  await selectBackend({ backend: 'cpu', log: false })
}

/** Deterministic pseudo-random values in [-1, 1). */
export function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n)
  let s = seed >>> 0 || 1
  for (let i = 0; i < n; i++) {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    out[i] = ((s >>> 0) / 4294967296) * 2 - 1
  }
  return out
}

export function maxRelError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY
  let diff = 0
  let scale = 1e-6
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!))
    scale = Math.max(scale, Math.abs(b[i]!))
  }
  return diff / scale
}

export function tensorsNow(): number {
  return tf.memory().numTensors
}
