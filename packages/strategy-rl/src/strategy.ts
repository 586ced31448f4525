import {
  type Arch,
  createUnseenSampler,
  DEFAULT_ENUMERATE_LIMIT,
  defineStrategy,
  type JsonValue,
  NaskitError,
  option,
  type Proposal,
  Rng,
  type SamplingStrategy,
  type SearchSpace,
  type StrategyStatus,
  type TrialResult,
} from '@naskit/core'
import { Adam } from './adam'
import { ensureBackend } from './backend'
import { decodeFloats, encodeFloats } from './codec'
import { Controller, type ControllerKind, type Episode } from './controller'
import { buildVocabulary, replay, type Step, traceSteps, type Vocabulary } from './vocabulary'

const options = {
  controller: option.enum(['lstm', 'independent'], {
    default: 'lstm',
    description:
      "Policy: 'lstm' (Zoph & Le / ENAS: an LSTM fed the embedding of the previous choice, one softmax head per decision) or 'independent' (one softmax per decision, no memory).",
  }),
  hiddenSize: option.int({ default: 16, min: 1, max: 1024, description: 'LSTM hidden units.' }),
  embeddingSize: option.int({
    default: 16,
    min: 1,
    max: 1024,
    description: 'Size of the embedding of the previous choice fed to the LSTM.',
  }),
  learningRate: option.number({
    default: 0.03,
    min: 0,
    description:
      "Adam learning rate of the controller ('independent' likes a larger one, about 0.1).",
  }),
  batchSize: option.int({
    default: 4,
    min: 1,
    description: 'Finished architectures per policy-gradient update.',
  }),
  entropyWeight: option.number({
    default: 0,
    min: 0,
    description: 'Weight β of the entropy bonus (summed over decisions) added to the objective.',
  }),
  temperature: option.number({
    default: 1,
    min: 1e-6,
    description: 'Softmax temperature: logits are divided by it before clipping.',
  }),
  tanhConstant: option.number({
    default: 2.5,
    min: 0,
    description: 'Logit clipping c · tanh(logits / temperature), as in ENAS; 0 turns it off.',
  }),
  baselineDecay: option.number({
    default: 0.9,
    min: 0,
    max: 1,
    description:
      'Decay of the exponential-moving-average baseline: b ← decay · b + (1 − decay) · reward.',
  }),
  reward: option.enum(['objective', 'standardized', 'rank'], {
    default: 'rank',
    description:
      "Reward fed to REINFORCE (before the baseline): the raw 'objective'; 'standardized' ((objective − mean) / std over the results so far); or 'rank' (exp(−k / rankScale), k = number of earlier results that beat it), which is invariant to the objective's scale.",
  }),
  rankScale: option.number({
    default: 8,
    min: 1e-6,
    description:
      "Scale of the 'rank' reward: how fast the reward falls with the number of better results.",
  }),
  gradientClip: option.number({
    default: 0,
    min: 0,
    description: 'Clip the gradient to this global L2 norm before Adam; 0 turns clipping off.',
  }),
  initScale: option.number({
    default: 0.1,
    min: 0,
    description: 'Weights start uniform in [−initScale, initScale] (biases at 0).',
  }),
  onFailure: option.enum(['ignore', 'penalize'], {
    default: 'ignore',
    description:
      "What a failed or NaN trial teaches: 'ignore' (no reward, the sample is dropped) or 'penalize' (rewarded like the worst objective seen so far).",
  }),
  maxResamples: option.int({
    default: 16,
    min: 1,
    description:
      'Policy samples drawn per candidate to find an architecture not asked before; then an unseen neighbour of the last sample, then uniform samples, then enumeration.',
  }),
  enumerateLimit: option.int({
    default: DEFAULT_ENUMERATE_LIMIT,
    min: 1,
    description: 'Largest space enumerated to find the last unseen architectures.',
  }),
}

interface BufferedEpisode {
  d: number[]
  a: number
}

interface RlState {
  version: 1
  controller: ControllerKind
  signature: string
  rng: [number, number, number, number]
  params: string[]
  m: string[]
  v: string[]
  step: number
  baseline: number | null
  history: number[]
  buffer: BufferedEpisode[]
  pending: Array<[string, number[]]>
  asked: string[]
  /** Whether the unseen architectures were enumerated (absent in older checkpoints). */
  enumerating?: boolean
  updates: number
}

function isIndexList(x: unknown): x is number[] {
  return Array.isArray(x) && x.every((i) => Number.isInteger(i))
}

