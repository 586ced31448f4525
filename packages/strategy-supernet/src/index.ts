export { ChainSupernet } from './chain'
export type { ChainSupernetOptions } from './chain'
export { createSupernet, supernetKind } from './create'
export type { SupernetOptions } from './create'
export {
  holdBatches,
  recalibrateBatchNorm,
  subnetAccuracy,
  supernetEvaluator,
} from './evaluate'
export type { HeldBatch, SupernetEvaluator, SupernetEvaluatorOptions } from './evaluate'
export { FewShotSupernet, splittableDecisions } from './fewshot'
export type { FewShotOptions } from './fewshot'
export { NasnetSupernet } from './nasnet'
export type { NasnetSupernetOptions } from './nasnet'
export { ChoiceEdge, Nb201Supernet } from './nb201'
export type { Nb201SupernetOptions } from './nb201'
export { runSupernetSearch, supernetOptions, supernetStrategy } from './plugin'
export type { SupernetSearchArgs, SupernetServices, SupernetStrategyOptions } from './plugin'
export { retrainStandalone } from './retrain'
export type { RetrainOptions, StandaloneResult } from './retrain'
export { createSampler, fairSampler, uniformSampler } from './sampler'
export type { ArchSampler, SamplerKind } from './sampler'
export {
  resolveSamplingStrategy,
  searchSubnets,
  topArchitectures,
} from './search'
export type { RankedArch, SearchSubnetsOptions, SearchSubnetsResult } from './search'
export { ChannelMasks, ModuleList, Supernet } from './supernet'
export type { SupernetKind, SupernetSlot, SupernetSplit } from './supernet'
export { SupernetTrainer, trainSupernet } from './train'
export type { SupernetTrainOptions, SupernetTrainSummary, TrainCheckpoint } from './train'
export { loadWeights, saveWeights } from './weights'

import { supernetStrategy } from './plugin'
/** The strategy plugins this package provides. */
export const strategies = [supernetStrategy]
export default supernetStrategy
export { kendallTau } from './rank'
