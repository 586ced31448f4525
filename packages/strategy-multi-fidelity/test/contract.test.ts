import { strategyContract } from '@naskit/core/testing'
import { ashaStrategy, hyperbandStrategy, successiveHalvingStrategy } from '../src/index'

// a multi-fidelity schedule asks a promoted architecture again, at a higher fidelity
const noRepeats = false

strategyContract(successiveHalvingStrategy, { noRepeats })
strategyContract(successiveHalvingStrategy, {
  options: { rounds: 0, eta: 2, maxResource: 8, feedback: 'first', parallelBrackets: false },
  noRepeats,
})
strategyContract(hyperbandStrategy, { noRepeats })
strategyContract(hyperbandStrategy, {
  options: {
    sampler: 'evolution',
    samplerOptions: { populationSize: 4, sampleSize: 2 },
    iterations: 0,
  },
  noRepeats,
})
strategyContract(ashaStrategy, { noRepeats })
strategyContract(ashaStrategy, {
  options: { resource: 'dataFraction', gracePeriod: 0.1, maxResource: 1, brackets: 2 },
  batch: 5,
  noRepeats,
})
