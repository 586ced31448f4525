import { createStrategy, type TrialResult } from '@naskit/core'
import { boStrategy } from '../src/index'
import { loadTable } from './table'
const table = loadTable(); const space = table.space
const valid = table.column('cifar10_valid_12ep')
const opts = JSON.parse(process.argv[2] ?? '{}')
const top = table.best('cifar10_valid_12ep').row
const ops = (row: number) => table.archAt(row).split('|').filter(s => s.includes('~'))
const topOps = ops(top)
const dist = (row: number) => ops(row).reduce((s, o, i) => s + (o === topOps[i] ? 0 : 1), 0)
for (const seed of (process.argv[3] ?? '10008,10018,10035,10011,10029').split(',').map(Number)) {
  const s = createStrategy(boStrategy, { space, options: opts, seed })
  let best = -1, bestRow = -1; const dists: number[] = []
  for (let id = 0; id < 100; id++) {
    const [p] = s.ask(1) as any[]
    const key = space.key(p.arch); const row = table.rowOfKey(key); const v = valid[row]!
    if (v > best) { best = v; bestRow = row }
    dists.push(dist(row))
    s.tell([{ id, arch: p.arch, key, status: 'ok', objective: v, metrics: {} } as TrialResult])
  }
  console.log(seed, best.toFixed(3), 'min dist to top', Math.min(...dists), 'first reach d<=2 at', dists.findIndex(d => d <= 2), 'dist hist', [0,1,2,3,4,5,6].map(d => dists.filter(x => x === d).length).join(','), table.archAt(bestRow))
}
