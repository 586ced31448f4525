#!/usr/bin/env node
// Pack smoke test: every public package is packed with `pnpm pack`, installed with npm in an
// empty folder outside the workspace together with only the @naskit packages it depends on,
// imported and used. New packages join automatically. A package may add its own usage check
// in `test/pack-smoke.mjs` (run inside the install folder with the package installed).
import { execFileSync, spawnSync } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const only = process.argv.slice(2)
const pnpm = existsSync(join(root, 'node_modules', '.bin', 'pnpm'))
  ? join(root, 'node_modules', '.bin', 'pnpm')
  : 'pnpm'
const packagesDir = join(root, 'packages')
const all = readdirSync(packagesDir)
  .map((name) => join(packagesDir, name))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
  .filter(({ pkg }) => pkg.private !== true)
const byName = new Map(all.map((p) => [p.pkg.name, p]))

const work = mkdtempSync(join(tmpdir(), 'naskit-pack-'))
const tarballs = join(work, 'tarballs')
mkdirSync(tarballs)
const results = []
const record = (name, ok, detail = '') => {
  results.push({ name, ok, detail })
  console.log(`${ok ? '✓' : '✗'} ${name}${detail ? ` — ${detail}` : ''}`)
}

function closure(name, acc = new Set()) {
  if (acc.has(name)) return acc
  acc.add(name)
  const { pkg } = byName.get(name)
  for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies }))
    if (byName.has(dep)) closure(dep, acc)
  return acc
}

const tarballOf = new Map()
for (const { dir, pkg } of all) {
  try {
    const out = execFileSync(pnpm, ['pack', '--pack-destination', tarballs], {
      cwd: dir,
      encoding: 'utf8',
      stdio: 'pipe',
    })
    const file = out
      .trim()
      .split('\n')
      .filter((l) => l.endsWith('.tgz'))
      .pop()
    tarballOf.set(pkg.name, resolve(dir, file))
  } catch (error) {
    record(`${pkg.name}: pnpm pack`, false, String(error.stderr || error.message).slice(-2000))
  }
}

const generic = `
const name = process.argv[2]
const mod = await import(name)
const names = Object.keys(mod)
if (names.length === 0) throw new Error(name + ' exports nothing')
const core = await import('@naskit/core')
const plugins = [...(mod.strategies ?? []), ...(mod.default && mod.default.kind ? [mod.default] : [])]
let used = 0
for (const plugin of plugins) {
  core.assertStrategyPlugin(plugin, name)
  if (plugin.kind !== 'sampling') { used++; continue }
  const space = core.nb201Space()
  if (plugin.supports && plugin.supports(space) !== true) continue
  const evaluator = { name: 'count-convs', evaluate: (a) => ({ objective: a.cell.nodes.flatMap((n) => n.ops).filter((o) => o === 'nor_conv_3x3').length }) }
  const r = await core.simpleSearch({ space, strategy: plugin, evaluator, trials: 12, seed: 1, batchSize: 3 })
  if (r.trials.length === 0 || !r.best) throw new Error(plugin.name + ' ran no trial')
  used++
}
for (const [evName, plugin] of Object.entries(mod.evaluators ?? {})) {
  if (typeof plugin.create !== 'function' || typeof plugin.name !== 'string') throw new Error('evaluator ' + evName + ' is not an EvaluatorPlugin')
  used++
}
console.log(name + ': ' + names.length + ' exports, ' + used + ' plugins used')
`

