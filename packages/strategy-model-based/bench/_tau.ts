import { type Arch, Rng } from '@naskit/core'
import { createEnsemblePredictor, createGpPredictor, kendallTau } from '../src/index'
import { loadTable } from '../bench/table'
const table = loadTable(); const space = table.space
const dataset = process.argv[2] ?? 'cifar10'
const valid = table.column(`${dataset}_valid_12ep`)
const transforms: Record<string,(v:number[])=>number[]> = {
  raw: (v) => v,
  logerr: (v) => v.map((x) => -Math.log(100.5 - x)),
}
const configs: Array<[string, (s:number)=>any]> = [
  ['mlp32 e150', (s)=>createEnsemblePredictor(space,{seed:s})],
  ['mlp32 e80 lr.03', (s)=>createEnsemblePredictor(space,{seed:s,epochs:80,learningRate:0.03})],
  ['mlp16 e100 lr.02', (s)=>createEnsemblePredictor(space,{seed:s,hidden:[16],epochs:100,learningRate:0.02})],
  ['mlp20x20 e150', (s)=>createEnsemblePredictor(space,{seed:s,hidden:[20,20]})],
  ['mlp64 e200', (s)=>createEnsemblePredictor(space,{seed:s,hidden:[64],epochs:200})],
  ['gp', ()=>createGpPredictor(space,{})],
  ['gp rbf', ()=>createGpPredictor(space,{kernel:'rbf'})],
  ['gp exp', ()=>createGpPredictor(space,{kernel:'exponential'})],
]
for (const [tname, tf] of Object.entries(transforms)) for (const [label, make] of configs) {
  const res: number[][] = [[],[],[]]; let ms=0
  for (let r=0;r<5;r++){
    const rng = new Rng(`t:${r}`); const rows = rng.sampleIndices(table.size, 1100)
    const test = rows.slice(100); const archs = test.map(i=>table.arch(i)); const truth = test.map(i=>valid[i]!)
    ;[20,50,100].forEach((n,i)=>{ const p = make(r); const tr=rows.slice(0,n)
      const y = tf(tr.map(i=>valid[i]!)); const t0=performance.now()
      p.fitEncoded(tr.map(i=>p.encoder.encode(table.arch(i))), y); if(n===100) ms+=performance.now()-t0
      res[i]!.push(kendallTau(p.predictEncoded(archs.map(a=>p.encoder.encode(a))).mean, truth)) })
  }
  console.log(tname.padEnd(7), label.padEnd(18), res.map(x=>(x.reduce((a,b)=>a+b)/x.length).toFixed(3)).join(' '), (ms/5).toFixed(1)+'ms')
}
