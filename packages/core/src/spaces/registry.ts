import { NaskitError } from '../errors'
import type { SearchSpace } from '../space/space'
import { type ChainSpaceOptions, chainSpace } from './chain'
import { dartsSpace } from './darts'
import { type NasnetSpaceOptions, nasnetSpace } from './nasnet'
import { nb201Space } from './nb201'

/** The names of the built-in spaces, which are also their `kind`. */
export type BuiltInSpaceName = 'chain' | 'nasnet' | 'nb201' | 'darts'

/** The options each built-in space takes. */
export interface BuiltInSpaceOptions {
  chain: ChainSpaceOptions
  nasnet: NasnetSpaceOptions
  nb201: Record<string, never>
  darts: { ops?: readonly string[] }
}

/** The built-in spaces by name, each a factory taking that space's options. */
export const BUILT_IN_SPACES: {
  readonly [K in BuiltInSpaceName]: (options?: BuiltInSpaceOptions[K]) => SearchSpace
} = {
  chain: (o) => chainSpace(o),
  nasnet: (o) => nasnetSpace(o),
  nb201: () => nb201Space(),
  darts: (o) => dartsSpace(o),
}

/** The built-in space names, in a fixed order. */
export const BUILT_IN_SPACE_NAMES: readonly BuiltInSpaceName[] = [
  'chain',
  'nasnet',
  'nb201',
  'darts',
]

/** True for `chain`, `nasnet`, `nb201` and `darts`. */
export function isBuiltInSpaceName(name: unknown): name is BuiltInSpaceName {
  return typeof name === 'string' && (BUILT_IN_SPACE_NAMES as readonly string[]).includes(name)
}

/**
 * A built-in space by name (`chain`, `nasnet`, `nb201`, `darts`), with that space's options;
 * `E_INVALID_SPACE` for any other name.
 */
export function builtInSpace(name: string, options: Record<string, unknown> = {}): SearchSpace {
  if (!isBuiltInSpaceName(name)) {
    throw new NaskitError(
      'E_INVALID_SPACE',
      `Unknown built-in space "${name}". Built-in spaces: ${BUILT_IN_SPACE_NAMES.join(', ')}; or pass a space object.`,
    )
  }
  return (BUILT_IN_SPACES[name] as (o: Record<string, unknown>) => SearchSpace)(options)
}

/**
 * Which built-in space a space is: its `kind` when that names one (spaces made by the built-in
 * factories, with any options, carry it), else null. The one answer every package uses.
 */
export function builtInKind(space: Pick<SearchSpace, 'kind'>): BuiltInSpaceName | null {
  return isBuiltInSpaceName(space.kind) ? space.kind : null
}

/**
 * Which built-in space an architecture value belongs to, from its shape (`layers` → chain,
 * `blocks` → nasnet, `cell` → nb201, `normal` + `reduce` → darts), or null.
 */
export function builtInKindOfArch(arch: unknown): BuiltInSpaceName | null {
  if (arch === null || typeof arch !== 'object') return null
  const a = arch as Record<string, unknown>
  if (Array.isArray(a.layers)) return 'chain'
  if (Array.isArray(a.blocks)) return 'nasnet'
  if (a.cell !== null && typeof a.cell === 'object') return 'nb201'
  if (a.normal !== null && typeof a.normal === 'object' && typeof a.reduce === 'object')
    return 'darts'
  return null
}
