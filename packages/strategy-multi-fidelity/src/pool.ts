import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  type Arch,
  createStrategy,
  type Fidelity,
  type JsonValue,
  type Logger,
  type MetricValue,
  NaskitError,
  randomStrategy,
  type SamplingStrategy,
  type SamplingStrategyPlugin,
  type SearchSpace,
  type TrialResult,
  toTrialError,
} from '@naskit/core'
import { loadSamplingStrategy } from '@naskit/core/node'

/** This package's directory: strategy packages installed beside it are found from here too. */
const HERE = dirname(fileURLToPath(import.meta.url))

/** The names of this package's strategies (they cannot be their own sampler). */
export const MULTI_FIDELITY_NAMES: readonly string[] = ['successive-halving', 'hyperband', 'asha']

/** Which result of a candidate its sampler is told. */
export type Feedback = 'first' | 'final'

/** A candidate architecture: proposed once by the sampler, trained at one rung after another. */
export interface Candidate {
  key: string
  arch: Arch
  /** The sampler's own `meta` of the proposal (given back to it with the result). */
  baseMeta?: JsonValue
  /** The sampler was told this candidate's result. */
  told: boolean
  /** Metas of later proposals of the same architecture by the sampler, told the same result. */
  echoes: Array<JsonValue | null>
  /** What the sampler was (or will be) told, once known. */
  feedback?: Outcome
}

/** A finished trial of a candidate, as the schedules keep it. */
export interface Outcome {
  id: number
  /** The objective, or null for a failed trial or a non-finite objective. */
  objective: number | null
  status: 'ok' | 'failed'
  metrics: Record<string, MetricValue>
  error?: { code: string; message: string }
  fidelity?: Fidelity
}

/** The objective a schedule ranks by: null for failed trials and NaN. */
export function usableObjective(r: Pick<TrialResult, 'status' | 'objective'>): number | null {
  return r.status === 'ok' && typeof r.objective === 'number' && Number.isFinite(r.objective)
    ? r.objective
    : null
}

/** An outcome with what ranking needs: id, status, objective, fidelity. */
export function slim(o: Outcome): Outcome {
  return {
    id: o.id,
    objective: o.objective,
    status: o.status,
    metrics: o.objective === null ? {} : { objective: o.objective },
    ...(o.error ? { error: o.error } : {}),
    ...(o.fidelity ? { fidelity: o.fidelity } : {}),
  }
}

/** What a multi-fidelity strategy is given to find and create its sampler. */
export interface SamplerSpec {
  /** A strategy name (resolved like `--strategy`), or a plugin object. */
  sampler: string | SamplingStrategyPlugin
  samplerOptions: unknown
  space: SearchSpace
  seed: number
  log: Logger
  owner: string
}

/** Checks a plugin given as the sampler of a multi-fidelity strategy. */
export function checkSamplerPlugin(plugin: SamplingStrategyPlugin, owner: string): void {
  if (plugin.kind !== 'sampling') {
    throw new NaskitError(
      'E_BAD_OPTIONS',
      `${owner}: sampler "${plugin.name}" is a ${plugin.kind} strategy; the sampler must be an ask/tell (sampling) strategy such as random, evolution or rl.`,
    )
  }
  if (MULTI_FIDELITY_NAMES.includes(plugin.name)) {
    throw new NaskitError(
      'E_BAD_OPTIONS',
      `${owner}: sampler "${plugin.name}" is itself a multi-fidelity schedule; use a plain sampling strategy such as random, evolution or rl.`,
    )
  }
}

/**
 * The candidates of a schedule and the sampling strategy that proposes them. The sampler is
 * created on the first `draw` (a name is resolved then), and told each candidate's result once
 * (see {@link Feedback}); an architecture it proposes again is not trained again, and the
 * second proposal is told the first one's result.
 */
export class Pool {
  readonly candidates: Candidate[] = []
  private readonly byKey = new Map<string, number>()
  private base: SamplingStrategy | null = null
  private baseState: JsonValue | undefined = undefined
  private loading: Promise<SamplingStrategy> | null = null
  /** Results for the sampler, sent by {@link flush}. */
  private outbox: TrialResult[] = []
  /** Ids of made-up results (invalid proposals), counted down from -1. */
  private synthetic = 0
  /** Set once the sampler has nothing more to propose. */
  closed: string | null = null

  constructor(private readonly spec: SamplerSpec) {}

  get size(): number {
    return this.candidates.length
  }

  private async sampler(): Promise<SamplingStrategy> {
    if (this.base) return this.base
    this.loading ??= (async () => {
      const { spec } = this
      let plugin: SamplingStrategyPlugin
      if (typeof spec.sampler !== 'string') plugin = spec.sampler
      else if (spec.sampler.trim() === 'random') plugin = randomStrategy
      else
        plugin = (await loadSamplingStrategy(spec.sampler, process.cwd(), { extraDirs: [HERE] }))
          .plugin as SamplingStrategyPlugin
      checkSamplerPlugin(plugin, spec.owner)
      const s = createStrategy(plugin, {
        space: spec.space,
        options: spec.samplerOptions,
        seed: spec.seed,
        log: spec.log,
      })
      if (this.baseState !== undefined && this.baseState !== null) s.restore(this.baseState)
      this.base = s
      return s
    })()
    return this.loading
  }

