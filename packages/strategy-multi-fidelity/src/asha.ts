import type { JsonValue, Proposal, TrialResult } from '@naskit/core'
import type { Ladder } from './ladder'
import type { Pool } from './pool'
import { type Entry, entryFromJson, entryJson, Schedule } from './schedule'

interface AshaBracket {
  start: number
  /** Entries by rung (rungs below `start` stay empty). */
  rungs: Entry[][]
}

/**
 * Asynchronous successive halving (Li et al. 2020). Whenever a worker asks for work, a
 * candidate is promoted if one can be: the best ⌊n/η⌋ of the n finished trials of a rung may
 * move up, highest rung first, each candidate once. Otherwise a new candidate starts at the
 * lowest rung of its bracket. Nothing waits for a rung to fill up. With several brackets, new
 * candidates take turns: bracket s starts at rung s (asynchronous Hyperband).
 */
export class AshaSchedule extends Schedule {
  private brackets: AshaBracket[]
  private drawn = 0

  constructor(
    ladder: Ladder,
    pool: Pool,
    brackets: number,
    private readonly maxCandidates: number,
  ) {
    super('asha', ladder, pool)
    const count = Math.max(1, Math.min(brackets, ladder.levels.length))
    this.brackets = Array.from({ length: count }, (_, s) => ({
      start: s,
      rungs: ladder.levels.map(() => []),
    }))
  }

  /** The next promotion: highest rung first, the lower bracket first on a tie. */
  private promotion(): { bracket: AshaBracket; s: number; rung: number; entry: Entry } | null {
    for (let k = this.top - 1; k >= 0; k--) {
      for (let s = 0; s < this.brackets.length; s++) {
        const b = this.brackets[s] as AshaBracket
        if (k < b.start) continue
        const finished = (b.rungs[k] as Entry[]).filter((e) => e.state === 'done')
        const quota = Math.floor(finished.length / this.ladder.eta)
        if (quota === 0) continue
        const entry = Schedule.best(finished, quota).find((e) => !e.promoted)
        if (entry) return { bracket: b, s, rung: k, entry }
      }
    }
    return null
  }

  async ask(n: number): Promise<Proposal[]> {
    const out: Proposal[] = []
    while (out.length < n) {
      const p = this.promotion()
      if (!p) break
      p.entry.promoted = true
      const up: Entry = { cand: p.entry.cand, from: p.entry.result?.id as number, state: 'queued' }
      ;(p.bracket.rungs[p.rung + 1] as Entry[]).push(up)
      out.push(this.proposal(up, { bracket: p.s, rung: p.rung + 1 }))
    }
    if (out.length < n && this.pool.closed === null) {
      const limit = this.maxCandidates > 0 ? this.maxCandidates : Number.POSITIVE_INFINITY
      for (const cand of await this.pool.draw(n - out.length, limit)) {
        const s = this.drawn++ % this.brackets.length
        const b = this.brackets[s] as AshaBracket
        const e: Entry = { cand, state: 'queued' }
        ;(b.rungs[b.start] as Entry[]).push(e)
        out.push(this.proposal(e, { bracket: s, rung: b.start }))
      }
    }
    await this.pool.flush()
    return out
  }

  async tell(results: readonly TrialResult[]): Promise<void> {
    for (const r of results) {
      const t = this.take(r)
      if (!t) continue
      const e = this.brackets[t.slot.bracket]?.rungs[t.slot.rung]?.find(
        (x) => x.cand === t.cand && x.state === 'running',
      )
      if (!e) continue
      e.state = 'done'
      e.result = t.outcome
      this.feed(t.cand, e)
    }
    await this.pool.flush()
  }

  promotable(): number[] {
    const out = new Set<number>()
    const more = this.pool.closed === null || this.running.size > 0 || this.promotion() !== null
    for (const b of this.brackets) {
      for (let k = b.start; k <= this.top; k++) {
        const entries = b.rungs[k] as Entry[]
        Schedule.pendingFrom(entries, out)
        if (more && k < this.top)
          for (const e of entries)
            if (!e.promoted && e.result && e.result.objective !== null) out.add(e.result.id)
      }
    }
    return [...out].sort((x, y) => x - y)
  }

  done(): string | null {
    if (this.pool.closed === null || this.running.size > 0 || this.promotion() !== null) return null
    const parts: string[] = []
    this.ladder.levels.forEach((level, k) => {
      let trained = 0
      let promoted = 0
      for (const b of this.brackets) {
        for (const e of b.rungs[k] as Entry[]) {
          trained++
          if (e.promoted) promoted++
        }
      }
      if (trained === 0) return
      const unit =
        this.ladder.resource === 'epochs' ? (level === 1 ? 'epoch' : 'epochs') : 'of the data'
      parts.push(
        `rung ${k} (${level} ${unit}): ${trained} trained${k < this.top ? `, ${promoted} promoted` : ''}`,
      )
    })
    return `${this.pool.closed} and no candidate can be promoted any more. ${parts.length > 0 ? `${parts.join('; ')}.` : 'No trial ran.'}`
  }

  state(): JsonValue {
    return {
      drawn: this.drawn,
      brackets: this.brackets.map((b) => ({
        start: b.start,
        rungs: b.rungs.map((r) => r.map(entryJson)),
      })),
    }
  }

  restore(state: unknown): void {
    const s = state as { drawn?: unknown; brackets?: unknown } | null
    const bad = () => new Error('malformed schedule')
    if (!s || typeof s.drawn !== 'number' || !Array.isArray(s.brackets)) throw bad()
    if (s.brackets.length !== this.brackets.length) throw bad()
    const brackets = (s.brackets as unknown[]).map((raw, i) => {
      const b = raw as { start?: unknown; rungs?: unknown }
      if (b.start !== i || !Array.isArray(b.rungs) || b.rungs.length !== this.ladder.levels.length)
        throw bad()
      return {
        start: i,
        rungs: (b.rungs as unknown[]).map((r) => {
          if (!Array.isArray(r)) throw bad()
          return r.map((e) => {
            const entry = entryFromJson(e)
            if (!entry || !this.pool.candidates[entry.cand]) throw bad()
            return entry
          })
        }),
      }
    })
    this.drawn = s.drawn
    this.brackets = brackets
    this.reindex(brackets.map((b, index) => ({ index, rungs: b.rungs })))
  }
}
