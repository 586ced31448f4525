// Pack smoke check, run by scripts/pack-smoke.mjs in a folder where only @naskit/core and the
// packed @naskit/benchmarks are installed: a synthetic table (every NAS-Bench-201 cell, made-up
// accuracies) goes through the loader, the evaluator, the suite on worker threads and the CLI.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NB201_OPS } from '@naskit/core'
import { NB201_REQUIRED_COLUMNS, loadNb201Table, runBenchCli } from '@naskit/benchmarks'

const dir = mkdtempSync(join(tmpdir(), 'nb201-smoke-'))
const file = join(dir, 'nb201.csv')
const lines = [NB201_REQUIRED_COLUMNS.join(',')]
for (let i = 0; i < 15625; i++) {
  const ops = Array.from({ length: 6 }, (_, k) => NB201_OPS[Math.floor(i / 5 ** k) % 5])
  const arch = `|${ops[0]}~0|+|${ops[1]}~0|${ops[2]}~1|+|${ops[3]}~0|${ops[4]}~1|${ops[5]}~2|`
  const convs = ops.filter((o) => o === 'nor_conv_3x3').length
  const values = { index: i, arch, params_m: 0.1 + convs / 10, flops_m: 10 + convs * 30 }
  for (const d of ['cifar10', 'cifar100', 'imagenet16']) {
    values[`${d}_test`] = (50 + convs * 7 + (i % 7) / 10).toFixed(4)
    values[`${d}_valid_12ep`] = (40 + convs * 6 + (i % 5) / 10).toFixed(4)
  }
  lines.push(NB201_REQUIRED_COLUMNS.map((c) => values[c]).join(','))
}
writeFileSync(file, `${lines.join('\n')}\n`)
const table = loadNb201Table(file)
if (table.size !== 15625) throw new Error(`table has ${table.size} rows`)

const out = join(dir, 'out')
let stdout = ''
let stderr = ''
const io = {
  stdout(t) {
    stdout += t
  },
  stderr(t) {
    stderr += t
  },
  env: {},
  cwd: dir,
}
const code = await runBenchCli(
  [
    'nb201',
    '--strategies',
    'random',
    '--seeds',
    '6',
    '--queries',
    '20',
    '--workers',
    '2',
    '--nb201',
    file,
    '--out',
    out,
  ],
  io,
)
if (code !== 0) throw new Error(`bench exited with ${code}: ${stderr}`)
if (!stdout.includes('| random |')) throw new Error(`expected the markdown table: ${stdout}`)
if (!stderr.includes('on 2 worker threads')) throw new Error(`expected worker threads: ${stderr}`)
const runs = JSON.parse(readFileSync(join(out, 'runs.json'), 'utf8')).runs
if (runs.length !== 6) throw new Error(`expected 6 runs, got ${runs.length}`)
stderr = ''
const missing = await runBenchCli(
  ['nb201', '--strategies', 'evolution', '--nb201', file, '--out', out],
  io,
)
if (missing !== 1 || !stderr.includes('npm install @naskit/strategy-evolution'))
  throw new Error(`expected an install hint: ${stderr}`)
console.log(`@naskit/benchmarks: synthetic table loaded, ${runs.length} runs on 2 worker threads`)
