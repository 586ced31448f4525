import { strategyContract } from '@naskit/core/testing'
import hillclimb from '../src/index'

strategyContract(hillclimb)
strategyContract(hillclimb, { options: { initialSamples: 1, patience: 3 } })
