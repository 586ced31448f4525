import { strategyContract } from '@naskit/core/testing'
import { bananasStrategy, boStrategy } from '../src/index'

// small candidate pools and networks keep the kit fast; the defaults run in restore.test.ts
const light = { parents: 3, randomCandidates: 20, maxNeighbours: 16, farMutations: 2 }
strategyContract(bananasStrategy, {
  options: { ...light, epochs: 20, networks: 2, initialSamples: 4 },
})
strategyContract(bananasStrategy, {
  options: {
    ...light,
    epochs: 10,
    networks: 3,
    layers: 2,
    width: 8,
    acquisition: 'ucb',
    encoding: 'auto',
    initialSamples: 2,
    modelClimbs: 2,
  },
  batch: 5,
})
strategyContract(boStrategy, { options: { ...light, initialSamples: 4 } })
strategyContract(boStrategy, {
  options: {
    ...light,
    initialSamples: 2,
    acquisition: 'its',
    transform: 'rank',
    encoding: 'auto',
    quadratic: true,
    modelClimbs: 2,
  },
  batch: 5,
})
