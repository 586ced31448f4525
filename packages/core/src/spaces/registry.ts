import { NaskitError } from '../errors'
import type { SearchSpace } from '../space/space'
import { chainSpace } from './chain'
import { dartsSpace } from './darts'
import { nasnetSpace } from './nasnet'
import { nb201Space } from './nb201'

/** The built-in spaces by name, each with its default settings. */
export const BUILT_IN_SPACES: Readonly<Record<string, () => SearchSpace>> = {
  chain: () => chainSpace(),
  nasnet: () => nasnetSpace(),
  nb201: () => nb201Space(),
  darts: () => dartsSpace(),
}

/** A built-in space by name (`chain`, `nasnet`, `nb201`, `darts`); `E_INVALID_SPACE` otherwise. */
export function builtInSpace(name: string): SearchSpace {
  const make = BUILT_IN_SPACES[name]
  if (!make) {
    throw new NaskitError(
      'E_INVALID_SPACE',
      `Unknown built-in space "${name}". Built-in spaces: ${Object.keys(BUILT_IN_SPACES).join(', ')}; or pass a space object.`,
    )
  }
  return make()
}
