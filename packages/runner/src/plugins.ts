import { existsSync } from 'node:fs'
import { dirname, join, resolve as resolvePath } from 'node:path'
import {
  assertStrategyPlugin,
  type EvaluatorPlugin,
  NaskitError,
  randomStrategy,
  type StrategyPlugin,
} from '@naskit/core'
import {
  type FoundPackage,
  findPackage,
  importFile,
  isPathSpecifier,
  listInstalledPackages,
  RUNNER_DIR,
  resolveFile,
} from './modules'

/** Short strategy names and the packages that provide them. */
export const STRATEGY_PACKAGES: Readonly<Record<string, string>> = {
  evolution: '@naskit/strategy-evolution',
  'local-search': '@naskit/strategy-evolution',
  rl: '@naskit/strategy-rl',
  darts: '@naskit/strategy-darts',
  supernet: '@naskit/strategy-supernet',
}

/** Built-in evaluator names and the packages that provide them. */
export const EVALUATOR_PACKAGES: Readonly<Record<string, string>> = {
  nb201: '@naskit/benchmarks',
  mnist: '@naskit/trainer-tfjs',
  'fashion-mnist': '@naskit/trainer-tfjs',
  tfjs: '@naskit/trainer-tfjs',
}

/** Where a plugin came from, so that worker threads and resumed runs can load it again. */
export interface ModuleRef {
  /** Absolute path of the module file. */
  file: string
  /** `default`, or the name of the plugin inside the module's `strategies` / `evaluators`. */
  pick: string | null
  /** The package the module belongs to, when loaded by package name. */
  packageName?: string
  version?: string
}

export interface LoadedStrategy {
  plugin: StrategyPlugin
  /** What the user wrote (`evolution`, `naskit-strategy-foo`, `./my.ts`), or null for an object. */
  spec: string | null
  ref: ModuleRef | null
}

export interface LoadedEvaluator {
  plugin: EvaluatorPlugin
  spec: string | null
  ref: ModuleRef | null
}

/** Directories plugins are looked up from: the project first, then the runner's own install. */
export function lookupDirs(baseDir: string): string[] {
  const dirs = [resolvePath(baseDir), process.cwd(), RUNNER_DIR]
  return [...new Set(dirs)]
}

/** `npm install x`, or the pnpm/yarn equivalent when the project uses one. */
export function installCommand(pkg: string, baseDir: string): string {
  let dir = resolvePath(baseDir)
  for (;;) {
    if (existsSync(join(dir, 'pnpm-lock.yaml')) || existsSync(join(dir, 'pnpm-workspace.yaml')))
      return `pnpm add ${pkg}`
    if (existsSync(join(dir, 'yarn.lock'))) return `yarn add ${pkg}`
    if (existsSync(join(dir, 'package-lock.json'))) return `npm install ${pkg}`
    const parent = dirname(dir)
    if (parent === dir) return `npm install ${pkg}`
    dir = parent
  }
}

function splitPick(spec: string): { base: string; pick: string | null } {
  const i = spec.lastIndexOf('#')
  if (i <= 0) return { base: spec, pick: null }
  return { base: spec.slice(0, i), pick: spec.slice(i + 1) }
}

interface ModuleTarget {
  file: string
  pkg: FoundPackage | null
}

function locate(base: string, baseDir: string): ModuleTarget | null {
  if (isPathSpecifier(base)) {
    const file = resolveFile(base, baseDir)
    return file ? { file, pkg: null } : null
  }
  const pkg = findPackage(base, lookupDirs(baseDir))
  if (!pkg || !existsSync(pkg.entry)) return null
  return { file: pkg.entry, pkg }
}

function isStrategyLike(v: unknown): v is StrategyPlugin {
  return (
    v !== null &&
    typeof v === 'object' &&
    typeof (v as { create?: unknown }).create === 'function' &&
    'kind' in v
  )
}

