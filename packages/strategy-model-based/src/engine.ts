import {
  type Arch,
  createUnseenSampler,
  type JsonValue,
  NaskitError,
  type Proposal,
  Rng,
  type SamplingStrategy,
  type SearchSpace,
  type StrategyStatus,
  type TrialResult,
} from '@naskit/core'
import type { ArchEncoder, SparseVector } from './encoding'
import { type ObjectiveTransform, transformObjectives } from './transform'

/** How the candidates that the acquisition function ranks are generated. */
export interface CandidateOptions {
  /** Random architectures asked before the model is used. */
  initialSamples: number
  /** Best architectures whose neighbourhoods are searched for candidates. */
  parents: number
  /** Random architectures added to the candidates. */
  randomCandidates: number
  /** Two-decision mutations per parent added to the candidates. */
  farMutations: number
  /** A parent with more neighbours gets this many random one-decision mutations instead. */
  maxNeighbours: number
  /** How objectives are reshaped before the model is fit. */
  transform: ObjectiveTransform
  /**
   * Random starts of a hill climb on the model's predicted mean; the climbs' end points and
   * their neighbours join the candidates (local optima of the model away from the best
   * architectures so far).
   */
  modelClimbs: number
}

/** What a model-based strategy plugs into {@link createModelStrategy}. */
export interface Model {
  /**
   * Fits on the observations and conditions on the pending architectures (if it can). The
   * same inputs and `seed` must give the same model: a restored strategy refits.
   */
  fit(
    x: readonly SparseVector[],
    y: readonly number[],
    pending: readonly SparseVector[],
    seed: number,
  ): void
  /**
   * Picks up to `n` of the candidates, best first: their indices. `incumbent` is the best
   * objective observed; `pending` are architectures asked and not yet told.
   */
  select(
    candidates: readonly SparseVector[],
    n: number,
    rng: Rng,
    incumbent: number,
    pending: readonly SparseVector[],
  ): number[]
  /** The predicted mean (in the model's units) of each input. */
  mean(x: readonly SparseVector[]): Float64Array
}

interface Observed {
  key: string
  arch: Arch
  /** null for a failed trial (or a non-finite objective). */
  objective: number | null
}

interface ModelState {
  version: 1
  rng: JsonValue
  asked: number
  modelSeed: number
  observed: Array<{ key: string; arch: Arch; objective: number | null }>
  pending: Array<{ key: string; arch: Arch }>
  enumerating: boolean
}

/**
 * The ask/tell loop every model-based strategy of this package shares: random architectures
 * first, then candidates (the neighbours of the best architectures, two-decision mutations of
 * them, random architectures) ranked by the model's acquisition function. Never asks an
 * architecture twice; the state is the observations, the pending architectures and the random
 * stream, and the model is refit from them (deterministically) whenever they change.
 */
