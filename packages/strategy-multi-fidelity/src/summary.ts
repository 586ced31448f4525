import type { Fidelity, JsonValue, TrialResult } from '@naskit/core'
import type { Method, RungMeta } from './schedule'

/** What {@link summarizeRungs} reads of a stored trial. */
export type RungTrial = Pick<TrialResult, 'id' | 'status' | 'objective'> & {
  meta?: JsonValue | undefined
  fidelity?: Fidelity | undefined
  /** A host's state of a trial that has not finished yet (`running`). */
  state?: string
}

/** The rung part of a trial's `meta`, or null when the trial is not a multi-fidelity one. */
export function rungMeta(meta: unknown): RungMeta | null {
  const m = meta as Partial<RungMeta> | null | undefined
  if (!m || typeof m !== 'object') return null
  if (
    m.multiFidelity !== 'successive-halving' &&
    m.multiFidelity !== 'hyperband' &&
    m.multiFidelity !== 'asha'
  )
    return null
  if (typeof m.rung !== 'number' || typeof m.bracket !== 'number') return null
  return {
    multiFidelity: m.multiFidelity,
    bracket: m.bracket,
    rung: m.rung,
    ...(typeof m.promotedFrom === 'number' ? { promotedFrom: m.promotedFrom } : {}),
  }
}

/** One rung: the trials it trained, at what fidelity, and which went on to the next rung. */
export interface RungSummary {
  rung: number
  /** The fidelity of its trials (of the first one seen). */
  fidelity: Fidelity | null
  /** Trials of the rung (finished or not). */
  trained: number
  ok: number
  failed: number
  /** Trials still running (hosts that pass unfinished trials with a `state`). */
  running: number
  /** Ids of the rung's trials that were promoted (a trial of the rung above continues them). */
  promoted: number[]
  /** The best finished trial of the rung. */
  best: { id: number; objective: number } | null
}

/** The rungs of a multi-fidelity search, overall and per bracket. */
export interface RungsSummary {
  method: Method
  rungs: RungSummary[]
  brackets: Array<{ bracket: number; rungs: RungSummary[] }>
  /**
   * Training epochs the trials asked for: `fromScratch` when every trial trains from scratch,
   * `continued` when promoted trials continue the trial they were promoted from (and train only
   * the extra epochs). Trials without an epoch count add nothing.
   */
  epochs: { fromScratch: number; continued: number }
  /** The trial to report: the best finished one at the highest rung that has one. */
  incumbent: { id: number; objective: number; rung: number } | null
}

function rungsOf(
  trials: Array<{ t: RungTrial; m: RungMeta }>,
  promotedIds: Set<number>,
): RungSummary[] {
  const by = new Map<number, RungSummary>()
  for (const { t, m } of trials) {
    let r = by.get(m.rung)
    if (!r) {
      r = {
        rung: m.rung,
        fidelity: t.fidelity ?? null,
        trained: 0,
        ok: 0,
        failed: 0,
        running: 0,
        promoted: [],
        best: null,
      }
      by.set(m.rung, r)
    }
    r.trained++
    if (t.state !== undefined && t.state !== 'ok' && t.state !== 'failed' && t.state !== 'done') {
      r.running++
      continue
    }
    const v =
      t.status === 'ok' && typeof t.objective === 'number' && Number.isFinite(t.objective)
        ? t.objective
        : null
    if (v === null) r.failed++
    else {
      r.ok++
      if (r.best === null || v > r.best.objective) r.best = { id: t.id, objective: v }
    }
    if (promotedIds.has(t.id)) r.promoted.push(t.id)
  }
  return [...by.values()].sort((a, b) => a.rung - b.rung)
}

/**
 * Sums up the rungs of a multi-fidelity search from its stored trials (their `meta`, as the
 * strategies of this package write it, and `fidelity`): per rung, how many candidates it
 * trained, at what fidelity, which were promoted, and the best; the same per bracket; the
 * epochs spent; and the incumbent. Trials of other strategies are ignored; null when there is
 * none of this package.
 */
export function summarizeRungs(trials: Iterable<RungTrial>): RungsSummary | null {
  const ours: Array<{ t: RungTrial; m: RungMeta }> = []
  const epochsOf = new Map<number, number>()
  for (const t of trials) {
    const m = rungMeta(t.meta)
    if (m) ours.push({ t, m })
    if (typeof t.fidelity?.epochs === 'number') epochsOf.set(t.id, t.fidelity.epochs)
  }
  if (ours.length === 0) return null
  ours.sort((a, b) => a.t.id - b.t.id)
  const promotedIds = new Set<number>()
  for (const { m } of ours) if (m.promotedFrom !== undefined) promotedIds.add(m.promotedFrom)
  const bracketIds = [...new Set(ours.map((x) => x.m.bracket))].sort((a, b) => a - b)
  let fromScratch = 0
  let continued = 0
  for (const { t, m } of ours) {
    const e = t.fidelity?.epochs
    if (typeof e !== 'number') continue
    fromScratch += e
    const before = m.promotedFrom === undefined ? undefined : epochsOf.get(m.promotedFrom)
    continued += before === undefined ? e : Math.max(0, e - before)
  }
  const rungs = rungsOf(ours, promotedIds)
  let incumbent: RungsSummary['incumbent'] = null
  for (let i = rungs.length - 1; i >= 0 && incumbent === null; i--) {
    const r = rungs[i] as RungSummary
    if (r.best) incumbent = { ...r.best, rung: r.rung }
  }
  return {
    method: (ours[0] as { m: RungMeta }).m.multiFidelity,
    rungs,
    brackets: bracketIds.map((bracket) => ({
      bracket,
      rungs: rungsOf(
        ours.filter((x) => x.m.bracket === bracket),
        promotedIds,
      ),
    })),
    epochs: { fromScratch, continued },
    incumbent,
  }
}

function fidelityText(f: Fidelity | null): string {
  if (!f) return ''
  const parts: string[] = []
  if (typeof f.epochs === 'number') parts.push(`${f.epochs} ep`)
  if (typeof f.dataFraction === 'number')
    parts.push(`${Math.round(f.dataFraction * 1000) / 10}% data`)
  for (const [k, v] of Object.entries(f))
    if (k !== 'epochs' && k !== 'dataFraction' && typeof v === 'number') parts.push(`${k} ${v}`)
  return parts.join(', ')
}

/**
 * One line for a progress display: `rung 0 (1 ep) 9 → 3 · rung 1 (3 ep) 3 → 1 · rung 2 (9 ep) 1`
 * (trials trained → promoted; `+2 running` when some are not finished).
 */
export function formatRungs(summary: RungsSummary): string {
  const top = summary.rungs.length - 1
  return summary.rungs
    .map((r, i) => {
      const f = fidelityText(r.fidelity)
      const head = `rung ${r.rung}${f ? ` (${f})` : ''} ${r.trained - r.running}`
      const promoted = i < top ? ` → ${r.promoted.length}` : ''
      const running = r.running > 0 ? ` +${r.running} running` : ''
      return `${head}${promoted}${running}`
    })
    .join(' · ')
}
