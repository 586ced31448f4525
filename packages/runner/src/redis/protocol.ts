import type { JsonObject, SpaceSpec } from '@naskit/core'
import type { EvalOutcome, EvalTask } from '../evaluate'

/** Prefix of every Redis key naskit's queues use. */
export const KEY_PREFIX = 'naskit'
/** The queue searches and workers use unless told otherwise. */
export const DEFAULT_QUEUE = 'trials'

/** What a trial job carries: everything a worker on another machine needs to evaluate it. */
export interface TrialJobData {
  format: 'naskit-trial'
  version: 1
  experimentId: string
  task: EvalTask
  evaluator: {
    /** How the coordinator named the evaluator: a built-in name, a package name or an absolute path. */
    spec: string
    name: string
    options: JsonObject
    /** The evaluator package's version on the coordinator (or the plugin's own `version`). */
    version: string | null
    packageName: string | null
  }
  space: SpaceSpec
  seed: number
}

/** A finished job's return value. */
export interface TrialJobResult {
  outcome: EvalOutcome
  worker: string
  startedAt: number
  finishedAt: number
}

/** What a worker reports through job progress. */
export type TrialJobProgress =
  | { fraction: number; message?: string }
  | { refused: string; worker: string }

/** The job id of a trial: the same on every attempt, so a trial is queued at most once. */
export function trialJobId(experimentId: string, trialId: number): string {
  return `${experimentId}-t${trialId}`
}

/** `E_CODE: message` → `{ code, message }` (job failures travel as strings). */
export function parseFailure(reason: string | undefined): { code: string; message: string } {
  const text = reason ?? 'The job failed without a reason.'
  const m = /^(E_[A-Z0-9_]+): ([\s\S]*)$/.exec(text)
  return m
    ? { code: m[1] as string, message: m[2] as string }
    : { code: 'E_JOB_FAILED', message: text }
}
