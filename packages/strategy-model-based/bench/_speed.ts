import { Rng } from '@naskit/core'
import { createEnsemblePredictor } from '../src/index'
import { loadTable } from './table'
const table = loadTable(); const space = table.space
const valid = table.column('cifar10_valid_12ep')
const rows = new Rng(1).sampleIndices(table.size, 100)
const p = createEnsemblePredictor(space, { seed: 1, hidden: [20], epochs: 100, learningRate: 0.02 })
const x = rows.map(i => p.encoder.encode(table.arch(i))); const y = rows.map(i => valid[i]!)
console.log('nnz', x.reduce((s,v)=>s+v.index.length,0)/x.length, 'len', p.encoder.length)
for (let r = 0; r < 8; r++) { const t0 = performance.now(); const c0=process.cpuUsage(); p.fitEncoded(x, y); const c=process.cpuUsage(c0); console.log((performance.now()-t0).toFixed(1), 'ms wall', ((c.user+c.system)/1000).toFixed(1),'ms cpu') }
