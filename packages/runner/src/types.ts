import type { JsonObject, Logger, SpaceSpec, TrialResult } from '@naskit/core'
import type { Budget, NaskitConfig } from './config'
import type { StoredTrial } from './store'

/** The configuration an experiment was created with, as stored in its database. */
export interface StoredConfig {
  space: SpaceSpec
  strategy: { spec: string | null; name: string; options: JsonObject }
  evaluator: { spec: string | null; name: string; options: JsonObject }
  budget: Budget
  workers: number
  seed: number
  maxFailures: number | null
  /** `auto`, `threads`, `inline`, or a Redis URL without its credentials. */
  executor: string
  /** The Redis queue (with a Redis executor). */
  queue?: string
  graceMs: number
  /** Time limit of one trial in milliseconds (`trialTimeout`); null or absent: none. */
  trialTimeoutMs?: number | null
}

/** Why a search ended. */
export type EndReason =
  | 'budget'
  | 'time'
  | 'target'
  | 'strategy'
  | 'idle'
  | 'interrupted'
  | 'max-failures'
  /** An in-process evaluation can never finish (a promise that nothing settles). */
  | 'unsettled'

/** Events of a running experiment (the CLI's progress and `--json` output). */
export type RunEvent =
  | {
      type: 'start'
      dir: string
      resumed: boolean
      space: string
      strategy: string
      evaluator: string
      executor: 'inline' | 'threads' | 'redis'
      /** Trials in flight. */
      workers: number
      /** Worker threads at most, when fewer than `workers`. */
      threads?: number
      budget: Budget
      done: number
      failed: number
      rerun: number
      /** Run time of earlier sessions. */
      elapsedMs: number
    }
  | {
      type: 'trial'
      trial: TrialResult
      done: number
      failed: number
      running: number
      best: { id: number; objective: number } | null
      elapsedMs: number
      budget: Budget
    }
  | { type: 'progress'; trialId: number; fraction: number; message?: string }
  | { type: 'one-shot'; fraction: number; message?: string; metrics?: Record<string, number> }
  | {
      type: 'stopping'
      reason: EndReason
      message: string
      running: number
      graceMs: number | null
    }
  | { type: 'warning'; message: string }
  /** A notice from the evaluator or strategy (what data it found, which backend), once each. */
  | { type: 'info'; message: string }
  | {
      type: 'end'
      dir: string
      status: 'completed' | 'interrupted' | 'failed'
      reason: EndReason
      message: string
      done: number
      failed: number
      best: { id: number; objective: number } | null
      elapsedMs: number
      resumeCommand: string | null
    }

/** Options of {@link runExperiment}. */
export interface RunExperimentOptions {
  /**
   * What to run. May be partial (or absent) when resuming: missing parts come from the
   * experiment's stored configuration.
   */
  config?: Partial<NaskitConfig>
  /** Experiment folder; overrides `config.out`. */
  out?: string
  /** Where relative paths and plugin names resolve from. @default process.cwd() */
  baseDir?: string
  /**
   * When resuming with a different space, strategy, evaluator or seed: `error` throws
   * `E_CONFIG_MISMATCH`; `new` starts a new experiment in a fresh folder (`DIR-2`, `DIR-3`…).
   * @default 'error'
   */
  onMismatch?: 'error' | 'new'
  /**
   * Aborting stops asking, lets running trials finish within the grace period (`graceMs`), and
   * returns; trials still running then are abandoned (and rerun on resume).
   */
  signal?: AbortSignal
  onEvent?(event: RunEvent): void
  log?: Logger
  /**
   * `trial-id`: finished trials are told to the strategy in the order they were asked, and new
   * ones asked right after each, so a seeded search runs the same trials whatever the order in
   * which parallel evaluations finish; a trial that finished early waits (holding its slot) for
   * those asked before it. `finish`: told as they finish, for more throughput when evaluation
   * times vary, but the trials then depend on those times.
   * @default 'trial-id'
   */
  tellOrder?: 'trial-id' | 'finish'
}

/** Outcome of {@link runExperiment}. */
export interface RunExperimentResult {
  dir: string
  status: 'completed' | 'interrupted' | 'failed'
  reason: EndReason
  message: string
  resumed: boolean
  /** Finished trials (ok and failed), by id. */
  trials: StoredTrial[]
  best: StoredTrial | null
  /** `naskit search --out DIR`, when the experiment can be continued. */
  resumeCommand: string | null
}