  /**
   * Up to `m` new candidates from the sampler (fewer when it has nothing now; it is
   * {@link closed} once its status is done or `limit` candidates were drawn).
   */
  async draw(m: number, limit = Number.POSITIVE_INFINITY): Promise<number[]> {
    const out: number[] = []
    if (this.closed !== null || m <= 0) return out
    const base = await this.sampler()
    for (let round = 0; round < 8 && out.length < m; round++) {
      const want = Math.min(m - out.length, limit - this.candidates.length)
      if (want <= 0) break
      const proposals = await base.ask(want)
      let rejected = 0
      for (const p of proposals.slice(0, want)) {
        let arch: Arch
        try {
          arch = this.spec.space.validate(p.arch)
        } catch (error) {
          rejected++
          this.outbox.push({
            id: --this.synthetic,
            arch: p.arch,
            key: `invalid:${-this.synthetic}`,
            status: 'failed',
            objective: null,
            metrics: {},
            error: toTrialError(error, 'E_INVALID_ARCH'),
            ...(p.meta === undefined ? {} : { meta: p.meta }),
          })
          continue
        }
        const key = this.spec.space.key(arch)
        const known = this.byKey.get(key)
        if (known !== undefined) {
          rejected++
          const c = this.candidates[known] as Candidate
          if (c.told && c.feedback) this.outbox.push(this.resultFor(c, c.feedback, p.meta ?? null))
          else c.echoes.push(p.meta ?? null)
          continue
        }
        this.byKey.set(key, this.candidates.length)
        out.push(this.candidates.length)
        this.candidates.push({
          key,
          arch,
          ...(p.meta === undefined ? {} : { baseMeta: p.meta }),
          told: false,
          echoes: [],
        })
      }
      const status = base.status?.() ?? { done: false }
      if (status.done) {
        this.closed = `the sampler is done (${status.message})`
        break
      }
      if (this.candidates.length >= limit) {
        this.closed = `${limit} candidates were drawn`
        break
      }
      if (rejected === 0) break
    }
    await this.flush()
    return out
  }

  /** Marks the sampler as done: no more candidates are drawn. */
  close(reason: string): void {
    this.closed ??= reason
  }

  private resultFor(c: Candidate, o: Outcome, meta: JsonValue | null | undefined): TrialResult {
    return {
      id: o.id,
      arch: c.arch,
      key: c.key,
      status: o.status,
      objective: o.objective,
      metrics: { ...o.metrics },
      ...(o.error ? { error: o.error } : {}),
      ...(meta === undefined || meta === null ? {} : { meta }),
      ...(o.fidelity ? { fidelity: o.fidelity } : {}),
    }
  }

  /** Queues the candidate's result for the sampler (once per candidate; later calls are no-ops). */
  feed(index: number, o: Outcome): void {
    const c = this.candidates[index] as Candidate
    if (c.told) return
    c.told = true
    c.feedback = slim(o)
    this.outbox.push(this.resultFor(c, o, c.baseMeta))
    for (const meta of c.echoes) this.outbox.push(this.resultFor(c, o, meta))
    c.echoes = []
  }

  /** Tells the sampler the queued results. */
  async flush(): Promise<void> {
    if (this.outbox.length === 0) return
    const batch = this.outbox
    this.outbox = []
    await (await this.sampler()).tell(batch)
  }

  index(key: string): number | undefined {
    return this.byKey.get(key)
  }

  state(): JsonValue {
    return {
      candidates: this.candidates.map((c) => ({
        key: c.key,
        arch: c.arch as JsonValue,
        ...(c.baseMeta === undefined ? {} : { baseMeta: c.baseMeta }),
        told: c.told,
        ...(c.echoes.length > 0 ? { echoes: c.echoes } : {}),
        ...(c.feedback ? { feedback: c.feedback as unknown as JsonValue } : {}),
      })),
      synthetic: this.synthetic,
      closed: this.closed,
      outbox: this.outbox as unknown as JsonValue,
      sampler: this.base ? this.base.state() : (this.baseState ?? null),
    }
  }

  restore(state: unknown, bad: (why: string) => NaskitError): void {
    const s = state as {
      candidates?: unknown
      synthetic?: unknown
      closed?: unknown
      outbox?: unknown
      sampler?: JsonValue
    } | null
    if (!s || typeof s !== 'object' || !Array.isArray(s.candidates)) throw bad('no candidates')
    if (this.base || this.loading) throw bad('restore() must come before the first ask()')
    this.candidates.length = 0
    this.byKey.clear()
    for (const raw of s.candidates as unknown[]) {
      const c = raw as Partial<Candidate> | null
      if (!c || typeof c.key !== 'string' || typeof c.told !== 'boolean' || !c.arch)
        throw bad('a malformed candidate')
      if (!this.spec.space.isValid(c.arch))
        throw bad(`candidate ${c.key} is not in space "${this.spec.space.name}"`)
      this.byKey.set(c.key, this.candidates.length)
      this.candidates.push({
        key: c.key,
        arch: c.arch,
        ...(c.baseMeta === undefined ? {} : { baseMeta: c.baseMeta }),
        told: c.told,
        echoes: Array.isArray(c.echoes) ? [...c.echoes] : [],
        ...(c.feedback ? { feedback: c.feedback } : {}),
      })
    }
    this.synthetic = typeof s.synthetic === 'number' ? s.synthetic : 0
    this.closed = typeof s.closed === 'string' ? s.closed : null
    this.outbox = Array.isArray(s.outbox) ? (s.outbox as TrialResult[]) : []
    this.baseState = s.sampler ?? null
  }

  async dispose(): Promise<void> {
    await this.base?.dispose?.()
  }
}
