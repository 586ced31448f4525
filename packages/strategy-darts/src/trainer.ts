/**
 * The one place this package imports the trainer's op library, models and data from, so that
 * every op of the supernet is the trainer's own (no second copy).
 */
export {
  batches,
  createOp,
  createRng as createDataRng,
  DartsNetwork,
  initContext,
  loadFashionMnist,
  loadMnist,
  Module,
  Nb201Network,
  selectBackend,
  splitDataset,
} from '@naskit/trainer-tfjs'
export type {
  BackendChoice,
  Dataset,
  InitContext,
  Network,
  SplitView,
} from '@naskit/trainer-tfjs'
