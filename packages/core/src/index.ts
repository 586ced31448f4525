export { ErrorCodes, NaskitError, isNaskitError } from './errors'
export type { ErrorCode } from './errors'
export { bytesToFloat32, float32ToBytes } from './float32'
export type { JsonObject, JsonPrimitive, JsonValue } from './json'
export { Rng, createRng, hashString } from './rng'
export type { RngState } from './rng'
export { categorical, cell, float, group, int, repeat } from './space/dsl'
export { DEFAULT_ENUMERATE_LIMIT, SearchSpace, defineSpace } from './space/space'
export { CONTINUOUS_BINS } from './space/nodes'
export type {
  Arch,
  ArchValue,
  CategoricalSpec,
  CellNodeValue,
  CellSpec,
  CellValue,
  Choice,
  Chooser,
  DecisionPoint,
  DecisionSpec,
  FloatSpec,
  GroupSpec,
  IntSpec,
  RepeatSpec,
  SpaceSpec,
} from './space/types'
export { CHAIN_OPS, chainSpace } from './spaces/chain'
export type { ChainSpaceOptions } from './spaces/chain'
export { nasnetSpace } from './spaces/nasnet'
export type { NasnetSpaceOptions } from './spaces/nasnet'
export { NB201_OPS, nb201FromString, nb201Space, nb201ToString } from './spaces/nb201'
export type { Nb201Op } from './spaces/nb201'
export { DARTS_OPS, dartsSpace } from './spaces/darts'
export {
  BUILT_IN_SPACE_NAMES,
  BUILT_IN_SPACES,
  builtInKind,
  builtInKindOfArch,
  builtInSpace,
  isBuiltInSpaceName,
} from './spaces/registry'
export type { BuiltInSpaceName, BuiltInSpaceOptions } from './spaces/registry'
export { defineOptions, describeOptions, option, validateOptions } from './options'
export type {
  BooleanOption,
  EnumOption,
  InferOptions,
  JsonOption,
  NumberOption,
  OptionSpec,
  OptionsSchema,
  StringOption,
} from './options'
export {
  assertStrategyPlugin,
  createStrategy,
  defineEvaluator,
  defineStrategy,
  toTrialError,
  toTrialResult,
} from './contracts'
export type {
  EvalContext,
  ExportedModel,
  Evaluator,
  EvaluatorPlugin,
  Fidelity,
  Logger,
  MetricValue,
  Metrics,
  OneShotResult,
  OneShotRunContext,
  OneShotServices,
  OneShotStrategy,
  OneShotStrategyPlugin,
  Progress,
  Proposal,
  SamplingStrategy,
  SamplingStrategyPlugin,
  StrategyContext,
  StrategyPlugin,
  StrategyStatus,
  TrialError,
  TrialResult,
} from './contracts'
export {
  BestTracker,
  bestTrial,
  evaluateTrial,
  prepareProposal,
  trialResultOf,
  trialRng,
} from './loop'
export type {
  CheckedProposal,
  Evaluation,
  InvalidProposal,
  PendingTrial,
  RankedTrial,
} from './loop'
export { randomStrategy } from './strategies/random'
export { createUnseenSampler } from './strategies/unseen'
export type {
  UnseenSampler,
  UnseenSamplerOptions,
  UnseenSamplerState,
} from './strategies/unseen'
import { randomStrategy as random } from './strategies/random'
/** The strategy plugins this package provides. */
export const strategies = [random]
export { simpleSearch } from './search'
export type { SimpleSearchOptions, SimpleSearchResult } from './search'
