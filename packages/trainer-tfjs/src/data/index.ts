export {
  batches,
  computeStats,
  datasetFromArrays,
  splitDataset,
  stratifiedOrder,
} from './dataset.js'
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
export { checkDatasetInstalled, loadFashionMnist, loadMnist, parseIdx } from './mnist.js'
export type { ImageFolderInfo, ImageFolderOptions } from './folder.js'
export { IMAGE_EXTENSIONS, loadImageFolder } from './folder.js'
