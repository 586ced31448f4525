import { builtInKind, NaskitError, type SearchSpace } from '@naskit/core'
import { ChainSupernet, type ChainSupernetOptions } from './chain'
import { type FewShotOptions, FewShotSupernet } from './fewshot'
import { NasnetSupernet, type NasnetSupernetOptions } from './nasnet'
import { Nb201Supernet, type Nb201SupernetOptions } from './nb201'
import type { Supernet, SupernetKind } from './supernet'

/** Options of {@link createSupernet}: common settings and per-space ones. */
export interface SupernetOptions {
  numClasses?: number
  inputShape?: [number, number, number]
  seed?: number
  nb201?: Omit<Nb201SupernetOptions, 'numClasses' | 'inputShape' | 'seed'>
  chain?: Omit<ChainSupernetOptions, 'numClasses' | 'inputShape' | 'seed'>
  nasnet?: Omit<NasnetSupernetOptions, 'numClasses' | 'inputShape' | 'seed'>
  /**
   * Few-shot supernet: one copy of the weights per choice of `decision`, split from the
   * shared supernet after `splitEpoch` training epochs (see {@link FewShotSupernet}).
   */
  fewShot?: FewShotOptions
}

/** The supernet family of a space (its built-in kind), or a reason why there is none. */
export function supernetKind(space: SearchSpace): SupernetKind | string {
  const kind = builtInKind(space)
  if (kind === 'nb201') {
    const c = space.decisions.cell
    if (c?.type !== 'cell' || c.inputs !== 1 || c.nodes !== 3 || c.inputsPerNode !== 'all')
      return 'an nb201 space needs one cell of 3 fully connected nodes'
    return 'nb201'
  }
  if (kind === 'chain' || kind === 'nasnet') return kind
  return `no supernet for spaces of kind "${space.kind ?? 'unknown'}" (supported: nb201, chain, nasnet)`
}

/** Builds the weight-sharing supernet of a chain, nb201 or NASNet space. */
export function createSupernet(space: SearchSpace, options: SupernetOptions = {}): Supernet {
  if (options.fewShot) {
    const { fewShot, ...one } = options
    return new FewShotSupernet(() => createSupernet(space, one), fewShot)
  }
  const kind = supernetKind(space)
  const common = {
    ...(options.numClasses === undefined ? {} : { numClasses: options.numClasses }),
    ...(options.inputShape === undefined ? {} : { inputShape: options.inputShape }),
    ...(options.seed === undefined ? {} : { seed: options.seed }),
  }
  switch (kind) {
    case 'nb201':
      return new Nb201Supernet(space, { ...options.nb201, ...common })
    case 'chain':
      return new ChainSupernet(space, { ...options.chain, ...common })
    case 'nasnet':
      return new NasnetSupernet(space, { ...options.nasnet, ...common })
    default:
      throw new NaskitError(
        'E_UNSUPPORTED_SPACE',
        `Cannot build a supernet for space "${space.name}": ${kind}.`,
      )
  }
}
