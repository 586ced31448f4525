import {
  hashString,
  type JsonValue,
  type Proposal,
  Rng,
  type SamplingStrategy,
  type SearchSpace,
  type TrialResult,
} from '@naskit/core'

/** A deterministic objective that grows with the epochs and ranks architectures by their key. */
export function objectiveAt(key: string, epochs: number): number {
  const quality = (hashString(key) % 10_000) / 10_000
  const noise = ((hashString(`${key}@${epochs}`) % 1000) / 1000 - 0.5) * 0.2
  return quality * (1 - 1 / (epochs + 1)) + noise / epochs
}

/** What a host asked and what it learnt, one line per trial. */
export interface Asked {
  id: number
  key: string
  fidelity: Proposal['fidelity']
  meta: JsonValue | undefined
  continueFrom: number | undefined
}

export interface HostState {
  nextId: number
  rng: JsonValue
  running: Array<Asked & { arch: JsonValue }>
}

/**
 * A host with `workers` slots that finishes one running trial at a time, picked by its own
 * seeded stream (so results arrive out of order), fails about one architecture in nine and
 * gives NaN for another one in eleven.
 */
export class Host {
  nextId = 0
  rng: Rng
  running: Array<Asked & { arch: JsonValue }> = []
  readonly log: Asked[] = []
  readonly results: TrialResult[] = []

  constructor(
    readonly strategy: SamplingStrategy,
    readonly space: SearchSpace,
    readonly workers = 4,
    seed = 1,
  ) {
    this.rng = new Rng(seed)
  }

  result(t: Asked & { arch: JsonValue }): TrialResult {
    const base = {
      id: t.id,
      arch: t.arch as TrialResult['arch'],
      key: t.key,
      ...(t.meta === undefined ? {} : { meta: t.meta }),
      ...(t.fidelity ? { fidelity: t.fidelity } : {}),
    }
    if (hashString(`fail:${t.key}`) % 9 === 0)
      return {
        ...base,
        status: 'failed',
        objective: null,
        metrics: {},
        error: { code: 'E_TEST', message: 'synthetic failure' },
      }
    if (hashString(`nan:${t.key}`) % 11 === 0)
      return { ...base, status: 'ok', objective: Number.NaN, metrics: { objective: Number.NaN } }
    const epochs = t.fidelity?.epochs ?? t.fidelity?.dataFraction ?? 1
    const objective = objectiveAt(t.key, epochs)
    return { ...base, status: 'ok', objective, metrics: { objective } }
  }

  /** Fills the free slots; returns how many were asked. */
  async fill(): Promise<number> {
    const free = this.workers - this.running.length
    if (free <= 0) return 0
    const proposals = await this.strategy.ask(free)
    for (const p of proposals) {
      const arch = this.space.validate(p.arch)
      const asked: Asked = {
        id: this.nextId++,
        key: this.space.key(arch),
        fidelity: p.fidelity,
        meta: p.meta,
        continueFrom: p.continueFrom,
      }
      this.log.push(asked)
      this.running.push({ ...asked, arch: arch as JsonValue })
    }
    return proposals.length
  }

  /** Finishes one running trial (or a few at once, now and then) and tells them. */
  async finish(): Promise<number> {
    if (this.running.length === 0) return 0
    const count = this.rng.int(4) === 0 ? Math.min(2, this.running.length) : 1
    const done: TrialResult[] = []
    for (let i = 0; i < count; i++) {
      const [t] = this.running.splice(this.rng.int(this.running.length), 1)
      if (t) done.push(this.result(t))
    }
    this.results.push(...done)
    await this.strategy.tell(done)
    return done.length
  }

  /** Runs until the strategy is done, stops proposing, or `steps` finishes. */
  async run(steps: number, onStep?: (step: number) => Promise<boolean | undefined>): Promise<void> {
    for (let step = 0; step < steps; step++) {
      if (onStep && (await onStep(step)) === true) return
      if (this.strategy.status?.().done) return
      await this.fill()
      if (this.running.length === 0) return
      await this.finish()
    }
  }

  state(): HostState {
    return {
      nextId: this.nextId,
      rng: this.rng.state(),
      running: JSON.parse(JSON.stringify(this.running)),
    }
  }

  restore(s: HostState): void {
    this.nextId = s.nextId
    this.rng = Rng.fromState(s.rng)
    this.running = JSON.parse(JSON.stringify(s.running))
  }
}
