import { type BuiltInSpaceName, builtInKindOfArch } from '@naskit/core'
import { NaskitError } from '../errors.js'
import { ChainNetwork, type ChainArch, type ChainOptions } from './chain.js'
import { type DartsArch, DartsNetwork, type DartsOptions } from './darts.js'
import { type NasnetArch, NasnetNetwork, type NasnetOptions } from './nasnet.js'
import { type Nb201Arch, Nb201Network, type Nb201Options } from './nb201.js'
import type { Network } from './network.js'

/** The built-in spaces the trainer builds networks for (core's names). */
export type SpaceName = BuiltInSpaceName

export interface BuildOptions {
  numClasses?: number
  inputShape?: [number, number, number]
  seed?: number
  chain?: Omit<ChainOptions, 'numClasses' | 'inputShape' | 'seed'>
  nasnet?: Omit<NasnetOptions, 'numClasses' | 'inputShape' | 'seed'>
  nb201?: Omit<Nb201Options, 'numClasses' | 'inputShape' | 'seed'>
  darts?: Omit<DartsOptions, 'numClasses' | 'inputShape' | 'seed'>
}

/**
 * The built-in space of an architecture value, from its shape (core's `builtInKindOfArch`);
 * `E_INVALID_ARCH` when it has the shape of none.
 */
export function inferSpace(arch: unknown): SpaceName {
  const kind = builtInKindOfArch(arch)
  if (kind !== null) return kind
  throw new NaskitError(
    'E_INVALID_ARCH',
    'Cannot tell the search space of this architecture (expected chain, nasnet, nb201 or darts values)',
  )
}

/** Builds the network of an architecture of one of the built-in spaces. */
export function buildNetwork(
  arch: unknown,
  options: BuildOptions = {},
  space?: SpaceName,
): Network {
  const common = {
    numClasses: options.numClasses,
    inputShape: options.inputShape,
    seed: options.seed,
  }
  const clean = <T extends object>(o: T) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T
  switch (space ?? inferSpace(arch)) {
    case 'chain':
      return new ChainNetwork(arch as ChainArch, { ...options.chain, ...clean(common) })
    case 'nasnet':
      return new NasnetNetwork(arch as NasnetArch, { ...options.nasnet, ...clean(common) })
    case 'nb201':
      return new Nb201Network(arch as Nb201Arch, { ...options.nb201, ...clean(common) })
    case 'darts':
      return new DartsNetwork(arch as DartsArch, { ...options.darts, ...clean(common) })
    default:
      throw new NaskitError('E_BAD_OPTIONS', `Unknown space "${space}"`)
  }
}

export { CHAIN_OPS, ChainNetwork, chainChannels, validateChain } from './chain.js'
export type { ChainArch, ChainOptions } from './chain.js'
export { DARTS_OPS, DartsCell, DartsNetwork, validateDarts, validateDartsCell } from './darts.js'
export type { DartsArch, DartsCellGenotype, DartsEdgeFactory, DartsOptions } from './darts.js'
export { NasnetBlock, NasnetNetwork, validateNasnet } from './nasnet.js'
export type { NasnetArch, NasnetOptions } from './nasnet.js'
export {
  NB201_OPS,
  Nb201Cell,
  Nb201Network,
  ResidualReduction,
  validateNb201,
} from './nb201.js'
export type { EdgeFactory, Nb201Arch, Nb201Op, Nb201Options } from './nb201.js'
export { globalAvgPool, Network, Stem } from './network.js'