function pickStrategy(
  mod: Record<string, unknown>,
  pick: string | null,
  from: string,
): { plugin: StrategyPlugin; pick: string | null } {
  const list = Array.isArray(mod.strategies)
    ? (mod.strategies as unknown[]).filter(isStrategyLike)
    : []
  if (pick !== null) {
    const found =
      list.find((p) => p.name === pick) ??
      (isStrategyLike(mod.default) && mod.default.name === pick ? mod.default : undefined)
    if (!found) {
      const names = [
        ...new Set([
          ...list.map((p) => p.name),
          ...(isStrategyLike(mod.default) ? [mod.default.name] : []),
        ]),
      ]
      throw new NaskitError(
        'E_UNKNOWN_STRATEGY',
        `${from} has no strategy named "${pick}". It provides: ${names.join(', ') || 'none'}.`,
      )
    }
    return { plugin: assertStrategyPlugin(found, from), pick }
  }
  if (mod.default !== undefined)
    return { plugin: assertStrategyPlugin(mod.default, `${from} (default export)`), pick: null }
  if (list.length === 1)
    return { plugin: assertStrategyPlugin(list[0], from), pick: (list[0] as StrategyPlugin).name }
  throw new NaskitError(
    'E_BAD_PLUGIN',
    `${from} has no default export; name the strategy with "${from}#name" (it exports: ${list.map((p) => p.name).join(', ') || 'none'}).`,
  )
}

function installedStrategyNames(baseDir: string): string {
  const names = listStrategyPackages(baseDir).flatMap((p) =>
    p.strategies.length > 0 ? p.strategies : [p.packageName],
  )
  return ['random', ...names].join(', ')
}

/**
 * Loads a strategy plugin by short name (`evolution`), package name (`naskit-strategy-foo`,
 * `@scope/naskit-strategy-foo`, or `foo` for `naskit-strategy-foo`), or path (`./my.ts`);
 * `name#plugin` picks one of a package's `strategies`. `E_UNKNOWN_STRATEGY` lists what is
 * installed and the exact install command.
 */
export async function loadStrategy(
  spec: string | StrategyPlugin,
  baseDir: string,
): Promise<LoadedStrategy> {
  if (typeof spec !== 'string')
    return { plugin: assertStrategyPlugin(spec, 'the configured strategy'), spec: null, ref: null }
  const { base, pick } = splitPick(spec)
  if (base === 'random' && pick === null) return { plugin: randomStrategy, spec, ref: null }
  const shortPackage = STRATEGY_PACKAGES[base]
  const candidates: Array<{ pkg: string; pick: string | null }> = []
  if (shortPackage) candidates.push({ pkg: shortPackage, pick: pick ?? base })
  else if (isPathSpecifier(base)) candidates.push({ pkg: base, pick })
  else {
    candidates.push({ pkg: base, pick })
    if (!base.startsWith('@') && !base.startsWith('naskit-strategy-'))
      candidates.push({ pkg: `naskit-strategy-${base}`, pick })
  }
  for (const c of candidates) {
    const target = locate(c.pkg, baseDir)
    if (!target) continue
    const mod = await importFile(target.file)
    const chosen = pickStrategy(mod, shortPackage ? preferredPick(mod, c.pick) : c.pick, c.pkg)
    return {
      plugin: chosen.plugin,
      spec,
      ref: {
        file: target.file,
        pick: chosen.pick,
        ...(target.pkg ? { packageName: target.pkg.name } : {}),
        ...(target.pkg?.version ? { version: target.pkg.version } : {}),
      },
    }
  }
  if (isPathSpecifier(base)) {
    throw new NaskitError(
      'E_UNKNOWN_STRATEGY',
      `Strategy module "${base}" not found (resolved from ${resolvePath(baseDir)}). Check the path.`,
    )
  }
  const pkg =
    shortPackage ??
    (base.startsWith('@') || base.startsWith('naskit-strategy-') ? base : `naskit-strategy-${base}`)
  throw new NaskitError(
    'E_UNKNOWN_STRATEGY',
    `Unknown strategy "${spec}": package ${pkg} is not installed. Install it with:\n  ${installCommand(pkg, baseDir)}\nInstalled strategies: ${installedStrategyNames(baseDir)}.`,
  )
}

