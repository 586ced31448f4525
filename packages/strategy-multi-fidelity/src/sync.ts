import type { JsonValue, Proposal, TrialResult } from '@naskit/core'
import type { Ladder } from './ladder'
import type { Feedback, Pool } from './pool'
import { type Entry, entryFromJson, entryJson, type Method, Schedule } from './schedule'

/** Where a bracket starts and how many candidates its first rung trains. */
export interface BracketPlan {
  /** First rung (0 = the lowest resource). */
  start: number
  /** Candidates of the first rung. */
  n: number
}

interface Bracket {
  index: number
  start: number
  n: number
  /** Entries by rung (rungs below `start` stay empty). */
  rungs: Entry[][]
  /** The first rung takes no more candidates. */
  closed: boolean
  /** The next rung to decide. */
  next: number
}

/**
 * Synchronous successive halving, one bracket after another (`plan(i)` says where bracket i
 * starts and how many candidates it has; null ends the schedule). A rung is decided when all its
 * trials have finished: the best ⌊n/η⌋ (at least one) of its n trials are promoted to the next
 * rung, failed ones never. With `parallel`, the next bracket starts whenever the ones under way
 * have nothing to run, so that every worker keeps busy; without it brackets run one at a time.
 */
export class SyncSchedule extends Schedule {
  private brackets: Bracket[] = []
  private started = 0
  /** Trials asked and promotions made, by rung, over every bracket (for the summary). */
  private trained: number[]
  private promoted: number[]

  constructor(
    method: Method,
    ladder: Ladder,
    pool: Pool,
    private readonly plan: (i: number) => BracketPlan | null,
    private readonly opts: { parallel: boolean; feedback: Feedback },
  ) {
    super(method, ladder, pool)
    this.trained = ladder.levels.map(() => 0)
    this.promoted = ladder.levels.map(() => 0)
  }

  async ask(n: number): Promise<Proposal[]> {
    const out: Proposal[] = []
    if (n <= 0) return out
    for (;;) {
      this.prune()
      for (const b of this.brackets) {
        if (out.length >= n) break
        await this.give(b, n, out)
      }
      if (out.length >= n || this.pool.closed !== null) break
      if (!this.opts.parallel && this.brackets.length > 0) break
      if (this.brackets.some((b) => !b.closed)) break // the sampler has nothing now
      const plan = this.plan(this.started)
      if (plan === null) break
      this.brackets.push({
        index: this.started++,
        start: plan.start,
        n: plan.n,
        rungs: this.ladder.levels.map(() => []),
        closed: false,
        next: plan.start,
      })
    }
    this.prune()
    await this.pool.flush()
    return out
  }

  /** Adds bracket `b`'s queued promotions and new first-rung candidates to `out`, up to `n`. */
  private async give(b: Bracket, n: number, out: Proposal[]): Promise<void> {
    for (;;) {
      for (let k = b.start; k <= this.top && out.length < n; k++) {
        for (const e of b.rungs[k] as Entry[]) {
          if (out.length >= n) break
          if (e.state !== 'queued') continue
          out.push(this.proposal(e, { bracket: b.index, rung: k }))
          this.trained[k] = (this.trained[k] ?? 0) + 1
        }
      }
      if (b.closed || out.length >= n) return
      const first = b.rungs[b.start] as Entry[]
      const got = await this.pool.draw(Math.min(n - out.length, b.n - first.length))
      for (const cand of got) {
        const e: Entry = { cand, state: 'queued' }
        first.push(e)
        out.push(this.proposal(e, { bracket: b.index, rung: b.start }))
        this.trained[b.start] = (this.trained[b.start] ?? 0) + 1
      }
      if (first.length < b.n && this.pool.closed === null) return
      b.closed = true
      // a first rung cut short by the sampler may be complete already
      if (!this.advance(b)) return
    }
  }

  /** Decides every complete rung of `b`; true when that queued promotions. */
  private advance(b: Bracket): boolean {
    let queued = false
    while (b.next <= this.top && b.closed) {
      const k = b.next
      const entries = b.rungs[k] as Entry[]
      if (entries.some((e) => e.state !== 'done')) break
      b.next++
      const winners =
        k === this.top
          ? []
          : Schedule.best(entries, Math.max(1, Math.floor(entries.length / this.ladder.eta)))
      const up = new Set(winners)
      if (this.opts.feedback === 'final')
        for (const e of entries) if (!up.has(e)) this.feed(e.cand, e)
      for (const e of winners) {
        ;(b.rungs[k + 1] as Entry[]).push({
          cand: e.cand,
          from: e.result?.id as number,
          state: 'queued',
        })
        this.promoted[k] = (this.promoted[k] ?? 0) + 1
        queued = true
      }
      // results that no rung needs any more
      for (const e of entries) if (e.result) e.result = { ...e.result, metrics: {} }
      if (winners.length === 0) b.next = this.top + 1
    }
    return queued
  }

