import { type Arch, type DecisionPoint, NaskitError, type SearchSpace } from '@naskit/core'

/** One kind of decision of a space; repeated layers share theirs (`layers.*.op`). */
export interface DecisionGroup {
  /** The decision point's `group`. */
  name: string
  /** Number of options. */
  n: number
  /** Offset of the group's first option among all options of the space. */
  offset: number
}

/**
 * The decision groups of a space with a global numbering of their options: the
 * controller's output layer has one column per option, its embedding one row per option
 * (plus a start token at row 0).
 */
export interface Vocabulary {
  groups: DecisionGroup[]
  byName: Map<string, DecisionGroup>
  /** Total number of options over all groups. */
  size: number
  /** Longest decision sequence of an architecture. */
  maxSteps: number
  /** A short fingerprint of the groups, stored in checkpoints to catch a changed space. */
  signature: string
}

/** One decision of a sampled architecture: which group, which option. */
export interface Step {
  group: DecisionGroup
  index: number
}

/**
 * Finds every decision group of `space` by building the largest architecture (every count
 * at its maximum), and once more the smallest, to catch groups that only exist there.
 */
export function buildVocabulary(space: SearchSpace): Vocabulary {
  const groups: DecisionGroup[] = []
  const byName = new Map<string, DecisionGroup>()
  let size = 0
  let maxSteps = 0
  for (const pick of ['max', 'min'] as const) {
    let steps = 0
    space.build((point: DecisionPoint) => {
      steps++
      const known = byName.get(point.group)
      if (known === undefined) {
        const g: DecisionGroup = { name: point.group, n: point.n, offset: size }
        size += point.n
        groups.push(g)
        byName.set(g.name, g)
      } else if (known.n !== point.n) {
        throw new NaskitError(
          'E_UNSUPPORTED_SPACE',
          `The rl strategy needs a fixed number of options per decision group, but "${point.group}" offers ${known.n} and ${point.n}.`,
        )
      }
      return pick === 'max' && point.kind === 'count' ? point.n - 1 : 0
    })
    maxSteps = Math.max(maxSteps, steps)
  }
  if (groups.length === 0) {
    throw new NaskitError(
      'E_UNSUPPORTED_SPACE',
      `Space "${space.name}" has no decisions; there is nothing for the rl strategy to learn.`,
    )
  }
  const signature = groups.map((g) => `${g.name}:${g.n}`).join('|')
  return { groups, byName, size, maxSteps, signature }
}

/** Looks a decision point up in the vocabulary; a point never seen means the space changed. */
export function groupOf(vocab: Vocabulary, point: DecisionPoint): DecisionGroup {
  const g = vocab.byName.get(point.group)
  if (g === undefined || g.n !== point.n) {
    throw new NaskitError(
      'E_UNSUPPORTED_SPACE',
      `Decision "${point.id}" (${point.n} options) was not found when the rl controller was set up; the space must offer the same decisions for every architecture.`,
    )
  }
  return g
}

/**
 * Replays stored option indices through `space.build`, returning the architecture and its
 * steps, or null when the indices do not fit the space (out of range, too few or too many).
 */
export function replay(
  space: SearchSpace,
  vocab: Vocabulary,
  indices: readonly number[],
): { arch: Arch; steps: Step[] } | null {
  const steps: Step[] = []
  let bad = false
  const arch = space.build((point) => {
    const t = steps.length
    const i = indices[t]
    const g = vocab.byName.get(point.group)
    if (
      g === undefined ||
      g.n !== point.n ||
      i === undefined ||
      !Number.isInteger(i) ||
      i < 0 ||
      i >= point.n
    ) {
      bad = true
      steps.push({ group: g ?? (vocab.groups[0] as DecisionGroup), index: 0 })
      return 0
    }
    steps.push({ group: g, index: i })
    return i
  })
  if (bad || steps.length !== indices.length) return null
  return { arch, steps }
}

/** The steps of an architecture that the controller did not sample itself (`space.trace`). */
export function traceSteps(space: SearchSpace, vocab: Vocabulary, arch: Arch): Step[] {
  return space.trace(arch).map(({ point, index }) => ({ group: groupOf(vocab, point), index }))
}
