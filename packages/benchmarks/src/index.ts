export { runBenchCli, BENCH_USAGE, parseSeeds } from './cli'
export type { BenchIo } from './cli'
export {
  evaluators,
  nb201Evaluator,
  nb201Metrics,
  NB201_OBJECTIVES,
  supportsNb201,
  TEST_LEAK_WARNING,
} from './evaluator'
export type { Nb201Objective } from './evaluator'
export {
  checkpoints,
  DATASET_TITLES,
  NB201_REFERENCES,
  suiteJson,
  suiteMarkdown,
  suiteSvg,
} from './report'
export type { ReferenceRow } from './report'
export { resolveStrategy, STRATEGY_PACKAGES } from './resolve'
export { oneShotSkipReason, runNb201, runNb201Suite, statistics, summarise } from './suite'
export type { RunRecord, StrategySummary, SuiteEntry, SuiteOptions, SuiteResult } from './suite'
export {
  BenchErrorCodes,
  loadNb201Table,
  NB201_DATASETS,
  NB201_ENV,
  NB201_REQUIRED_COLUMNS,
  NB201_ROWS,
  Nb201Table,
  parseNb201Csv,
  resolveNb201Path,
} from './table'
export type { LoadNb201Options, Nb201Dataset } from './table'
