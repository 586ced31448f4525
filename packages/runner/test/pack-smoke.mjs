// Run by the pack smoke test inside a folder where only the packed @naskit/runner and
// @naskit/core are installed: a seeded search with a user evaluator module, a resume, a report.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

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

// Without the trainer installed, a built-in evaluator of it says how to install it.
const missing = spawnSync(
  'node_modules/.bin/naskit',
  [
    'search',
    '--space',
    'nb201',
    '--evaluator',
    'mnist',
    '--budget',
    '1',
    '--out',
    'no-trainer',
    '--quiet',
  ],
  { encoding: 'utf8' },
)
if (
  missing.status === 0 ||
  !missing.stderr.includes('E_UNKNOWN_EVALUATOR') ||
  !missing.stderr.includes('@naskit/trainer-tfjs') ||
  !missing.stderr.includes('install')
)
  throw new Error(
    `expected the missing-trainer notice, got exit ${missing.status}: ${missing.stderr.slice(-500)}`,
  )
console.log('runner: a built-in evaluator of a missing package names the install command')

// Distributed trials through the installed package (bullmq, ioredis), when redis-server exists.
let redisBin = null
try {
  redisBin = execFileSync('which', ['redis-server'], { encoding: 'utf8' }).trim() || null
} catch {}
if (!redisBin) {
  const ci = process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0'
  if (ci)
    throw new Error('redis-server is required when CI is set: apt-get install -y redis-server')
  if (process.env.NASKIT_LEFT_OUT) {
    mkdirSync(dirname(process.env.NASKIT_LEFT_OUT), { recursive: true })
    appendFileSync(
      process.env.NASKIT_LEFT_OUT,
      `${JSON.stringify({ package: '@naskit/runner', tool: 'redis-server', tests: 'the pack smoke check of distributed trials', enable: 'apt-get install -y redis-server' })}\n`,
    )
  }
}
if (redisBin) {
  const port = await new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const p = srv.address().port
      srv.close(() => resolve(p))
    })
  })
  const redis = spawn(redisBin, ['--bind', '127.0.0.1', '--port', String(port), '--save', ''], {
    stdio: 'ignore',
  })
  const url = `redis://127.0.0.1:${port}`
  await new Promise((r) => setTimeout(r, 300))
  const worker = spawn('node_modules/.bin/naskit', ['worker', '--executor', url], {
    stdio: 'ignore',
  })
  let stopped = false
  try {
    naskit(
      'search',
      '--space',
      'nb201',
      '--evaluator',
      './convs.mjs',
      '--budget',
      '6',
      '--executor',
      url,
      '--out',
      'dist-run',
      '--quiet',
    )
    const rows = naskit('export', 'dist-run', '--top', '10', '--format', 'csv').trim().split('\n')
    if (rows.length !== 7) throw new Error(`expected 6 distributed trials, got ${rows.length - 1}`)
    console.log('runner: 6 trials on a Redis queue through naskit worker')
  } finally {
    // stop the worker while Redis is still up (it closes its queue connection), then Redis
    const exited =
      worker.exitCode !== null || worker.signalCode !== null
        ? Promise.resolve()
        : new Promise((resolve) => worker.once('exit', resolve))
    worker.kill('SIGTERM')
    stopped = await Promise.race([
      exited.then(() => true),
      new Promise((resolve) => setTimeout(() => resolve(false), 20_000)),
    ])
    if (!stopped) worker.kill('SIGKILL')
    redis.kill('SIGKILL')
  }
  if (!stopped) throw new Error('naskit worker did not stop within 20 s of SIGTERM')
}
