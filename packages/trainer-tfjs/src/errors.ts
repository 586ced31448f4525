import { NaskitError } from '@naskit/core'

export { NaskitError }

/**
 * Codes this package raises (the shared ones come from @naskit/core's `ErrorCodes`; test for
 * them with core's `isNaskitError(err, code)`).
 */
export type TrainerErrorCode =
  | 'E_BAD_OPTIONS'
  | 'E_BACKEND_UNAVAILABLE'
  | 'E_INVALID_ARCH'
  | 'E_DIVERGED'
  | 'E_ABORTED'
  | 'E_DATASET'
  | 'E_DATASET_MISSING'
  | 'E_DATA_FOLDER'
  | 'E_DATA_UNREADABLE'
  | 'E_UNKNOWN_OP'
  | 'E_EXPORT_UNSUPPORTED'
  | 'E_TOO_LARGE'
