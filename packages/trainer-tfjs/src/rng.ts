import { createRng as coreCreateRng } from '@naskit/core'

/** The part of @naskit/core's seeded generator that the trainer uses. */
export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number
  /** Uniform integer in [0, n). */
  int(n: number): number
  /** Standard normal sample. */
  normal(): number
}

/** A seeded generator (@naskit/core's): the same seed gives the same weights and batches. */
export function createRng(seed: number): Rng {
  return coreCreateRng(seed)
}

/** Fisher–Yates shuffle in place (works on typed arrays too). */
export function shuffleInPlace<T extends { length: number; [i: number]: unknown }>(
  arr: T,
  rng: Rng,
): T {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = rng.int(i + 1)
    const tmp = arr[i]
    arr[i] = arr[j]
    arr[j] = tmp
  }
  return arr
}
