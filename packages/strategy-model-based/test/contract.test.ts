import { strategyContract } from '@naskit/core/testing'
import { bananasStrategy, boStrategy } from '../src/index'

const quick = { epochs: 30, networks: 3, initialSamples: 4 }
strategyContract(bananasStrategy, { options: quick })
strategyContract(bananasStrategy, {
  options: { ...quick, acquisition: 'ucb', encoding: 'onehot', initialSamples: 2 },
  batch: 5,
})
strategyContract(boStrategy, { options: { initialSamples: 4 } })
strategyContract(boStrategy, {
  options: { initialSamples: 2, acquisition: 'its', transform: 'rank', quadratic: true },
  batch: 5,
})
