// Run by the pack smoke test inside a folder where only the packed @naskit/trainer-tfjs and
// @naskit/core are installed: train and evaluate a small NAS-Bench-201 network on MNIST.
import { nb201FromString } from '@naskit/core'
import { tfjsEvaluator } from '@naskit/trainer-tfjs'

const evaluator = tfjsEvaluator({
  dataset: 'mnist',
  space: 'nb201',
  epochs: 2,
  batchSize: 32,
  split: { trainSize: 1024, validationSize: 256, testSize: 128 },
  build: { nb201: { channels: 8, cellsPerStage: 1 } },
})
const arch = nb201FromString(
  '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|',
)
const m = await evaluator.evaluate(arch, { trialId: 0, seed: 1 })
if (!(m.objective >= 0 && m.objective <= 1) || !(m.params > 0))
  throw new Error(`bad metrics ${JSON.stringify(m)}`)
// it learns: 10 classes, so chance is 0.1 (this network reaches about 0.3 in two short epochs)
if (!(m.objective > 0.2)) throw new Error(`no better than chance: ${JSON.stringify(m)}`)
console.log(
  `trainer-tfjs: trained on MNIST with the ${m.backend} backend, validation accuracy ${m.objective.toFixed(3)}, ${m.params} params`,
)
