/**
 * `@naskit/core/node`: finding and loading plugins on Node.js (packages by name, module paths,
 * TypeScript files) and starting worker threads. Hosts such as `@naskit/runner` and
 * `@naskit/benchmarks` use it, and so can yours; the main entry of `@naskit/core` stays free of
 * Node built-ins.
 */
export {
  CORE_DIR,
  type FoundPackage,
  findPackage,
  importFile,
  isPathSpecifier,
  listInstalledPackages,
  RUNNING_FROM_SOURCE,
  resolveFile,
  splitSpecifier,
} from './modules'
export {
  didYouMean,
  editDistance,
  installCommand,
  installedStrategyNames,
  type LoadedStrategy,
  type LookupOptions,
  loadSamplingStrategy,
  loadStrategy,
  listStrategies,
  listStrategyPackages,
  locateModule,
  lookupDirs,
  type ModuleRef,
  type ModuleTarget,
  moduleRef,
  nearestNames,
  STRATEGY_PACKAGES,
  splitPick,
  type StrategyListing,
  type StrategyPackageInfo,
} from './resolve'
export {
  startWorker,
  type WorkerEntryOptions,
  type WorkerLaunch,
  workerLaunch,
} from './worker'
