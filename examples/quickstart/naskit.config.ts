import { defineConfig } from '@naskit/runner'

// The quick start: a real architecture search on MNIST. Each candidate of a small chain space
// (4–6 layers of 8 operations, width multiplier, input resolution 16–28) is trained from
// scratch for one epoch on 3,000 MNIST images (the trainer's default recipe) and ranked by
// its validation accuracy.
export default defineConfig({
  space: {
    builtIn: 'chain',
    options: {
      depth: { min: 4, max: 6 },
      widthMultiplier: { low: 0.5, high: 1.5, step: 0.25 },
      resolution: { low: 16, high: 28, step: 4 },
    },
  },
  strategy: 'random',
  evaluator: {
    name: 'mnist',
    options: {
      epochs: 1,
      trainSize: 3000,
      validationSize: 1000,
      testSize: 1000,
      baseChannels: 8,
    },
  },
  budget: { trials: 8 },
  workers: 2,
  seed: 1,
  out: 'runs/quickstart',
})