  /** Drops finished brackets. */
  private prune(): void {
    this.brackets = this.brackets.filter((b) => b.next <= this.top)
  }

  async tell(results: readonly TrialResult[]): Promise<void> {
    const touched = new Set<Bracket>()
    for (const r of results) {
      const t = this.take(r)
      if (!t) continue
      const b = this.brackets.find((x) => x.index === t.slot.bracket)
      const e = b?.rungs[t.slot.rung]?.find((x) => x.cand === t.cand && x.state === 'running')
      if (!b || !e) continue
      e.state = 'done'
      e.result = t.outcome
      if (this.opts.feedback === 'first') this.feed(t.cand, e)
      else e.result = this.keep(t.cand, t.outcome)
      touched.add(b)
    }
    for (const b of [...touched].sort((x, y) => x.index - y.index)) this.advance(b)
    this.prune()
    await this.pool.flush()
  }

  promotable(): number[] {
    const out = new Set<number>()
    for (const b of this.brackets) {
      for (let k = b.start; k <= this.top; k++) {
        const entries = b.rungs[k] as Entry[]
        Schedule.pendingFrom(entries, out)
        if (k >= b.next && k < this.top)
          for (const e of entries) if (e.result && e.result.objective !== null) out.add(e.result.id)
      }
    }
    return [...out].sort((x, y) => x - y)
  }

  done(): string | null {
    if (this.brackets.length > 0) return null
    if (this.pool.closed === null && this.plan(this.started) !== null) return null
    const brackets = `${this.started} bracket${this.started === 1 ? '' : 's'}`
    const why =
      this.plan(this.started) === null
        ? this.started === 1
          ? 'its bracket ran'
          : `all ${brackets} ran`
        : `${this.pool.closed}, after ${brackets}`
    return `${why}. ${this.rungLine()}`
  }

  private rungLine(): string {
    const parts: string[] = []
    this.ladder.levels.forEach((level, k) => {
      const t = this.trained[k] ?? 0
      if (t === 0) return
      const p = this.promoted[k] ?? 0
      parts.push(
        `rung ${k} (${level} ${this.ladder.resource === 'epochs' ? (level === 1 ? 'epoch' : 'epochs') : 'of the data'}): ${t} trained${k < this.top ? `, ${p} promoted` : ''}`,
      )
    })
    return parts.length > 0 ? `${parts.join('; ')}.` : 'No trial ran.'
  }

  state(): JsonValue {
    return {
      started: this.started,
      trained: [...this.trained],
      promoted: [...this.promoted],
      brackets: this.brackets.map((b) => ({
        index: b.index,
        start: b.start,
        n: b.n,
        closed: b.closed,
        next: b.next,
        rungs: b.rungs.map((r) => r.map(entryJson)),
      })),
    }
  }

  restore(state: unknown): void {
    const s = state as {
      started?: unknown
      trained?: unknown
      promoted?: unknown
      brackets?: unknown
    } | null
    const bad = () => new Error('malformed schedule')
    if (!s || typeof s.started !== 'number' || !Array.isArray(s.brackets)) throw bad()
    const levels = this.ladder.levels.length
    const counts = (v: unknown) =>
      Array.isArray(v) && v.length === levels && v.every((x) => typeof x === 'number')
        ? (v as number[])
        : null
    const trained = counts(s.trained)
    const promoted = counts(s.promoted)
    if (!trained || !promoted) throw bad()
    const brackets: Bracket[] = []
    for (const raw of s.brackets as unknown[]) {
      const b = raw as Partial<Bracket> & { rungs?: unknown }
      if (
        typeof b.index !== 'number' ||
        typeof b.start !== 'number' ||
        typeof b.n !== 'number' ||
        typeof b.closed !== 'boolean' ||
        typeof b.next !== 'number' ||
        !Array.isArray(b.rungs) ||
        b.rungs.length !== levels
      )
        throw bad()
      const rungs = (b.rungs as unknown[]).map((r) => {
        if (!Array.isArray(r)) throw bad()
        return r.map((e) => {
          const entry = entryFromJson(e)
          if (!entry || !this.pool.candidates[entry.cand]) throw bad()
          return entry
        })
      })
      brackets.push({
        index: b.index,
        start: b.start,
        n: b.n,
        closed: b.closed,
        next: b.next,
        rungs,
      })
    }
    this.started = s.started
    this.trained = [...trained]
    this.promoted = [...promoted]
    this.brackets = brackets
    this.reindex(brackets)
  }
}
