import '@tensorflow/tfjs-backend-cpu'
import { chainSpace, nb201Space } from '@naskit/core'
import { strategyContract } from '@naskit/core/testing'
import { rlStrategy } from '../src/index'

// the default controller on every built-in space
strategyContract(rlStrategy)

// the variants on a fixed-length and a variable-depth space
const spaces = [nb201Space(), chainSpace({ resolution: { low: 16, high: 32, step: 8 } })]
strategyContract(
  { ...rlStrategy, name: 'rl (independent, batches of 3)' },
  { options: { controller: 'independent', batchSize: 3 }, spaces },
)
strategyContract(
  { ...rlStrategy, name: 'rl (lstm, batches of 4, standardized reward, entropy bonus)' },
  {
    options: { batchSize: 4, reward: 'standardized', entropyWeight: 0.01, onFailure: 'penalize' },
    spaces,
  },
)
