import type { RunEvent } from './types'

/** Where progress goes. */
export interface ProgressSink {
  write(text: string): void
  isTTY?: boolean
  columns?: number
}

/** Formats milliseconds as `1h02m`, `3m05s`, `12s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?'
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`
}

function fmtObjective(v: number): string {
  return Math.abs(v) >= 1000 || (Math.abs(v) < 0.001 && v !== 0) ? v.toExponential(3) : v.toFixed(4)
}

/** How a trial's fidelity is shown: `3 ep`, `25% data`, `3 ep 25% data`; null without one. */
export function fidelityLabel(
  f: { epochs?: number; dataFraction?: number } | undefined,
): string | null {
  if (!f) return null
  const parts: string[] = []
  if (typeof f.epochs === 'number') parts.push(`${f.epochs} ep`)
  if (typeof f.dataFraction === 'number')
    parts.push(`${Math.round(f.dataFraction * 1000) / 10}% data`)
  return parts.length === 0 ? null : parts.join(' ')
}

/** Progress state shared by the reporters. */
class Tracker {
  done = 0
  failed = 0
  running = 0
  best: { id: number; objective: number } | null = null
  budgetTrials: number | null = null
  budgetTimeMs: number | null = null
  elapsedMs = 0
  /** When `elapsedMs` was last reported. */
  elapsedAt = Date.now()
  sessionStart = Date.now()
  sessionStartDone = 0
  sessionStartElapsed = 0
  /** Trials finished this session per fidelity (multi-fidelity rungs), in order of first sight. */
  byFidelity = new Map<string, { order: number; count: number }>()

  update(e: RunEvent): void {
    if (e.type === 'start') {
      this.done = e.done
      this.failed = e.failed
      this.budgetTrials = e.budget.trials
      this.budgetTimeMs = e.budget.timeMs
      this.sessionStart = Date.now()
      this.sessionStartDone = e.done
      this.elapsedMs = e.elapsedMs
      this.elapsedAt = Date.now()
    } else if (e.type === 'trial') {
      this.done = e.done
      this.failed = e.failed
      this.running = e.running
      this.best = e.best
      this.elapsedMs = e.elapsedMs
      this.elapsedAt = Date.now()
      const label = fidelityLabel(e.trial.fidelity)
      if (label !== null) {
        const seen = this.byFidelity.get(label)
        if (seen) seen.count++
        else
          this.byFidelity.set(label, {
            order: e.trial.fidelity?.epochs ?? e.trial.fidelity?.dataFraction ?? 0,
            count: 1,
          })
      }
    }
  }

  /** `1 ep 9 · 3 ep 3 · 9 ep 1`: trials per fidelity, lowest first, once there are several. */
  rungs(): string | null {
    if (this.byFidelity.size < 2) return null
    return [...this.byFidelity]
      .sort((a, b) => a[1].order - b[1].order)
      .map(([label, v]) => `${label} ${v.count}`)
      .join(' · ')
  }

  eta(): number | null {
    const rate = (this.done - this.sessionStartDone) / Math.max(1, Date.now() - this.sessionStart)
    const byTrials =
      this.budgetTrials !== null && rate > 0 ? (this.budgetTrials - this.done) / rate : null
    const byTime = this.budgetTimeMs !== null ? Math.max(0, this.budgetTimeMs - this.now()) : null
    if (byTrials === null) return byTime
    if (byTime === null) return byTrials
    return Math.min(byTrials, byTime)
  }

  /** Run time now, extrapolated from the last report. */
  now(): number {
    return this.elapsedMs + (Date.now() - this.elapsedAt)
  }

  fraction(): number | null {
    const f: number[] = []
    if (this.budgetTrials !== null) f.push(this.done / this.budgetTrials)
    if (this.budgetTimeMs !== null) f.push(this.now() / this.budgetTimeMs)
    return f.length === 0 ? null : Math.min(1, Math.max(...f))
  }

  summary(): string {
    const parts = [
      `${this.done}${this.budgetTrials !== null ? `/${this.budgetTrials}` : ''} trials`,
    ]
    parts.push(
      this.best ? `best ${fmtObjective(this.best.objective)} (#${this.best.id})` : 'best —',
    )
    parts.push(`${this.running} running`)
    if (this.failed > 0) parts.push(`${this.failed} failed`)
    const rungs = this.rungs()
    if (rungs !== null) parts.push(`by fidelity ${rungs}`)
    const eta = this.eta()
    parts.push(formatDuration(this.now()))
    if (eta !== null && (this.done > this.sessionStartDone || this.budgetTimeMs !== null)) {
      parts.push(`ETA ${formatDuration(eta)}`)
    }
    return parts.join(' · ')
  }
}