/** Index of the first element > x in an ascending array. */
function upperBound(sorted: readonly number[], x: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if ((sorted[mid] as number) <= x) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Whether the rl controller can drive `space` (every decision group has a fixed number of options). */
function check(space: SearchSpace): true | string {
  try {
    buildVocabulary(space)
    return true
  } catch (e) {
    return e instanceof Error ? e.message : String(e)
  }
}

/**
 * REINFORCE with an LSTM controller (Zoph & Le 2017; ENAS, Pham et al. 2018). The controller
 * samples an architecture one decision at a time through `space.build`; finished trials are
 * rewarded, an exponential-moving-average baseline is subtracted, and every `batchSize`
 * results the controller takes one Adam step on `−advantage · log π(decisions) − β · entropy`.
 * The sampled decisions travel in the proposal's `meta` (and in the strategy's state), so
 * results may come back in any order and log-probabilities are recomputed at update time.
 */
export const rlStrategy = defineStrategy({
  name: 'rl',
  kind: 'sampling',
  description:
    'REINFORCE with an LSTM controller (Zoph & Le 2017, ENAS 2018): EMA baseline, entropy bonus, Adam.',
  options,
  supports: check,
  create({ space, rng: initialRng, options: o }): SamplingStrategy {
    const vocab: Vocabulary = buildVocabulary(space)
    let rng = initialRng
    const controller = new Controller(
      o.controller,
      vocab,
      { temperature: o.temperature, tanhConstant: o.tanhConstant },
      { hidden: o.hiddenSize, embed: o.embeddingSize },
      rng.fork('controller-init'),
      o.initScale,
    )
    const adam = new Adam(
      {
        learningRate: o.learningRate,
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-8,
        clipNorm: o.gradientClip,
      },
      controller.params,
    )
    let baseline: number | null = null
    let history: number[] = [] // ascending
    let buffer: BufferedEpisode[] = []
    let pending = new Map<string, number[]>()
    // every architecture asked, in order
    const asked = createUnseenSampler(space, {
      maxRejections: o.maxResamples,
      enumerateLimit: o.enumerateLimit,
    })
    let updates = 0

    const fromPolicy = (): { arch: Arch; indices: number[] } => {
      const sample = controller.sampler(rng)
      const indices: number[] = []
      const arch = space.build((point) => {
        const g = vocab.byName.get(point.group)
        if (g === undefined || g.n !== point.n) {
          throw new NaskitError(
            'E_UNSUPPORTED_SPACE',
            `Decision "${point.id}" was not found when the rl controller was set up.`,
          )
        }
        const i = sample(g)
        indices.push(i)
        return i
      })
      return { arch, indices }
    }

    const traced = (arch: Arch) => ({
      arch,
      indices: traceSteps(space, vocab, arch).map((s) => s.index),
    })

    const unseen = (near: Arch | null): { arch: Arch; indices: number[] } | null => {
      if (near !== null) {
        // the policy keeps proposing asked architectures: explore around its last sample
        const fresh = space.neighbours(near).filter((a) => !asked.has(space.key(a)))
        if (fresh.length > 0) return traced(fresh[rng.int(fresh.length)] as Arch)
      }
      const drawn = asked.draw(rng)
      return drawn === null ? null : traced(drawn)
    }

    const rewardOf = (objective: number): number => {
      if (o.reward === 'objective') return objective
      if (o.reward === 'rank') {
        const better = history.length - upperBound(history, objective)
        return Math.exp(-better / o.rankScale)
      }
      const n = history.length
      const mean = history.reduce((s, x) => s + x, 0) / n
      const variance = history.reduce((s, x) => s + (x - mean) ** 2, 0) / n
      return variance > 0 ? (objective - mean) / Math.sqrt(variance) : 0
    }

    const stepsFor = (r: TrialResult): Step[] | null => {
      const key = r.key ?? space.key(r.arch)
      const fromMeta = (r.meta as { decisions?: unknown } | undefined)?.decisions
      const candidates = [isIndexList(fromMeta) ? fromMeta : undefined, pending.get(key)]
      for (const c of candidates) {
        if (c === undefined) continue
        const replayed = replay(space, vocab, c)
        if (replayed !== null && space.key(replayed.arch) === key) return replayed.steps
      }
      try {
        return traceSteps(space, vocab, space.validate(r.arch))
      } catch {
        return null
      }
    }

    const update = async (batch: BufferedEpisode[]) => {
      await ensureBackend()
      const episodes: Episode[] = []
      for (const e of batch) {
        const replayed = replay(space, vocab, e.d)
        if (replayed !== null) episodes.push({ steps: replayed.steps, advantage: e.a })
      }
      if (episodes.length === 0) return
      const { grads } = controller.lossAndGradients(episodes, o.entropyWeight)
      adam.apply(controller.params, grads)
      controller.invalidate()
      updates++
    }

    return {
      ask(n: number): Proposal[] {
        const out: Proposal[] = []
        while (out.length < n && !asked.exhausted()) {
          let found: { arch: Arch; indices: number[] } | null = null
          let last: Arch | null = null
          for (let t = 0; t < o.maxResamples; t++) {
            const s = fromPolicy()
            if (!asked.has(space.key(s.arch))) {
              found = s
              break
            }
            last = s.arch
          }
          found ??= unseen(last)
          if (found === null) break
          const key = space.key(found.arch)
          asked.add(key)
          pending.set(key, found.indices)
          out.push({ arch: found.arch, meta: { decisions: found.indices } })
        }
        return out
      },

      async tell(results: readonly TrialResult[]): Promise<void> {
        for (const r of results) {
          const key = r.key ?? space.key(r.arch)
          const steps = stepsFor(r)
          pending.delete(key)
          if (steps === null) continue
          const ok =
            r.status === 'ok' && typeof r.objective === 'number' && Number.isFinite(r.objective)
          let reward: number
          if (ok) {
            const objective = r.objective as number
            history.splice(upperBound(history, objective), 0, objective)
            reward = rewardOf(objective)
          } else {
            if (o.onFailure === 'ignore' || history.length === 0) continue
            reward = rewardOf(history[0] as number)
            if (o.reward === 'rank') reward = Math.exp(-history.length / o.rankScale)
          }
          const advantage = baseline === null ? 0 : reward - baseline
          baseline =
            baseline === null ? reward : o.baselineDecay * baseline + (1 - o.baselineDecay) * reward
          buffer.push({ d: steps.map((s) => s.index), a: advantage })
        }
        while (buffer.length >= o.batchSize) await update(buffer.splice(0, o.batchSize))
      },

      status(): StrategyStatus {
        return asked.status()
      },

      state(): JsonValue {
        const s: RlState = {
          version: 1,
          controller: o.controller,
          signature: vocab.signature,
          rng: rng.state(),
          params: controller.params.map(encodeFloats),
          m: adam.m.map(encodeFloats),
          v: adam.v.map(encodeFloats),
          step: adam.step,
          baseline,
          history: [...history],
          buffer: buffer.map((b) => ({ d: [...b.d], a: b.a })),
          pending: [...pending].map(([k, d]) => [k, [...d]]),
          asked: asked.state().seen,
          enumerating: asked.enumerating,
          updates,
        }
        return s as unknown as JsonValue
      },

      restore(state: JsonValue) {
        const s = state as Partial<RlState> | null
        if (!s || typeof s !== 'object' || s.version !== 1) {
          throw new NaskitError(
            'E_BAD_STATE',
            'rl strategy: the checkpoint is not a version-1 rl state.',
          )
        }
        if (s.controller !== o.controller || s.signature !== vocab.signature) {
          throw new NaskitError(
            'E_BAD_STATE',
            `rl strategy: the checkpoint was written for another ${s.controller !== o.controller ? `controller (${String(s.controller)})` : 'search space'}; resume with the same space and options.`,
          )
        }
        if (
          !Array.isArray(s.params) ||
          !Array.isArray(s.m) ||
          !Array.isArray(s.v) ||
          !Array.isArray(s.history) ||
          !Array.isArray(s.asked)
        ) {
          throw new NaskitError('E_BAD_STATE', 'rl strategy: the checkpoint is incomplete.')
        }
        const params = controller.params.map((p, i) =>
          decodeFloats(s.params?.[i], p.length, `parameter ${i}`),
        )
        const m = adam.m.map((p, i) => decodeFloats(s.m?.[i], p.length, `Adam moment m ${i}`))
        const v = adam.v.map((p, i) => decodeFloats(s.v?.[i], p.length, `Adam moment v ${i}`))
        for (let i = 0; i < params.length; i++) {
          ;(controller.params[i] as Float32Array).set(params[i] as Float32Array)
          ;(adam.m[i] as Float32Array).set(m[i] as Float32Array)
          ;(adam.v[i] as Float32Array).set(v[i] as Float32Array)
        }
        controller.invalidate()
        adam.step = Number(s.step ?? 0)
        rng = Rng.fromState(s.rng)
        baseline = typeof s.baseline === 'number' ? s.baseline : null
        history = [...s.history].sort((a, b) => a - b)
        buffer = (s.buffer ?? []).map((b) => ({ d: [...b.d], a: b.a }))
        pending = new Map((s.pending ?? []).map(([k, d]) => [k, [...d]]))
        asked.restore({ seen: s.asked, enumerating: s.enumerating === true })
        updates = Number(s.updates ?? 0)
      },
    }
  },
})
