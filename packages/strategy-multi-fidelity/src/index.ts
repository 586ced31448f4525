import type { StrategyPlugin } from '@naskit/core'
import { ashaStrategy, hyperbandStrategy, successiveHalvingStrategy } from './plugins'

export { makeLadder, fidelityOf } from './ladder'
export type { Ladder, Resource } from './ladder'
export type { Feedback } from './pool'
export {
  ashaStrategy,
  hyperbandPlan,
  hyperbandStrategy,
  successiveHalvingStrategy,
  withSampler,
} from './plugins'
export type { MultiFidelityStrategy } from './plugins'
export type { Method, RungMeta } from './schedule'
export { formatRungs, rungMeta, summarizeRungs } from './summary'
export type { RungSummary, RungsSummary, RungTrial } from './summary'

/** Every strategy of this package. */
export const strategies: StrategyPlugin[] = [
  successiveHalvingStrategy as StrategyPlugin,
  hyperbandStrategy as StrategyPlugin,
  ashaStrategy as StrategyPlugin,
]

export default hyperbandStrategy