/** For a short name, the package's default export when it is that strategy, else from `strategies`. */
function preferredPick(mod: Record<string, unknown>, pick: string | null): string | null {
  if (pick === null) return null
  const d = mod.default
  if (isStrategyLike(d) && d.name === pick) return null
  return pick
}

function isEvaluatorLike(v: unknown): v is EvaluatorPlugin {
  return (
    v !== null && typeof v === 'object' && typeof (v as { create?: unknown }).create === 'function'
  )
}

/** Checks that a value is an evaluator plugin; `E_BAD_PLUGIN` says what is missing. */
export function assertEvaluatorPlugin(value: unknown, from: string): EvaluatorPlugin {
  const p = value as Partial<EvaluatorPlugin> | null
  if (p === null || typeof p !== 'object') {
    throw new NaskitError(
      'E_BAD_PLUGIN',
      `${from} does not export an evaluator plugin object (got ${typeof value}).`,
    )
  }
  const missing: string[] = []
  if (typeof p.name !== 'string' || p.name === '') missing.push('name (string)')
  if (p.cost !== 'cheap' && p.cost !== 'expensive') missing.push("cost ('cheap' or 'expensive')")
  if (p.options === null || typeof p.options !== 'object') missing.push('options (schema object)')
  if (typeof p.create !== 'function') missing.push('create(args) function')
  if (missing.length > 0) {
    throw new NaskitError(
      'E_BAD_PLUGIN',
      `${from} is not a valid evaluator plugin; missing or wrong: ${missing.join(', ')}.`,
    )
  }
  return p as EvaluatorPlugin
}

/** Picks the evaluator from a loaded module: `evaluators[pick]`, the default export, or the only one. */
export function pickEvaluator(
  mod: Record<string, unknown>,
  pick: string | null,
  from: string,
): { plugin: EvaluatorPlugin; pick: string | null } {
  const table =
    mod.evaluators && typeof mod.evaluators === 'object'
      ? (mod.evaluators as Record<string, unknown>)
      : {}
  if (pick !== null && pick !== 'default') {
    const found = table[pick]
    if (!found) {
      throw new NaskitError(
        'E_UNKNOWN_EVALUATOR',
        `${from} has no evaluator named "${pick}". It provides: ${Object.keys(table).join(', ') || 'none'}.`,
      )
    }
    return { plugin: assertEvaluatorPlugin(found, `${from}#${pick}`), pick }
  }
  if (isEvaluatorLike(mod.default))
    return { plugin: assertEvaluatorPlugin(mod.default, `${from} (default export)`), pick: null }
  const names = Object.keys(table)
  if (names.length === 1)
    return {
      plugin: assertEvaluatorPlugin(table[names[0] as string], from),
      pick: names[0] as string,
    }
  throw new NaskitError(
    'E_BAD_PLUGIN',
    `${from} exports no default evaluator plugin; name one with "${from}#name" (its evaluators: ${names.join(', ') || 'none'}).`,
  )
}

/**
 * Loads an evaluator plugin by built-in name (`nb201`, `mnist`, `fashion-mnist`, `tfjs`), by
 * package name or by module path (`./eval.ts`, `./evals.ts#fast`). A module default-exports an
 * `EvaluatorPlugin` or exports `evaluators`, an object of them.
 */
