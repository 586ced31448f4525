export {
  CONFIG_DEFAULTS,
  defineConfig,
  findConfigFile,
  loadConfigFile,
  normalizeBudget,
  parseDuration,
  resolveSpace,
} from './config'
export type { Budget, BudgetInput, NaskitConfig, PluginInput, SpaceInput } from './config'
export { readExperimentConfig, runExperiment } from './experiment'
export type {
  EndReason,
  RunEvent,
  RunExperimentOptions,
  RunExperimentResult,
  StoredConfig,
} from './types'
export { InlineExecutor, ThreadExecutor } from './executor'
export { isRedisUrl, parseRedisUrl, redactRedisUrl } from './redis/connection'
export type { RedisTarget } from './redis/connection'
export { RedisExecutor } from './redis/executor'
export type { RedisExecutorOptions } from './redis/executor'
export { DEFAULT_QUEUE, trialJobId } from './redis/protocol'
export type { TrialJobData, TrialJobResult } from './redis/protocol'
export { runWorker } from './redis/worker'
export type { WorkerOptions, WorkerResult } from './redis/worker'
export type { Executor, RunningEval } from './executor'
export type { EvalOutcome, EvalReport, EvalTask } from './evaluate'
export { acquireLock, LOCK_FILE } from './lock'
export type { ExperimentLock } from './lock'
export {
  assertEvaluatorPlugin,
  EVALUATOR_PACKAGES,
  installCommand,
  listStrategies,
  listStrategyPackages,
  loadEvaluator,
  loadStrategy,
  STRATEGY_PACKAGES,
} from './plugins'
export type {
  LoadedEvaluator,
  LoadedStrategy,
  ModuleRef,
  StrategyListing,
  StrategyPackageInfo,
} from './plugins'
export { STORE_FILE, Store } from './store'
export type { Checkpoint, RunningTrial, StoredTrial } from './store'
export { applyFlags, runCli } from './commands'
export type { CliIo } from './commands'
export { exportText, exportTrials } from './export'
export type { ExportFormat, ExportOptions } from './export'
export { exportModels } from './export-models'
export type { ExportedTrial, ExportModelsOptions, ModelCard } from './export-models'
export { formatDuration, jsonReporter, lineReporter, ttyReporter } from './progress'
export type { ProgressSink } from './progress'
export { rankTrials, readExperiment, renderReport, reportData, writeReport } from './report'
export type { ExperimentData, ReportData } from './report'
export { archSvgs } from './arch-svg'
