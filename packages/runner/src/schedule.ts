import {
  type PendingTrial,
  prepareProposal,
  type SamplingStrategy,
  type SearchSpace,
  type TrialResult,
  toTrialResult,
  trialResultOf,
} from '@naskit/core'
import { trialRngState } from './evaluate'
import type { Executor } from './executor'
import type { Store } from './store'
import type { EndReason, RunEvent, StoredConfig } from './types'

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
  counts(): { done: number; failed: number; best: { id: number; objective: number } | null }
  emit(e: RunEvent): void
  signal?: AbortSignal
}

/** Finished trials, or milliseconds, between two checkpoints of the write-ahead log. */
export const WAL_CHECKPOINT_TRIALS = 10
export const WAL_CHECKPOINT_MS = 5_000

/** The ask/evaluate/tell loop with `workers` evaluations in flight. */
export async function schedule(
  a: ScheduleArgs,
): Promise<{ reason: EndReason; message: string; nextId: number }> {
  const { store, space, sampling, executor, config, emit } = a
  const budget = config.budget
  let nextId = a.nextId
  let sinceWalCheckpoint = 0
  let lastWalCheckpoint = Date.now()
  const running = new Map<number, { pending: PendingTrial; abort(): void }>()
  const completions: Array<TrialResult & { elapsedMs: number }> = []
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
    const run = executor.run(
      {
        trialId: p.id,
        arch: p.arch,
        rngState: trialRngState(config.seed, p.id),
        ...(p.fidelity ? { fidelity: p.fidelity } : {}),
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
      completions.push({ ...trialResultOf(p, report), elapsedMs: a.elapsed() })
      notify()
    })
  }

  if (a.rerun.length > 0) {
    // count the new attempt of trials that were running when the experiment stopped
    store.commit({ started: a.rerun.map((r) => ({ ...r, startedAt: Date.now() })) })
  }
  for (const r of a.rerun) dispatch(r)

  const setStop = (reason: EndReason, message: string) => {
    if (stop) return
    stop = { reason, message }
    if (reason === 'interrupted') graceDeadline = Date.now() + config.graceMs
    emit({
      type: 'stopping',
      reason,
      message,
      running: running.size,
      graceMs: reason === 'interrupted' ? config.graceMs : null,
    })
  }

  const checkStop = () => {
    const { done, failed, best } = a.counts()
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
    if (budget.timeMs !== null && a.elapsed() >= budget.timeMs)
      setStop('time', `Used the time budget of ${Math.round(budget.timeMs / 1000)} s.`)
  }

  try {
    for (;;) {
      const finished = completions.splice(0)
      if (finished.length > 0) {
        await sampling.tell(finished)
        for (const t of finished) a.account(t)
      }
      checkStop()
      const started: Array<PendingTrial & { startedAt: number }> = []
      const invalid: Array<TrialResult & { elapsedMs: number }> = []
      let asked = false
      let idle = false
      if (!stop) {
        const status = sampling.status?.() ?? { done: false }
        if (status.done) setStop('strategy', status.message)
        else {
          const { done } = a.counts()
          const free = executor.slots - running.size
          const left = budget.trials === null ? free : budget.trials - done - running.size
          const n = Math.min(free, left)
          if (n > 0) {
            asked = true
            const proposals = await sampling.ask(n)
            for (const p of proposals.slice(0, n)) {
              const id = nextId++
              const checked = prepareProposal(space, p)
              if ('error' in checked) {
                const now = Date.now()
                invalid.push({
                  ...toTrialResult({
                    id,
                    arch: p.arch,
                    key: `invalid:${id}`,
                    outcome: { error: checked.error },
                    timings: { startedAt: now, finishedAt: now, durationMs: 0 },
                  }),
                  elapsedMs: a.elapsed(),
                })
                continue
              }
              started.push({ id, ...checked, startedAt: Date.now() })
            }
            if (invalid.length > 0) {
              await sampling.tell(invalid)
              for (const t of invalid) a.account(t)
            }
            if (proposals.length === 0 && running.size === 0) idle = true
          }
        }
      }
      if (finished.length > 0 || started.length > 0 || invalid.length > 0 || asked) {
        a.store.commit({
          finished: [...finished, ...invalid],
          started,
          checkpoint: { state: sampling.state(), nextTrialId: nextId },
        })
        sinceWalCheckpoint += finished.length + invalid.length
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
      for (const t of [...finished, ...invalid]) {
        emit({
          type: 'trial',
          trial: t,
          ...a.counts(),
          running: running.size + started.length,
          elapsedMs: a.elapsed(),
          budget,
        })
      }
      for (const p of started) dispatch(p)

      if (running.size === 0 && completions.length === 0) {
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
        if (invalid.length > 0) continue
        setStop('idle', 'The search has nothing left to run.')
        break
      }
      if (completions.length > 0) continue
      // wait for a completion, an interrupt, the time budget or the end of the grace period
      let timeout: number | null = null
      if (graceDeadline !== null) timeout = graceDeadline - Date.now()
      else if (!stop && budget.timeMs !== null)
        timeout = Math.max(0, budget.timeMs - a.elapsed()) + 1
      if (graceDeadline !== null && timeout !== null && timeout <= 0) {
        // grace is over: abandon the running trials; they stay `running` and are rerun on resume
        for (const r of running.values()) r.abort()
        running.clear()
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
