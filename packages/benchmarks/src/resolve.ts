import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import {
  assertStrategyPlugin,
  NaskitError,
  randomStrategy,
  type StrategyPlugin,
} from '@naskit/core'

/** Short strategy names and the packages that provide them. */
export const STRATEGY_PACKAGES: Readonly<Record<string, string>> = {
  evolution: '@naskit/strategy-evolution',
  'local-search': '@naskit/strategy-evolution',
  rl: '@naskit/strategy-rl',
  darts: '@naskit/strategy-darts',
  supernet: '@naskit/strategy-supernet',
}

function isNotFound(e: unknown, spec: string): boolean {
  const err = e as { code?: unknown; message?: unknown }
  const code = typeof err?.code === 'string' ? err.code : ''
  const message = typeof err?.message === 'string' ? err.message : ''
  return (
    code === 'ERR_MODULE_NOT_FOUND' ||
    code === 'MODULE_NOT_FOUND' ||
    ((message.includes('Cannot find') ||
      message.includes('Failed to load') ||
      message.includes('Failed to resolve')) &&
      message.includes(spec))
  )
}

/** Imports a package by name, from this package's location first, then from `cwd`. */
async function importPackage(spec: string, cwd: string): Promise<Record<string, unknown> | null> {
  try {
    return (await import(/* @vite-ignore */ spec)) as Record<string, unknown>
  } catch (e) {
    if (!isNotFound(e, spec)) throw e
  }
  let resolved: string
  try {
    resolved = createRequire(join(cwd, 'package.json')).resolve(spec)
  } catch {
    return null
  }
  return (await import(/* @vite-ignore */ pathToFileURL(resolved).href)) as Record<string, unknown>
}

function pickStrategy(
  mod: Record<string, unknown>,
  name: string | undefined,
  from: string,
): StrategyPlugin {
  const list = Array.isArray(mod.strategies) ? (mod.strategies as unknown[]) : []
  if (name !== undefined) {
    const hit = list.find((p) => (p as { name?: unknown })?.name === name)
    if (hit) return assertStrategyPlugin(hit, `${from} (strategy "${name}")`)
    const def = mod.default as { name?: unknown } | undefined
    if (def && def.name === name) return assertStrategyPlugin(def, from)
    const known = list
      .map((p) => (p as { name?: unknown })?.name)
      .filter((n) => typeof n === 'string')
    throw new NaskitError(
      'E_UNKNOWN_STRATEGY',
      `${from} has no strategy named "${name}"${known.length ? ` (it provides: ${known.join(', ')})` : ''}.`,
    )
  }
  if (mod.default !== undefined)
    return assertStrategyPlugin(mod.default, `${from} (default export)`)
  if (list.length > 0) return assertStrategyPlugin(list[0], `${from} (first of "strategies")`)
  throw new NaskitError(
    'E_BAD_PLUGIN',
    `${from} exports neither a default strategy plugin nor a "strategies" array.`,
  )
}

/**
 * Finds a strategy plugin by name: `random` (from @naskit/core), the short names of the naskit
 * strategy packages (`evolution`, `local-search`, `rl`, `darts`, `supernet`), a package name
 * (its default export), or `package#name` (a named strategy of a package's `strategies`).
 * Packages are loaded with a dynamic import, so only installed ones are needed.
 */
export async function resolveStrategy(
  name: string,
  cwd: string = process.cwd(),
): Promise<StrategyPlugin> {
  const spec = name.trim()
  if (spec === '')
    throw new NaskitError(
      'E_UNKNOWN_STRATEGY',
      'Empty strategy name; use e.g. random, evolution, local-search, rl or a package name.',
    )
  if (spec === 'random') return randomStrategy
  const short = STRATEGY_PACKAGES[spec]
  if (short !== undefined) {
    const mod = await importPackage(short, cwd)
    if (!mod) {
      throw new NaskitError(
        'E_UNKNOWN_STRATEGY',
        `Strategy "${spec}" comes from ${short}, which is not installed. Install it (npm install ${short}) and try again.`,
      )
    }
    return pickStrategy(mod, spec, short)
  }
  const hash = spec.indexOf('#', 1)
  const pkg = hash > 0 ? spec.slice(0, hash) : spec
  const inner = hash > 0 ? spec.slice(hash + 1) : undefined
  const mod = await importPackage(pkg, cwd)
  if (!mod) {
    throw new NaskitError(
      'E_UNKNOWN_STRATEGY',
      `Unknown strategy "${spec}": it is not one of random, ${Object.keys(STRATEGY_PACKAGES).join(', ')}, and no package "${pkg}" is installed. Install the package or check the name.`,
    )
  }
  return pickStrategy(mod, inner, pkg)
}
