import { appendFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { packageDir } from './helpers'

/**
 * Tests that need a program this machine may lack (Chromium, redis-server). Without it they are
 * left out, and the root test script prints once which ones and the command that enables them;
 * with `CI=true` the program is mandatory and its absence fails the run.
 */
export function needs(tool: { name: string; available: boolean; tests: string; enable: string }) {
  if (tool.available) return true
  if (process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0') {
    throw new Error(
      `${tool.name} is required when CI is set (${tool.tests}); install it with: ${tool.enable}`,
    )
  }
  const dir = join(packageDir, '.test-results')
  mkdirSync(dir, { recursive: true })
  appendFileSync(
    join(dir, 'left-out.jsonl'),
    `${JSON.stringify({ package: '@naskit/runner', tool: tool.name, tests: tool.tests, enable: tool.enable })}\n`,
  )
  return false
}
