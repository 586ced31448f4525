import type { StrategyPlugin } from '@naskit/core'
import { evolutionStrategy } from './evolution'
import { localSearchStrategy } from './local-search'

export { evolutionStrategy } from './evolution'
export { localSearchStrategy } from './local-search'

/** Every strategy of this package. */
export const strategies: StrategyPlugin[] = [
  evolutionStrategy as StrategyPlugin,
  localSearchStrategy as StrategyPlugin,
]

export default evolutionStrategy
