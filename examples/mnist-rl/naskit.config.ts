import { defineConfig } from '@naskit/runner'

// REINFORCE with an LSTM controller over a small chain space on MNIST: the controller samples
// 4–8 layers (8 operations each), a width multiplier and an input resolution; every candidate
// is trained from scratch for one epoch and its validation accuracy becomes the reward.
export default defineConfig({
  space: {
    builtIn: 'chain',
    options: {
      depth: { min: 4, max: 8 },
      widthMultiplier: { low: 0.5, high: 1.5, step: 0.25 },
      resolution: { low: 16, high: 28, step: 4 },
    },
  },
  strategy: { name: 'rl', options: { controller: 'lstm', batchSize: 4 } },
  evaluator: {
    name: 'mnist',
    options: {
      epochs: 1,
      trainSize: 3000,
      validationSize: 1000,
      testSize: 1000,
      baseChannels: 8,
      batchSize: 32,
    },
  },
  budget: { trials: 24 },
  workers: 2,
  seed: 1,
  out: 'runs/mnist-rl',
})