export function createModelStrategy(args: {
  name: string
  space: SearchSpace
  rng: Rng
  encoder: ArchEncoder
  candidates: CandidateOptions
  model: Model
}): SamplingStrategy {
  const { space, encoder, model, name } = args
  const o = args.candidates
  let rng = args.rng
  const unseen = createUnseenSampler(space)
  let observed: Observed[] = []
  let pending = new Map<string, Arch>()
  let asked = 0
  let modelSeed = args.rng.fork('model').seed()
  const codes = new Map<string, SparseVector>()
  /** Observations and pending keys the model was last fit on. */
  let fitStamp = ''
  let okCount = 0
  /** The best objective, as the model sees it (transformed). */
  let incumbent = Number.NEGATIVE_INFINITY

  const encode = (key: string, arch: Arch): SparseVector => {
    let v = codes.get(key)
    if (v === undefined) {
      v = encoder.encode(arch)
      codes.set(key, v)
    }
    return v
  }

  const refit = () => {
    const stamp = `${observed.length}:${[...pending.keys()].join(',')}`
    if (stamp === fitStamp) return
    const x: SparseVector[] = []
    const y: number[] = []
    for (const ob of observed) {
      if (ob.objective === null) continue
      x.push(encode(ob.key, ob.arch))
      y.push(ob.objective)
    }
    const ty = transformObjectives(y, o.transform)
    incumbent = ty.reduce((m, v) => Math.max(m, v), Number.NEGATIVE_INFINITY)
    model.fit(
      x,
      ty,
      [...pending].map(([k, a]) => encode(k, a)),
      modelSeed,
    )
    fitStamp = stamp
  }

  const candidates = (): Array<{ key: string; arch: Arch }> => {
    const ranked = observed
      .map((ob, i) => ({ ob, i }))
      .filter((e) => e.ob.objective !== null)
      .sort((a, b) => (b.ob.objective as number) - (a.ob.objective as number) || a.i - b.i)
      .slice(0, o.parents)
    const out: Array<{ key: string; arch: Arch }> = []
    const taken = new Set<string>()
    const offer = (arch: Arch) => {
      const key = space.key(arch)
      if (unseen.has(key) || taken.has(key)) return
      taken.add(key)
      out.push({ key, arch })
    }
    for (const { ob } of ranked) {
      if (space.mutationSites(ob.arch) === 0) continue
      const near = space.neighbours(ob.arch)
      if (near.length <= o.maxNeighbours) for (const a of near) offer(a)
      else for (let t = 0; t < o.maxNeighbours; t++) offer(space.mutate(ob.arch, rng))
      for (let t = 0; t < o.farMutations; t++) {
        const once = space.mutate(ob.arch, rng)
        offer(space.mutationSites(once) > 0 ? space.mutate(once, rng) : once)
      }
    }
    for (let t = 0; t < o.randomCandidates; t++) offer(space.sample(rng))
    for (let c = 0; c < o.modelClimbs; c++) climb(space.sample(rng), offer)
    return out
  }

  /** Hill climb on the model's mean from `start`; offers the end point and its neighbours. */
  const climb = (start: Arch, offer: (arch: Arch) => void) => {
    let cur = start
    let curMean = model.mean([encoder.encode(cur)])[0] as number
    for (let step = 0; step < 32; step++) {
      if (space.mutationSites(cur) === 0) break
      const near = space.neighbours(cur)
      const moves =
        near.length <= o.maxNeighbours
          ? near
          : Array.from({ length: o.maxNeighbours }, () => space.mutate(cur, rng))
      const means = model.mean(moves.map((a) => encoder.encode(a)))
      let best = -1
      for (let i = 0; i < moves.length; i++)
        if (
          (means[i] as number) > curMean &&
          (best < 0 || (means[i] as number) > (means[best] as number))
        )
          best = i
      if (best < 0) {
        offer(cur)
        for (const a of moves) offer(a)
        return
      }
      cur = moves[best] as Arch
      curMean = means[best] as number
    }
    offer(cur)
  }

  const record = (key: string, arch: Arch, out: Proposal[]) => {
    unseen.add(key)
    pending.set(key, arch)
    asked++
    out.push({ arch })
  }

  return {
    ask(n: number): Proposal[] {
      const out: Proposal[] = []
      if (!(n > 0)) return out
      if (asked < o.initialSamples || okCount < 2) {
        while (out.length < n && (asked < o.initialSamples || okCount < 2)) {
          const arch = unseen.draw(rng)
          if (arch === null) return out
          unseen.add(space.key(arch))
          pending.set(space.key(arch), arch)
          asked++
          out.push({ arch })
        }
        if (out.length === n) return out
      }
      refit()
      const cands = candidates()
      if (cands.length > 0) {
        const picks = model.select(
          cands.map((c) => encode(c.key, c.arch)),
          n - out.length,
          rng,
          incumbent,
          [...pending].map(([k, a]) => encode(k, a)),
        )
        for (const i of picks) {
          const c = cands[i]
          if (c === undefined || unseen.has(c.key)) continue
          record(c.key, c.arch, out)
          if (out.length >= n) break
        }
      }
      // too few candidates (a small or used-up space): unseen architectures at random
      while (out.length < n) {
        const arch = unseen.draw(rng)
        if (arch === null) break
        const key = space.key(arch)
        unseen.add(key)
        pending.set(key, arch)
        asked++
        out.push({ arch })
      }
      return out
    },
    tell(results: readonly TrialResult[]): void {
      for (const r of results) {
        pending.delete(r.key)
        unseen.add(r.key)
        const v = r.objective
        const ok = r.status === 'ok' && typeof v === 'number' && Number.isFinite(v)
        if (ok) okCount++
        observed.push({ key: r.key, arch: r.arch, objective: ok ? (v as number) : null })
      }
    },
    status(): StrategyStatus {
      return unseen.status()
    },
    state(): JsonValue {
      const s: ModelState = {
        version: 1,
        rng: rng.state(),
        asked,
        modelSeed,
        observed: observed.map((ob) => ({ key: ob.key, arch: ob.arch, objective: ob.objective })),
        pending: [...pending].map(([key, arch]) => ({ key, arch })),
        enumerating: unseen.enumerating,
      }
      return s as unknown as JsonValue
    },
    restore(state: JsonValue): void {
      const s = state as Partial<ModelState> | null
      const bad = (why: string) =>
        new NaskitError(
          'E_BAD_STATE',
          `Strategy "${name}": the checkpoint is not a version-1 ${name} state (${why}). Resume with the same naskit version that wrote it, or start a new experiment.`,
        )
      if (!s || typeof s !== 'object' || s.version !== 1) throw bad('wrong version')
      if (!Array.isArray(s.observed) || !Array.isArray(s.pending)) throw bad('missing lists')
      if (typeof s.asked !== 'number' || typeof s.modelSeed !== 'number')
        throw bad('missing counter')
      const obs: Observed[] = []
      for (const ob of s.observed) {
        if (
          !ob ||
          typeof ob.key !== 'string' ||
          !(ob.objective === null || typeof ob.objective === 'number') ||
          !space.isValid(ob.arch)
        )
          throw bad('bad observation')
        obs.push({ key: ob.key, arch: ob.arch, objective: ob.objective })
      }
      const pend = new Map<string, Arch>()
      for (const p of s.pending) {
        if (!p || typeof p.key !== 'string' || !space.isValid(p.arch))
          throw bad('bad pending entry')
        pend.set(p.key, p.arch)
      }
      rng = Rng.fromState(s.rng)
      observed = obs
      pending = pend
      asked = s.asked
      modelSeed = s.modelSeed
      okCount = obs.filter((ob) => ob.objective !== null).length
      unseen.restore({
        seen: [...obs.map((ob) => ob.key), ...pend.keys()],
        enumerating: s.enumerating === true,
      })
      fitStamp = ''
    },
  }
}
