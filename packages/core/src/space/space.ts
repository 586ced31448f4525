import { NaskitError } from '../errors'
import type { Rng } from '../rng'
import { compileRoot, type GroupNode } from './nodes'
import type { Arch, ArchValue, Chooser, DecisionPoint, DecisionSpec, SpaceSpec } from './types'

/** Default limit of {@link SearchSpace.enumerate}. */
export const DEFAULT_ENUMERATE_LIMIT = 1_000_000

/**
 * A search space: named decisions that together describe a family of networks.
 * Declarative and JSON-serialisable (`toJSON` / `SearchSpace.fromJSON`).
 */
export class SearchSpace {
  readonly name: string
  readonly kind: string | undefined
  readonly description: string | undefined
  private readonly root: GroupNode
  private readonly specJson: SpaceSpec
  private sizeCache: bigint | null | undefined

  constructor(spec: SpaceSpec) {
    if (spec === null || typeof spec !== 'object') {
      throw new NaskitError(
        'E_INVALID_SPACE',
        'Invalid search space: expected an object { name, decisions }.',
      )
    }
    if (typeof spec.name !== 'string' || spec.name.trim() === '') {
      throw new NaskitError('E_INVALID_SPACE', 'Invalid search space: it needs a non-empty `name`.')
    }
    this.name = spec.name
    this.kind = spec.kind
    this.description = spec.description
    this.root = compileRoot(spec.decisions)
    this.specJson = JSON.parse(JSON.stringify(spec)) as SpaceSpec
  }

  /**
   * Rebuilds a space from {@link SearchSpace.toJSON} (or any `{ name, decisions }` object, such
   * as parsed JSON); `E_INVALID_SPACE` names what is wrong, including decisions nested deeper
   * than 64 levels.
   */
  static fromJSON(spec: unknown): SearchSpace {
    return new SearchSpace(spec as SpaceSpec)
  }

  toJSON(): SpaceSpec {
    return JSON.parse(JSON.stringify(this.specJson)) as SpaceSpec
  }

  /** The top-level decisions, in their JSON form. */
  get decisions(): Readonly<Record<string, DecisionSpec>> {
    return this.specJson.decisions
  }

  /** Draws an architecture uniformly per decision. */
  sample(rng: Rng): Arch {
    return this.root.sample(rng) as Arch
  }

  /** The first problem of `arch` in this space, or null when it is a member. */
  check(arch: unknown): { path: string; message: string } | null {
    return this.root.check(arch)
  }

  /** True when `arch` is a member of this space. */
  isValid(arch: unknown): arch is Arch {
    return this.root.check(arch) === null
  }

  /**
   * Throws `E_INVALID_ARCH` naming the offending decision unless `arch` is a member.
   * Returns the architecture in canonical form.
   */
  validate(arch: unknown): Arch {
    this.member(arch, null)
    return this.root.canonical(arch as Arch) as Arch
  }

  /**
   * `E_INVALID_ARCH` naming the offending decision (and the method it was given to) unless
   * `arch` is a member. Every method that takes an architecture checks it this way.
   */
  private member(arch: unknown, method: string | null): asserts arch is Arch {
    const issue = this.root.check(arch)
    if (issue === null) return
    const where = issue.path === '' ? '' : `${issue.path}: `
    const problem = `${where}${issue.message}`
    throw new NaskitError(
      'E_INVALID_ARCH',
      method === null
        ? `Architecture is not in space "${this.name}": ${problem}.`
        : `space.${method}() was given an architecture that is not in space "${this.name}": ${problem}. Pass architectures of this space (from sample, mutate, build or validate).`,
      { details: { path: issue.path, space: this.name, ...(method ? { method } : {}) } },
    )
  }

  /** The canonical form: equal architectures become deep-equal objects. */
  canonicalize(arch: Arch): Arch {
    this.member(arch, 'canonicalize')
    return this.root.canonical(arch) as Arch
  }

