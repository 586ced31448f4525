#!/usr/bin/env node
// The whole test suite: build, typecheck, lint and every package's tests (through turbo),
// then the pack smoke test. Ends with one line of totals, `N passed, N failed`.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const workspaces = ['packages', 'examples']
  .filter((d) => existsSync(join(root, d)))
  .flatMap((d) => readdirSync(join(root, d)).map((name) => join(root, d, name)))
  .filter((dir) => existsSync(join(dir, 'package.json')))

for (const dir of workspaces) rmSync(join(dir, '.test-results'), { recursive: true, force: true })
rmSync(join(root, '.test-results'), { recursive: true, force: true })

const turbo = join(root, 'node_modules', '.bin', 'turbo')
const run = (cmd, args) =>
  spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: process.env }).status ?? 1

let passed = 0
let failed = 0
const rows = []

const checks = run(turbo, ['run', 'build', 'typecheck', 'lint', '--output-logs=errors-only'])
rows.push(['build, typecheck, lint', checks === 0 ? 'ok' : 'FAILED'])
if (checks !== 0) failed++

const tests = checks === 0 ? run(turbo, ['run', 'test', '--continue', '--output-logs=new-only']) : 1

for (const dir of workspaces) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  if (!pkg.scripts?.test) continue
  const report = join(dir, '.test-results', 'vitest.json')
  if (!existsSync(report)) {
    if (checks === 0) {
      failed++
      rows.push([pkg.name, 'no test report (the test run crashed)'])
    }
    continue
  }
  const r = JSON.parse(readFileSync(report, 'utf8'))
  passed += r.numPassedTests
  failed += r.numFailedTests + (r.numFailedTestSuites ?? 0)
  rows.push([
    pkg.name,
    `${r.numPassedTests} passed, ${r.numFailedTests} failed${r.numFailedTestSuites ? `, ${r.numFailedTestSuites} suites failed to load` : ''}`,
  ])
}

let smoke = 1
if (checks === 0) {
  smoke = run(process.execPath, [join(root, 'scripts', 'pack-smoke.mjs')])
  const report = join(root, '.test-results', 'pack-smoke.json')
  if (existsSync(report)) {
    const r = JSON.parse(readFileSync(report, 'utf8'))
    passed += r.passed
    failed += r.failed
    rows.push(['pack smoke test', `${r.passed} passed, ${r.failed} failed`])
  } else {
    failed++
    rows.push(['pack smoke test', 'no report (crashed)'])
  }
}

console.log('\nTest summary')
for (const [what, result] of rows) console.log(`  ${what}: ${result}`)

// Tests that need a program this machine lacks (Chromium, redis-server) write what they left
// out to .test-results/left-out.jsonl; say it once, with the command that enables them.
const leftOut = new Map()
for (const dir of [root, ...workspaces]) {
  const file = join(dir, '.test-results', 'left-out.jsonl')
  if (!existsSync(file)) continue
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue
    const e = JSON.parse(line)
    const seen = leftOut.get(e.tool) ?? { enable: e.enable, tests: new Set() }
    seen.tests.add(`${e.tests} (${e.package})`)
    leftOut.set(e.tool, seen)
  }
}
if (leftOut.size > 0) {
  console.log('\nLeft out on this machine (CI=true makes the Chromium and Redis tests mandatory):')
  for (const [tool, e] of leftOut) {
    console.log(`  without ${tool}: ${[...e.tests].join('; ')}`)
    console.log(`    enable with: ${e.enable}`)
  }
}
const ok = checks === 0 && tests === 0 && smoke === 0 && failed === 0
console.log(`${passed} passed, ${failed} failed`)
process.exit(ok ? 0 : 1)
