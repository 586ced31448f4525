export { batches, computeStats, datasetFromArrays, splitDataset } from './dataset.js'
export type {
  ArrayDatasetInput,
  Batch,
  BatchOptions,
  Dataset,
  SplitView,
  ImageSet,
  SplitOptions,
  Splits,
} from './dataset.js'
export { loadFashionMnist, loadMnist, parseIdx } from './mnist.js'
