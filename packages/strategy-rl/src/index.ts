import { rlStrategy } from './strategy'

export { rlStrategy } from './strategy'
export { Controller } from './controller'
export type { ControllerKind, Episode, LogitTransform } from './controller'
export { buildVocabulary } from './vocabulary'
export type { DecisionGroup, Step, Vocabulary } from './vocabulary'
export { ensureBackend } from './backend'
export { registerMissingGradients, NEEDED_GRADIENTS } from './gradients'

/** Every strategy plugin of this package. */
export const strategies = [rlStrategy]

export default rlStrategy