for (const { dir, pkg } of all) {
  if (only.length > 0 && !only.includes(pkg.name)) continue
  const name = pkg.name
  const folder = join(work, name.replace('/', '__'))
  mkdirSync(folder)
  const needed = [...closure(name)]
  const unpacked = needed.filter((n) => !tarballOf.has(n))
  if (unpacked.length > 0) {
    record(`${name}: install`, false, `not packed: ${unpacked.join(', ')}`)
    continue
  }
  const deps = {}
  for (const n of needed) deps[n] = `file:${tarballOf.get(n)}`
  writeFileSync(
    join(folder, 'package.json'),
    JSON.stringify(
      { name: 'smoke', private: true, type: 'module', dependencies: deps, overrides: deps },
      null,
      2,
    ),
  )
  const t0 = Date.now()
  const install = spawnSync(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--omit=optional',
      '--ignore-scripts',
      '--loglevel=error',
    ],
    { cwd: folder, encoding: 'utf8' },
  )
  if (install.status !== 0) {
    record(`${name}: npm install of the packed tarballs`, false, install.stderr.slice(-2000))
    continue
  }
  // native modules that need their build step
  if (existsSync(join(folder, 'node_modules', 'better-sqlite3'))) {
    const rebuild = spawnSync('npm', ['rebuild', 'better-sqlite3', '--loglevel=error'], {
      cwd: folder,
      encoding: 'utf8',
    })
    if (rebuild.status !== 0) {
      record(`${name}: build better-sqlite3`, false, rebuild.stderr.slice(-2000))
      continue
    }
  }
  const installed = Object.keys(
    JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')).dependencies,
  )
  record(
    `${name}: installs outside the workspace with only ${installed.join(', ')}`,
    true,
    `${((Date.now() - t0) / 1000).toFixed(1)} s`,
  )
  writeFileSync(join(folder, 'generic.mjs'), generic)
  const use = spawnSync(process.execPath, ['generic.mjs', name], { cwd: folder, encoding: 'utf8' })
  record(
    `${name}: imports and runs`,
    use.status === 0,
    use.status === 0 ? use.stdout.trim() : (use.stderr || use.stdout).slice(-2000),
  )
  const custom = join(dir, 'test', 'pack-smoke.mjs')
  if (existsSync(custom)) {
    // the optional peers (built-in datasets) are installed only for the package's own check:
    // the import above ran without them
    const optionalPeers = Object.entries(pkg.peerDependenciesMeta ?? {})
      .filter(([, meta]) => meta?.optional)
      .map(([peer]) => `${peer}@${pkg.peerDependencies?.[peer] ?? 'latest'}`)
    if (optionalPeers.length > 0) {
      const peers = spawnSync(
        'npm',
        [
          'install',
          '--no-audit',
          '--no-fund',
          '--omit=optional',
          '--ignore-scripts',
          '--loglevel=error',
          ...optionalPeers,
        ],
        { cwd: folder, encoding: 'utf8' },
      )
      record(
        `${name}: install its optional peers ${optionalPeers.join(', ')}`,
        peers.status === 0,
        peers.status === 0 ? '' : peers.stderr.slice(-2000),
      )
    }
    copyFileSync(custom, join(folder, 'custom.mjs'))
    const r = spawnSync(process.execPath, ['custom.mjs'], {
      cwd: folder,
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...process.env, NASKIT_LEFT_OUT: join(root, '.test-results', 'left-out.jsonl') },
    })
    record(
      `${name}: its own pack smoke check`,
      r.status === 0,
      r.status === 0 ? r.stdout.trim().split('\n').pop() : (r.stderr || r.stdout).slice(-2000),
    )
  }
  if (pkg.bin) {
    for (const bin of Object.keys(pkg.bin)) {
      const r = spawnSync(join(folder, 'node_modules', '.bin', bin), ['--help'], {
        cwd: folder,
        encoding: 'utf8',
      })
      record(
        `${name}: bin ${bin} --help`,
        r.status === 0,
        r.status === 0 ? '' : (r.stderr || r.stdout).slice(-1000),
      )
    }
  }
}

const passed = results.filter((r) => r.ok).length
const failed = results.length - passed
mkdirSync(join(root, '.test-results'), { recursive: true })
writeFileSync(
  join(root, '.test-results', 'pack-smoke.json'),
  JSON.stringify({ passed, failed, results }, null, 2),
)
if (!process.env.NASKIT_KEEP_SMOKE) rmSync(work, { recursive: true, force: true })
console.log(`pack smoke: ${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
