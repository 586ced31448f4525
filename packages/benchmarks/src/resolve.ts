import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { StrategyPlugin } from '@naskit/core'
import { loadStrategy } from '@naskit/core/node'

export { STRATEGY_PACKAGES } from '@naskit/core/node'

/** This package's directory: packages installed beside it are found too. */
const HERE = dirname(fileURLToPath(import.meta.url))

/**
 * Finds a strategy plugin by name, exactly as `naskit search --strategy` does (the resolver of
 * `@naskit/core/node`): `random`, the short names of the naskit strategy packages (`evolution`,
 * `local-search`, `rl`, …), a package name (`naskit-strategy-foo`, or `foo` for it), `package#name`
 * for one of a package's `strategies`, or a module path (`./my-strategy.ts`), looked up from `cwd`,
 * then from `lookupDirs` and beside this package.
 */
export async function resolveStrategy(
  name: string,
  cwd: string = process.cwd(),
  lookupDirs: readonly string[] = [],
): Promise<StrategyPlugin> {
  return (await loadStrategy(name, cwd, { extraDirs: [...lookupDirs, HERE] })).plugin
}
