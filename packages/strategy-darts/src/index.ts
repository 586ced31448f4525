export { deriveArchitecture, deriveDartsCell, deriveNb201 } from './derive.js'
export type { EdgeMatrix } from './derive.js'
export { resolveOptions } from './options.js'
export type { DartsRemedy, DartsSettings, ResolvedSettings } from './options.js'
export type { PerturbationCriterion, PerturbationResult } from './perturb.js'
export { dartsSearch } from './search.js'
export type { DartsSearchOptions, DartsSearchResult, EpochRecord } from './search.js'
export {
  cellLayout,
  DartsSupernet,
  MixedOp,
  softWeights,
  supportsSpace,
  weightedSum,
} from './supernet.js'
export type {
  CellKind,
  CellLayout,
  CellSpaceKind,
  EdgeRef,
  EdgeWeights,
  MixingContext,
  SupernetOptions,
} from './supernet.js'
export { dartsOptions, dartsStrategy } from './plugin.js'
export type { DartsServices } from './plugin.js'
import { dartsStrategy } from './plugin.js'
/** The strategy plugins this package provides. */
export const strategies = [dartsStrategy]
export default dartsStrategy