export async function loadEvaluator(
  spec: string | EvaluatorPlugin,
  baseDir: string,
): Promise<LoadedEvaluator> {
  if (typeof spec !== 'string')
    return {
      plugin: assertEvaluatorPlugin(spec, 'the configured evaluator'),
      spec: null,
      ref: null,
    }
  const { base, pick } = splitPick(spec)
  const builtIn = EVALUATOR_PACKAGES[base]
  const pkgSpec = builtIn ?? base
  const target = locate(pkgSpec, baseDir)
  if (!target) {
    if (isPathSpecifier(base)) {
      throw new NaskitError(
        'E_UNKNOWN_EVALUATOR',
        `Evaluator module "${base}" not found (resolved from ${resolvePath(baseDir)}). Check the path.`,
      )
    }
    const names = Object.keys(EVALUATOR_PACKAGES).join(', ')
    throw new NaskitError(
      'E_UNKNOWN_EVALUATOR',
      `Unknown evaluator "${spec}": package ${pkgSpec} is not installed. Install it with:\n  ${installCommand(pkgSpec, baseDir)}\nBuilt-in evaluator names: ${names}; or give a module path (./my-evaluator.ts).`,
    )
  }
  const mod = await importFile(target.file)
  const chosen = pickEvaluator(mod, builtIn ? (pick ?? base) : pick, pkgSpec)
  return {
    plugin: chosen.plugin,
    spec,
    ref: {
      file: target.file,
      pick: chosen.pick,
      ...(target.pkg ? { packageName: target.pkg.name } : {}),
      ...(target.pkg?.version ? { version: target.pkg.version } : {}),
    },
  }
}

/** A package that provides strategies. */
export interface StrategyPackageInfo {
  packageName: string
  version: string | undefined
  dir: string
  /** The module `import(packageName)` loads. */
  entry: string
  /** Short names this package answers to (`evolution`, `local-search`…). */
  strategies: string[]
}

function isStrategyPackageName(name: string): boolean {
  return /^(@[^/]+\/)?naskit-strategy-/.test(name) || /^@naskit\/strategy-/.test(name)
}

/** Installed strategy packages visible from `baseDir` (not loaded). */
export function listStrategyPackages(baseDir: string): StrategyPackageInfo[] {
  return listInstalledPackages(lookupDirs(baseDir), isStrategyPackageName).map((p) => ({
    packageName: p.name,
    version: p.version,
    dir: p.dir,
    entry: p.entry,
    strategies: Object.entries(STRATEGY_PACKAGES)
      .filter(([, pkg]) => pkg === p.name)
      .map(([n]) => n),
  }))
}

/** One installed strategy, as `naskit strategies` shows it. */
export interface StrategyListing {
  name: string
  kind: StrategyPlugin['kind'] | 'unavailable'
  packageName: string
  version: string | undefined
  description: string
  options: StrategyPlugin['options']
  /** Why the package could not be loaded. */
  error?: string
}

/** Loads every installed strategy package and lists its plugins with their options. */
export async function listStrategies(baseDir: string): Promise<StrategyListing[]> {
  const corePkg = findPackage('@naskit/core', lookupDirs(baseDir))
  const out: StrategyListing[] = [
    {
      name: randomStrategy.name,
      kind: randomStrategy.kind,
      packageName: '@naskit/core',
      version: corePkg?.version,
      description: randomStrategy.description,
      options: randomStrategy.options,
    },
  ]
  for (const p of listStrategyPackages(baseDir)) {
    try {
      if (!existsSync(p.entry))
        throw new Error(`entry ${p.entry} is missing (is the package built?)`)
      const mod = await importFile(p.entry)
      const plugins = new Map<string, StrategyPlugin>()
      if (isStrategyLike(mod.default)) plugins.set(mod.default.name, mod.default)
      if (Array.isArray(mod.strategies))
        for (const s of mod.strategies) if (isStrategyLike(s)) plugins.set(s.name, s)
      if (plugins.size === 0) throw new Error('it exports no strategy plugin')
      for (const plugin of plugins.values()) {
        out.push({
          name: plugin.name,
          kind: plugin.kind,
          packageName: p.packageName,
          version: plugin.version ?? p.version,
          description: plugin.description,
          options: plugin.options,
        })
      }
    } catch (error) {
      out.push({
        name: p.packageName,
        kind: 'unavailable',
        packageName: p.packageName,
        version: p.version,
        description: '',
        options: {},
        error: (error as Error).message,
      })
    }
  }
  return out
}
