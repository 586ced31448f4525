import { NaskitError } from '@naskit/core'

export { NaskitError }

/** Codes this package raises (the shared ones come from @naskit/core's `ErrorCodes`). */
export type TrainerErrorCode =
  | 'E_BAD_OPTIONS'
  | 'E_BACKEND_UNAVAILABLE'
  | 'E_INVALID_ARCH'
  | 'E_DIVERGED'
  | 'E_ABORTED'
  | 'E_DATASET'
  | 'E_UNKNOWN_OP'
  | 'E_TOO_LARGE'

/** True when `e` is an error with the given stable code. */
export function hasErrorCode(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === code
}
