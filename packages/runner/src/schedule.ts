import {
  type PendingTrial,
  prepareProposal,
  type SamplingStrategy,
  type SearchSpace,
  type TrialResult,
  toTrialResult,
  trialResultOf,
} from '@naskit/core'
import { storableOutcome, trialRngState } from './evaluate'
import type { Executor } from './executor'
import type { Store } from './store'
import type { EndReason, RunEvent, RunExperimentOptions, StoredConfig } from './types'

/** What {@link schedule} runs with: the experiment, and its counts kept by the caller. */
export interface ScheduleArgs {
  dir: string
  store: Store
  space: SearchSpace
  sampling: SamplingStrategy
  executor: Executor
  config: StoredConfig
  rerun: ReturnType<Store['runningTrials']>
  nextId: number
  elapsed(): number
  account(t: TrialResult): void
  counts(): {
    done: number
    failed: number
    /** Training epochs the finished trials spent (see `trialEpochs`). */
    epochs?: number
    best: { id: number; objective: number } | null
  }
  emit(e: RunEvent): void
  signal?: AbortSignal
  /** Kept up to date with the ids of the trials running (for a message if the process exits). */
  running?: Set<number>
  /** See {@link RunExperimentOptions.tellOrder}. @default 'trial-id' */
  tellOrder?: 'trial-id' | 'finish'
}

/**
 * Stop reasons after which running trials get the grace period (`graceMs`) to finish and are
 * then abandoned (left running in the store, rerun on resume): a hung trial cannot keep the
 * search alive. After the others (the budget used up, the strategy done) the last trials are
 * waited for, unless an interrupt comes.
 */
const GRACE_REASONS: readonly EndReason[] = [
  'interrupted',
  'time',
  'max-failures',
  'target',
  'unsettled',
]

/** Finished trials, or milliseconds, between two checkpoints of the write-ahead log. */
export const WAL_CHECKPOINT_TRIALS = 10
export const WAL_CHECKPOINT_MS = 5_000

/**
 * The ask/evaluate/tell loop with `workers` evaluations in flight. Finished trials are told in
 * the order they were asked (unless `tellOrder` is `finish`), each followed by the asks that
 * fill its slot again: the strategy sees the same sequence of tells and asks in every run.
 */