function endLines(e: Extract<RunEvent, { type: 'end' }>): string[] {
  const lines = [`${e.message}`]
  lines.push(
    `${e.done} trials (${e.failed} failed) in ${formatDuration(e.elapsedMs)}; best ${e.best ? `${fmtObjective(e.best.objective)} (trial ${e.best.id})` : '—'}.`,
  )
  lines.push(`Results: ${e.dir}  ·  report: naskit report ${e.dir}`)
  if (e.status !== 'completed' && e.resumeCommand) lines.push(`Resume with: ${e.resumeCommand}`)
  return lines
}

function startLine(e: Extract<RunEvent, { type: 'start' }>): string {
  const verb = e.resumed
    ? `Resuming ${e.dir} (${e.done} trials done${e.rerun > 0 ? `, ${e.rerun} to rerun` : ''})`
    : `Searching into ${e.dir}`
  return `${verb}: space ${e.space}, strategy ${e.strategy}, evaluator ${e.evaluator} (${e.executor === 'threads' ? (e.threads !== undefined ? `${e.threads} worker threads, ${e.workers} trials in flight` : `${e.workers} worker thread${e.workers === 1 ? '' : 's'}`) : e.executor === 'redis' ? `${e.workers} in flight on the Redis queue` : `${e.workers} in flight, in-process`}).`
}

/** NDJSON: one JSON object per event. */
export function jsonReporter(out: ProgressSink): (e: RunEvent) => void {
  return (e) => out.write(`${JSON.stringify({ ...e, time: Date.now() })}\n`)
}

/** Plain lines every `intervalMs` (for logs and CI). */
export function lineReporter(out: ProgressSink, intervalMs = 10_000): (e: RunEvent) => void {
  const t = new Tracker()
  let last = 0
  return (e) => {
    t.update(e)
    if (e.type === 'start') out.write(`${startLine(e)}\n`)
    else if (e.type === 'trial') {
      if (
        Date.now() - last >= intervalMs ||
        (t.budgetTrials !== null && e.done >= t.budgetTrials)
      ) {
        last = Date.now()
        out.write(`[naskit] ${t.summary()}\n`)
      }
    } else if (e.type === 'warning') out.write(`warning: ${e.message}\n`)
    else if (e.type === 'info') out.write(`${e.message}\n`)
    else if (e.type === 'stopping') {
      if (e.running > 0)
        out.write(
          `${e.message} Waiting for ${e.running} running trial(s)${e.graceMs !== null ? ` (up to ${formatDuration(e.graceMs)})` : ''}…\n`,
        )
    } else if (e.type === 'end') for (const l of endLines(e)) out.write(`${l}\n`)
  }
}

/** A redrawn progress bar for terminals. */
export function ttyReporter(out: ProgressSink): (e: RunEvent) => void {
  const t = new Tracker()
  let drawn = false
  let lastDraw = 0
  const clear = () => {
    if (drawn) out.write('\r\x1b[2K')
    drawn = false
  }
  const draw = (force = false) => {
    if (!force && Date.now() - lastDraw < 100) return
    lastDraw = Date.now()
    const width = Math.max(10, Math.min(30, (out.columns ?? 80) - 70))
    const f = t.fraction()
    const filled = f === null ? 0 : Math.round(f * width)
    const bar = f === null ? '' : `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] `
    out.write(`\r\x1b[2K${bar}${t.summary()}`)
    drawn = true
  }
  let ticker: ReturnType<typeof setInterval> | null = null
  return (e) => {
    t.update(e)
    if (e.type === 'start') {
      out.write(`${startLine(e)}\n`)
      draw(true)
      // keep the clock and the ETA moving during long trials
      ticker = setInterval(() => draw(true), 1000)
      ticker.unref?.()
    } else if (e.type === 'trial') draw()
    else if (e.type === 'one-shot') {
      clear()
      out.write(
        `\r\x1b[2Kone-shot search ${Math.round(e.fraction * 100)}%${e.message ? ` ${e.message}` : ''}`,
      )
      drawn = true
    } else if (e.type === 'warning' || e.type === 'info') {
      clear()
      out.write(e.type === 'warning' ? `warning: ${e.message}\n` : `${e.message}\n`)
      draw(true)
    } else if (e.type === 'stopping') {
      if (e.running === 0) return
      clear()
      out.write(`${e.message} Waiting for ${e.running} running trial(s)…\n`)
      draw(true)
    } else if (e.type === 'end') {
      if (ticker) clearInterval(ticker)
      draw(true)
      out.write('\n')
      for (const l of endLines(e)) out.write(`${l}\n`)
    }
  }
}
