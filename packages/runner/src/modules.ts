import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Where the runner itself lives; plugins are also looked up from here. */
export const RUNNER_DIR = dirname(fileURLToPath(import.meta.url))

/** The version of this package, from its package.json. */
export function runnerVersion(): string | undefined {
  try {
    const json = JSON.parse(readFileSync(join(RUNNER_DIR, '..', 'package.json'), 'utf8'))
    return typeof json?.version === 'string' ? json.version : undefined
  } catch {
    return undefined
  }
}