  /**
   * The canonical string key: identical architectures share a key. `E_INVALID_ARCH` when `arch`
   * is not a member.
   */
  key(arch: Arch): string {
    this.member(arch, 'key')
    return this.root.key(arch)
  }

  /** Number of architectures: a bigint, or `Infinity` when a decision is continuous. */
  size(): bigint | number {
    if (this.sizeCache === undefined) this.sizeCache = this.root.size()
    return this.sizeCache === null ? Number.POSITIVE_INFINITY : this.sizeCache
  }

  /** Every architecture, when there are at most `limit` of them; `E_SPACE_TOO_LARGE` otherwise. */
  *enumerate(options: { limit?: number } = {}): Generator<Arch> {
    const limit = options.limit ?? DEFAULT_ENUMERATE_LIMIT
    const size = this.size()
    if (typeof size === 'number' || size > BigInt(limit)) {
      throw new NaskitError(
        'E_SPACE_TOO_LARGE',
        `Space "${this.name}" has ${typeof size === 'number' ? 'infinitely many (a decision is continuous)' : size.toString()} architectures, more than the enumeration limit of ${limit}. Sample it instead, or pass a larger { limit }.`,
      )
    }
    for (const v of this.root.enumerate()) yield v as Arch
  }

  /** Length of {@link SearchSpace.encode}'s vectors. */
  get encodingLength(): number {
    return this.root.encodingLength
  }

  /**
   * A fixed-length vector for predictors: one-hot categoricals and cell edges, numbers
   * normalised to [0, 1] (log scale where declared), zeros for inactive decisions.
   */
  encode(arch: Arch): number[] {
    this.member(arch, 'encode')
    const out = new Array<number>(this.root.encodingLength).fill(0)
    this.root.encode(arch, out, 0)
    return out
  }

  /** Number of decisions of `arch` that a mutation can change. */
  mutationSites(arch: Arch): number {
    this.member(arch, 'mutationSites')
    return this.root.sites(arch)
  }

  /** Changes one active decision, chosen uniformly; the result is valid and different. */
  mutate(arch: Arch, rng: Rng): Arch {
    this.member(arch, 'mutate')
    const n = this.root.sites(arch)
    if (n === 0) {
      throw new NaskitError(
        'E_SPACE_TOO_LARGE',
        `Space "${this.name}" has a single architecture; nothing can be mutated.`,
      )
    }
    const key = this.root.key(arch)
    for (let attempt = 0; attempt < 16; attempt++) {
      const out = this.root.mutate(arch, rng.int(n), rng) as Arch
      if (this.root.key(out) !== key) return out
    }
    throw new NaskitError(
      'E_BAD_STATE',
      `Could not mutate an architecture of space "${this.name}" into a different one.`,
    )
  }

  /** Every architecture that differs from `arch` in one decision (numbers: the adjacent values). */
  neighbours(arch: Arch): Arch[] {
    this.member(arch, 'neighbours')
    return this.root.neighbours(arch) as Arch[]
  }

  /**
   * Builds an architecture by asking `choose` at each decision point, in order (counts
   * before the blocks they govern; a cell node's inputs before their ops). This is how
   * policies such as an RL controller sample.
   */
  build(choose: Chooser): Arch {
    return this.root.build(choose, '', '') as Arch
  }

  /** The decision points and chosen indices that {@link SearchSpace.build} would visit for `arch`. */
  trace(arch: Arch): Array<{ point: DecisionPoint; index: number }> {
    this.member(arch, 'trace')
    const out: Array<{ point: DecisionPoint; index: number }> = []
    this.root.trace(arch, '', '', out)
    return out
  }
}

/** Creates a space from named decisions. */
export function defineSpace(
  name: string,
  decisions: Record<string, DecisionSpec>,
  options: { kind?: string; description?: string } = {},
): SearchSpace {
  const spec: SpaceSpec = { name, decisions }
  if (options.kind !== undefined) spec.kind = options.kind
  if (options.description !== undefined) spec.description = options.description
  return new SearchSpace(spec)
}

export type { ArchValue }