export async function schedule(
  a: ScheduleArgs,
): Promise<{ reason: EndReason; message: string; nextId: number }> {
  const { store, space, sampling, executor, config, emit } = a
  const budget = config.budget
  const ordered = (a.tellOrder ?? 'trial-id') === 'trial-id'
  let nextId = a.nextId
  let sinceWalCheckpoint = 0
  let lastWalCheckpoint = Date.now()
  type Done = TrialResult & { elapsedMs: number }
  /** Trials asked and not yet told, by id: running, or finished and waiting for their turn. */
  const order: number[] = a.rerun.map((r) => r.id)
  /** Finished trials not yet told. */
  const held = new Map<number, Done>()
  const running = new Map<number, { pending: PendingTrial; abort(): void }>()
  const completions: Done[] = []
  let wake: (() => void) | null = null
  const notify = () => {
    const w = wake
    wake = null
    w?.()
  }
  let stop: { reason: EndReason; message: string } | null = null
  let graceDeadline: number | null = null

  const onAbort = () => notify()
  a.signal?.addEventListener('abort', onAbort)

  const dispatch = (p: PendingTrial) => {
    const timeoutMs = config.trialTimeoutMs ?? null
    // (an in-process evaluation starts at once: it may end the process before run() returns)
    a.running?.add(p.id)
    const run = executor.run(
      {
        trialId: p.id,
        arch: p.arch,
        rngState: trialRngState(config.seed, p.id),
        ...(p.fidelity ? { fidelity: p.fidelity } : {}),
        ...(timeoutMs !== null ? { timeoutMs } : {}),
      },
      (progress) =>
        emit({
          type: 'progress',
          trialId: p.id,
          fraction: progress.fraction,
          ...(progress.message ? { message: progress.message } : {}),
        }),
    )
    running.set(p.id, { pending: p, abort: run.abort })
    run.done.then((report) => {
      if (!running.has(p.id)) return
      running.delete(p.id)
      a.running?.delete(p.id)
      // metrics the store cannot write fail the trial, whichever executor ran it
      const checked = { ...report, outcome: storableOutcome(report.outcome) }
      completions.push({ ...trialResultOf(p, checked), elapsedMs: a.elapsed() })
      notify()
    })
  }

  if (a.rerun.length > 0) {
    // count the new attempt of trials that were running when the experiment stopped
    store.commit({ started: a.rerun.map((r) => ({ ...r, startedAt: Date.now() })) })
  }
  /**
   * Trials asked and not yet running: with ordered telling, up to `workers` more trials than
   * run at once are asked ahead, so a slot freed while an older trial still runs has one to take.
   */
  const waiting: PendingTrial[] = [...a.rerun]
  const window = ordered && executor.slots > 1 ? 2 * executor.slots : executor.slots
  const startWaiting = () => {
    while (waiting.length > 0 && running.size < executor.slots)
      dispatch(waiting.shift() as PendingTrial)
  }
  startWaiting()

  const setStop = (reason: EndReason, message: string) => {
    if (stop) {
      // an interrupt while the last trials finish: they get the grace period, then are abandoned
      if (reason !== 'interrupted' || graceDeadline !== null) return
    }
    stop = { reason, message }
    const grace = GRACE_REASONS.includes(reason)
    if (grace) graceDeadline = Date.now() + config.graceMs
    emit({
      type: 'stopping',
      reason,
      message,
      running: running.size,
      graceMs: grace ? config.graceMs : null,
    })
  }

  const checkStop = () => {
    const { done, best } = a.counts()
    // failures count as they come, even those waiting for their turn to be told: a broken
    // evaluator stops the search without waiting for slower trials
    let failed = a.counts().failed
    for (const t of held.values()) if (t.status === 'failed') failed++
    if (a.signal?.aborted) setStop('interrupted', 'Interrupted.')
    if (config.maxFailures !== null && failed >= config.maxFailures) {
      setStop(
        'max-failures',
        `Stopped after ${failed} failed trials (--max-failures ${config.maxFailures}). See their errors with \`naskit export ${a.dir} --failed --format csv\`, fix the cause, then resume with a larger --max-failures.`,
      )
    }
    if (budget.target !== null && best !== null && best.objective >= budget.target) {
      setStop(
        'target',
        `Reached the target objective ${budget.target} (trial ${best.id}: ${best.objective}).`,
      )
    }
    if (budget.trials !== null && done >= budget.trials)
      setStop('budget', `Finished the budget of ${budget.trials} trials.`)
    const spent = a.counts().epochs ?? 0
    if (typeof budget.epochs === 'number' && spent >= budget.epochs)
      setStop(
        'budget',
        `Spent the budget of ${budget.epochs} training epochs (${Math.round(spent * 100) / 100} in ${done} trials).`,
      )
    if (budget.timeMs !== null && a.elapsed() >= budget.timeMs)
      setStop('time', `Used the time budget of ${Math.round(budget.timeMs / 1000)} s.`)
  }

  /** Invalid proposals asked in this step: stored as failed at once, told in their turn. */
  let invalid: Done[] = []
  const storedEarly = new Set<number>()
  let started: Array<PendingTrial & { startedAt: number }> = []
  let asked = false
  let idle = false

  /**
   * Asks for trials until `workers` are in flight (the budget permitting). With ordered telling,
   * it runs at the start and after each told trial: at the same points of every run.
   */
  const askMore = async () => {
    const status = sampling.status?.() ?? { done: false }
    if (status.done) {
      setStop('strategy', status.message)
      return
    }
    const { done } = a.counts()
    const free = window - order.length
    const left = budget.trials === null ? free : budget.trials - done - order.length
    const n = Math.min(free, left)
    if (n <= 0) return
    asked = true
    const proposals = await sampling.ask(n)
    for (const p of proposals.slice(0, n)) {
      const id = nextId++
      order.push(id)
      const checked = prepareProposal(space, p)
      if ('error' in checked) {
        // failed at once; told in its turn
        const now = Date.now()
        const result = toTrialResult({
          id,
          arch: p.arch,
          key: `invalid:${id}`,
          outcome: { error: checked.error },
          timings: { startedAt: now, finishedAt: now, durationMs: 0 },
        })
        const t = { ...result, elapsedMs: a.elapsed() }
        held.set(id, t)
        invalid.push(t)
        continue
      }
      started.push({ id, ...checked, startedAt: Date.now() })
    }
    if (proposals.length === 0 && order.length === 0) idle = true
  }

  /** The next finished trial to tell: the oldest asked one, or (unordered, stopping) any. */
  const nextToTell = (): Done | undefined => {
    if (ordered && !stop) {
      const head = order[0]
      return head === undefined ? undefined : held.get(head)
    }
    let first: Done | undefined
    for (const t of held.values()) if (first === undefined || t.id < first.id) first = t
    return first
  }

  // a resumed search with trials in flight asks again after the next one is told, as the
  // uninterrupted search would have
  let fresh = !ordered || order.length === 0
  try {
    for (;;) {
      for (const c of completions.splice(0)) held.set(c.id, c)
      const told: Done[] = []
      started = []
      invalid = []
      asked = false
      checkStop()
      if (fresh && !stop) await askMore()
      fresh = false
      for (let t = nextToTell(); t !== undefined; t = nextToTell()) {
        held.delete(t.id)
        order.splice(order.indexOf(t.id), 1)
        await sampling.tell([t])
        a.account(t)
        told.push(t)
        if (t.error?.code === 'E_EVALUATION_UNSETTLED') {
          setStop(
            'unsettled',
            `${t.error.message} The search stops here (trial ${t.id} is stored as failed): fix the evaluator, then resume.`,
          )
        }
        checkStop()
        if (ordered && !stop) await askMore()
      }
      if (!ordered && !stop) await askMore()
      if (told.length > 0 || started.length > 0 || asked) {
        const early = new Set(invalid.map((t) => t.id))
        a.store.commit({
          finished: [...told.filter((t) => !storedEarly.has(t.id) && !early.has(t.id)), ...invalid],
          started,
          checkpoint: { state: sampling.state(), nextTrialId: nextId },
        })
        for (const t of invalid) storedEarly.add(t.id)
        for (const t of told) storedEarly.delete(t.id)
        sinceWalCheckpoint += told.length
        if (
          sinceWalCheckpoint >= WAL_CHECKPOINT_TRIALS ||
          (sinceWalCheckpoint > 0 && Date.now() - lastWalCheckpoint >= WAL_CHECKPOINT_MS)
        ) {
          // copy the committed trials from naskit.db-wal into naskit.db
          a.store.checkpointWal('PASSIVE')
          sinceWalCheckpoint = 0
          lastWalCheckpoint = Date.now()
        }
      }
      waiting.push(...started)
      if (stop !== null && graceDeadline !== null) {
        // stopping: trials asked ahead do not start (they stay running in the store, for a resume)
        for (const p of waiting.splice(0)) order.splice(order.indexOf(p.id), 1)
      } else startWaiting()
      for (const t of told) {
        emit({
          type: 'trial',
          trial: t,
          ...a.counts(),
          running: running.size,
          elapsedMs: a.elapsed(),
          budget,
        })
      }
      if (order.length === 0 && completions.length === 0) {
        if (stop) break
        if (idle) {
          const status = sampling.status?.() ?? { done: false }
          setStop(
            status.done ? 'strategy' : 'idle',
            status.done
              ? status.message
              : 'The strategy proposed nothing more; the search ends here.',
          )
          break
        }
        setStop('idle', 'The search has nothing left to run.')
        break
      }
      if (completions.length > 0 || nextToTell() !== undefined) continue
      // wait for a completion, an interrupt, the time budget or the end of the grace period
      let timeout: number | null = null
      if (graceDeadline !== null) timeout = graceDeadline - Date.now()
      else if (!stop && budget.timeMs !== null)
        timeout = Math.max(0, budget.timeMs - a.elapsed()) + 1
      if (graceDeadline !== null && timeout !== null && timeout <= 0) {
        // grace is over: abandon the running trials; they stay `running` and are rerun on resume
        for (const r of running.values()) r.abort()
        running.clear()
        a.running?.clear()
        break
      }
      if (stop === null && a.signal?.aborted) continue
      let timer: ReturnType<typeof setTimeout> | null = null
      await new Promise<void>((resolve) => {
        wake = resolve
        if (timeout !== null) timer = setTimeout(notify, timeout)
      })
      if (timer !== null) clearTimeout(timer)
    }
  } finally {
    a.signal?.removeEventListener('abort', onAbort)
  }
  const final = stop as { reason: EndReason; message: string } | null
  return { reason: final?.reason ?? 'idle', message: final?.message ?? 'The search ended.', nextId }
}
