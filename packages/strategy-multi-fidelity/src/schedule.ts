import type { JsonValue, Proposal, TrialResult } from '@naskit/core'
import { fidelityOf, type Ladder } from './ladder'
import { type Outcome, type Pool, slim, usableObjective } from './pool'

/** Which schedule a proposal belongs to (the `multiFidelity` field of its meta). */
export type Method = 'successive-halving' | 'hyperband' | 'asha'

/**
 * The `meta` of every proposal of a multi-fidelity strategy (stored with the trial).
 * `rung` counts from the lowest resource (rung 0) of the strategy's ladder, so rungs of
 * different brackets that share a fidelity share a number.
 */
export interface RungMeta {
  multiFidelity: Method
  /** The bracket: for successive halving its round, for Hyperband its place in the schedule. */
  bracket: number
  rung: number
  /** The trial of the same candidate at the rung below, which this one continues. */
  promotedFrom?: number
}

/** One trial of a rung: queued, running (asked), or finished. */
export interface Entry {
  cand: number
  /** The candidate's trial at the rung below (a promotion), if any. */
  from?: number
  state: 'queued' | 'running' | 'done'
  result?: Outcome
  /** ASHA: the entry was promoted to the rung above. */
  promoted?: boolean
}

/** Where a running trial belongs. */
export interface Slot {
  bracket: number
  rung: number
}

/** What every schedule shares: the ladder, the pool, the running trials. */
export abstract class Schedule {
  /** Running trials by architecture key (a candidate runs at most one trial at a time). */
  protected running = new Map<string, Slot>()

  constructor(
    readonly method: Method,
    protected readonly ladder: Ladder,
    protected readonly pool: Pool,
  ) {}

  get top(): number {
    return this.ladder.levels.length - 1
  }

  protected proposal(entry: Entry, slot: Slot): Proposal {
    const c = this.pool.candidates[entry.cand]
    if (!c) throw new Error(`unknown candidate ${entry.cand}`)
    entry.state = 'running'
    this.running.set(c.key, slot)
    const meta: RungMeta = {
      multiFidelity: this.method,
      bracket: slot.bracket,
      rung: slot.rung,
      ...(entry.from === undefined ? {} : { promotedFrom: entry.from }),
    }
    return {
      arch: c.arch,
      fidelity: fidelityOf(this.ladder, slot.rung),
      meta: meta as unknown as JsonValue,
      ...(entry.from === undefined ? {} : { continueFrom: entry.from }),
    }
  }

  /** The outcome of a result for a running trial, and where it belongs; null when it is not ours. */
  protected take(r: TrialResult): { slot: Slot; cand: number; outcome: Outcome } | null {
    const slot = this.running.get(r.key)
    const cand = this.pool.index(r.key)
    if (!slot || cand === undefined) return null
    this.running.delete(r.key)
    const objective = usableObjective(r)
    const outcome: Outcome = {
      id: r.id,
      objective,
      status: objective === null ? 'failed' : 'ok',
      metrics: { ...r.metrics },
      ...(r.error ? { error: r.error } : {}),
      ...(r.fidelity ? { fidelity: r.fidelity } : {}),
    }
    if (objective === null && !outcome.error) {
      // a NaN objective: told to the sampler as the failed trial it is here
      outcome.metrics = { ...outcome.metrics, objective: null }
      outcome.error = {
        code: 'E_BAD_METRICS',
        message: `The objective is not a finite number (${String(r.objective)}).`,
      }
    }
    return { slot, cand, outcome }
  }

  /** Tells the sampler a candidate's result, and keeps only what ranking needs of it. */
  protected feed(cand: number, entry: Entry): void {
    if (!entry.result) return
    this.pool.feed(cand, entry.result)
    entry.result = slim(entry.result)
  }

  /** A finished trial whose candidate's sampler was already told: the outcome without metrics. */
  protected keep(cand: number, outcome: Outcome): Outcome {
    return this.pool.candidates[cand]?.told ? slim(outcome) : outcome
  }

  /**
   * The `count` best finished entries (objective descending, earlier trial first on ties);
   * failed ones never count.
   */
  protected static best(entries: readonly Entry[], count: number): Entry[] {
    const ok = entries.filter((e) => e.state === 'done' && e.result?.objective !== null)
    ok.sort(
      (a, b) =>
        (b.result?.objective as number) - (a.result?.objective as number) ||
        (a.result?.id as number) - (b.result?.id as number),
    )
    return ok.slice(0, Math.max(0, count))
  }

  /** Rebuilds the running trials from the entries of the brackets (after a restore). */
  protected reindex(brackets: ReadonlyArray<{ index: number; rungs: Entry[][] }>): void {
    this.running.clear()
    for (const b of brackets) {
      for (let k = 0; k < b.rungs.length; k++) {
        for (const e of b.rungs[k] as Entry[]) {
          const key = this.pool.candidates[e.cand]?.key
          if (key !== undefined && e.state === 'running')
            this.running.set(key, { bracket: b.index, rung: k })
        }
      }
    }
  }

  /**
   * Ids of finished trials that a proposal may still continue (`continueFrom`): those a rung
   * may yet promote, and those whose continuation was asked but has not finished (a host that
   * reruns it after a crash needs them again). A host keeping trained weights can drop the rest.
   */
  abstract promotable(): number[]

  /** The `from` of the entries asked (queued or running) but not finished. */
  protected static pendingFrom(entries: Iterable<Entry>, out: Set<number>): void {
    for (const e of entries) if (e.state !== 'done' && e.from !== undefined) out.add(e.from)
  }

  abstract ask(n: number): Promise<Proposal[]>
  abstract tell(results: readonly TrialResult[]): Promise<void>
  abstract done(): string | null
  abstract state(): JsonValue
  abstract restore(state: unknown): void
}

export function entryJson(e: Entry): JsonValue {
  return {
    c: e.cand,
    s: e.state,
    ...(e.from === undefined ? {} : { f: e.from }),
    ...(e.result ? { r: e.result as unknown as JsonValue } : {}),
    ...(e.promoted ? { p: true } : {}),
  }
}

export function entryFromJson(raw: unknown): Entry | null {
  const e = raw as { c?: unknown; s?: unknown; f?: unknown; r?: unknown; p?: unknown } | null
  if (!e || typeof e.c !== 'number') return null
  if (e.s !== 'queued' && e.s !== 'running' && e.s !== 'done') return null
  return {
    cand: e.c,
    state: e.s,
    ...(typeof e.f === 'number' ? { from: e.f } : {}),
    ...(e.r && typeof e.r === 'object' ? { result: e.r as Outcome } : {}),
    ...(e.p === true ? { promoted: true } : {}),
  }
}
