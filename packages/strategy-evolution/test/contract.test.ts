import { strategyContract } from '@naskit/core/testing'
import { evolutionStrategy, localSearchStrategy } from '../src/index'

strategyContract(evolutionStrategy)
strategyContract(evolutionStrategy, { options: { populationSize: 3, sampleSize: 2 }, batch: 5 })
strategyContract(localSearchStrategy)
strategyContract(localSearchStrategy, {
  options: { improvement: 'best', initialSamples: 2 },
  batch: 3,
})
