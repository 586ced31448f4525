// Run by the pack smoke test inside a folder where only the packed @naskit/runner and
// @naskit/core are installed: a seeded search with a user evaluator module, a resume, a report.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'

writeFileSync(
  'convs.mjs',
  `export default {
  name: 'convs', description: 'counts 3x3 convolutions', cost: 'cheap', options: {},
  create: () => ({ name: 'convs', evaluate: (a) => ({ objective: a.cell.nodes.flatMap((n) => n.ops).filter((o) => o === 'nor_conv_3x3').length }) }),
}\n`,
)
const naskit = (...args) => execFileSync('node_modules/.bin/naskit', args, { encoding: 'utf8' })
naskit(
  'search',
  '--space',
  'nb201',
  '--evaluator',
  './convs.mjs',
  '--budget',
  '12',
  '--seed',
  '3',
  '--out',
  'run',
  '--quiet',
)
naskit(
  'search',
  '--space',
  'nb201',
  '--evaluator',
  './convs.mjs',
  '--budget',
  '20',
  '--seed',
  '3',
  '--out',
  'run',
  '--quiet',
)
naskit('report', 'run')
const csv = naskit('export', 'run', '--top', '20', '--format', 'csv').trim().split('\n')
if (csv.length !== 21)
  throw new Error(`expected 20 exported trials after the resume, got ${csv.length - 1}`)
if (!existsSync('run/report.html') || !readFileSync('run/report.html', 'utf8').includes('<svg'))
  throw new Error('no report')
console.log(
  `runner: search, resume to 20 trials, report and export work from the installed package`,
)
