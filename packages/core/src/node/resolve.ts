import { existsSync } from 'node:fs'
import { dirname, join, resolve as resolvePath } from 'node:path'
import { assertStrategyPlugin, type StrategyPlugin } from '../contracts'
import { NaskitError } from '../errors'
import { randomStrategy } from '../strategies/random'
import {
  CORE_DIR,
  type FoundPackage,
  findPackage,
  importFile,
  isPathSpecifier,
  listInstalledPackages,
  resolveFile,
} from './modules'

/** Short strategy names and the packages that provide them. */
export const STRATEGY_PACKAGES: Readonly<Record<string, string>> = {
  evolution: '@naskit/strategy-evolution',
  'local-search': '@naskit/strategy-evolution',
  rl: '@naskit/strategy-rl',
  darts: '@naskit/strategy-darts',
  supernet: '@naskit/strategy-supernet',
  bananas: '@naskit/strategy-model-based',
  bo: '@naskit/strategy-model-based',
  'successive-halving': '@naskit/strategy-multi-fidelity',
  hyperband: '@naskit/strategy-multi-fidelity',
  asha: '@naskit/strategy-multi-fidelity',
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

/** A strategy plugin found by {@link loadStrategy}. */
export interface LoadedStrategy {
  plugin: StrategyPlugin
  /** What the user wrote (`evolution`, `naskit-strategy-foo`, `./my.ts`), or null for an object. */
  spec: string | null
  ref: ModuleRef | null
}

/** Where plugins are looked up, besides the `baseDir` of each call. */
export interface LookupOptions {
  /**
   * More directories to look up packages from, after `baseDir` and the working directory (a
   * host adds its own install directory, so that packages installed beside it are found).
   */
  extraDirs?: readonly string[]
}

/**
 * Directories plugins are looked up from: `baseDir` (the project) first, then the working
 * directory, the host's extra directories, and this package's own install.
 */
export function lookupDirs(baseDir: string, options: LookupOptions = {}): string[] {
  const dirs = [resolvePath(baseDir), process.cwd(), ...(options.extraDirs ?? []), CORE_DIR]
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

/** Optimal-string-alignment edit distance (insertions, deletions, substitutions, swaps). */
export function editDistance(a: string, b: string): number {
  const m = a.length
  const n = b.length
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) =>
    Array.from({ length: n + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  )
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(
        (d[i - 1]?.[j] ?? 0) + 1,
        (d[i]?.[j - 1] ?? 0) + 1,
        (d[i - 1]?.[j - 1] ?? 0) + cost,
      )
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, (d[i - 2]?.[j - 2] ?? 0) + 1)
      ;(d[i] as number[])[j] = v
    }
  }
  return d[m]?.[n] ?? 0
}

/**
 * The candidates nearest to a mistyped name (case-insensitive; at most about a third of the
 * name's letters off), nearest first.
 */
export function nearestNames(name: string, candidates: Iterable<string>, max = 3): string[] {
  const typed = name.toLowerCase()
  const limit = Math.max(1, Math.min(3, Math.floor(typed.length / 3)))
  const scored: Array<[string, number]> = []
  for (const c of new Set(candidates)) {
    const lower = c.toLowerCase()
    const dist = lower.startsWith(typed) || typed.startsWith(lower) ? 1 : editDistance(typed, lower)
    if (dist <= limit && lower !== typed) scored.push([c, dist])
  }
  scored.sort((x, y) => x[1] - y[1] || x[0].localeCompare(y[0]))
  return scored.slice(0, max).map(([c]) => c)
}

/** ` Did you mean "x"?` (or "x" or "y"), or the empty string when nothing is near. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const near = nearestNames(name, candidates)
  if (near.length === 0) return ''
  return ` Did you mean ${near.map((n) => `"${n}"`).join(' or ')}?`
}

/** Splits `name#plugin` into the module and the plugin inside it (`pick`, or null). */
export function splitPick(spec: string): { base: string; pick: string | null } {
  const i = spec.lastIndexOf('#')
  if (i <= 0) return { base: spec, pick: null }
  return { base: spec.slice(0, i), pick: spec.slice(i + 1) }
}

/** A module found by {@link locateModule}: its file, and its package when found by name. */
export interface ModuleTarget {
  file: string
  pkg: FoundPackage | null
}

/** The {@link ModuleRef} of a plugin found in `target`. */
export function moduleRef(target: ModuleTarget, pick: string | null): ModuleRef {
  return {
    file: target.file,
    pick,
    ...(target.pkg ? { packageName: target.pkg.name } : {}),
    ...(target.pkg?.version ? { version: target.pkg.version } : {}),
  }
}

/** Finds a module by path or package name; null when it is not there. */
export function locateModule(
  base: string,
  baseDir: string,
  options: LookupOptions = {},
): ModuleTarget | null {
  if (isPathSpecifier(base)) {
    const file = resolveFile(base, baseDir)
    return file ? { file, pkg: null } : null
  }
  const pkg = findPackage(base, lookupDirs(baseDir, options))
  if (!pkg) return null
  if (!existsSync(pkg.entry)) {
    throw new NaskitError(
      'E_BAD_PLUGIN',
      `${pkg.name} is installed in ${pkg.dir}, but its entry ${pkg.entry} is missing. Build it (in a workspace: pnpm build) or reinstall it.`,
    )
  }
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
        `${from} has no strategy named "${pick}". It provides: ${names.join(', ') || 'none'}.${didYouMean(pick, names)}`,
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

/** For a short name, the package's default export when it is that strategy, else from `strategies`. */
function preferredPick(mod: Record<string, unknown>, pick: string | null): string | null {
  if (pick === null) return null
  const d = mod.default
  if (isStrategyLike(d) && d.name === pick) return null
  return pick
}

/** The name a user types for a package's strategy: `evolution`, `hillclimb`, `@me/naskit-strategy-x`. */
function typedName(packageName: string): string {
  return packageName.startsWith('naskit-strategy-')
    ? packageName.slice('naskit-strategy-'.length)
    : packageName
}

/** The names a user can type for the strategies installed (without loading them). */
export function installedStrategyNames(baseDir: string, options: LookupOptions = {}): string[] {
  const names = listStrategyPackages(baseDir, options).flatMap((p) =>
    p.strategies.length > 0 ? p.strategies : [typedName(p.packageName)],
  )
  return ['random', ...new Set(names)]
}

/**
 * Loads a strategy plugin by short name (`evolution`), package name (`naskit-strategy-foo`,
 * `@scope/naskit-strategy-foo`, or `foo` for `naskit-strategy-foo`), or path (`./my.ts`, a
 * TypeScript file too); `name#plugin` picks one of a package's `strategies`. The one resolver
 * of naskit: the runner, the benchmark suite and the supernet's search all use it.
 * `E_UNKNOWN_STRATEGY` names the nearest installed strategy, what is installed and the exact
 * install command.
 */
export async function loadStrategy(
  spec: string | StrategyPlugin,
  baseDir: string = process.cwd(),
  options: LookupOptions = {},
): Promise<LoadedStrategy> {
  if (typeof spec !== 'string')
    return { plugin: assertStrategyPlugin(spec, 'the configured strategy'), spec: null, ref: null }
  const trimmed = spec.trim()
  if (trimmed === '') {
    throw new NaskitError(
      'E_UNKNOWN_STRATEGY',
      `Empty strategy name. Installed strategies: ${installedStrategyNames(baseDir, options).join(', ')}.`,
    )
  }
  const { base, pick } = splitPick(trimmed)
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
    const target = locateModule(c.pkg, baseDir, options)
    if (!target) continue
    const mod = await importFile(target.file)
    const chosen = pickStrategy(mod, shortPackage ? preferredPick(mod, c.pick) : c.pick, c.pkg)
    return { plugin: chosen.plugin, spec, ref: moduleRef(target, chosen.pick) }
  }
  if (isPathSpecifier(base)) {
    throw new NaskitError(
      'E_UNKNOWN_STRATEGY',
      `Strategy module "${base}" not found (resolved from ${resolvePath(baseDir)}). Check the path.`,
    )
  }
  const installed = installedStrategyNames(baseDir, options)
  const known = [...new Set([...installed, ...Object.keys(STRATEGY_PACKAGES)])]
  const hint = didYouMean(base, known)
  const pkg =
    shortPackage ??
    (base.startsWith('@') || base.startsWith('naskit-strategy-') ? base : `naskit-strategy-${base}`)
  const install = hint
    ? `If you meant a package named ${pkg}, install it with:\n  ${installCommand(pkg, baseDir)}`
    : `If it is a package, install it with:\n  ${installCommand(pkg, baseDir)}`
  throw new NaskitError(
    'E_UNKNOWN_STRATEGY',
    shortPackage
      ? `Strategy "${spec}" comes from ${pkg}, which is not installed. Install it with:\n  ${installCommand(pkg, baseDir)}\nInstalled strategies: ${installed.join(', ')}.`
      : `Unknown strategy "${spec}".${hint}\nInstalled strategies: ${installed.join(', ')}.\n${install}`,
  )
}

/**
 * {@link loadStrategy} for hosts that run candidates themselves (a supernet's search, the
 * benchmark suite): the plugin must be a sampling (ask/tell) strategy.
 */
export async function loadSamplingStrategy(
  spec: string | StrategyPlugin,
  baseDir: string = process.cwd(),
  options: LookupOptions = {},
): Promise<LoadedStrategy> {
  const loaded = await loadStrategy(spec, baseDir, options)
  if (loaded.plugin.kind !== 'sampling') {
    throw new NaskitError(
      'E_BAD_PLUGIN',
      `Strategy "${loaded.plugin.name}" is ${loaded.plugin.kind}; a sampling (ask/tell) strategy is needed here, such as random or evolution.`,
    )
  }
  return loaded
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
export function listStrategyPackages(
  baseDir: string,
  options: LookupOptions = {},
): StrategyPackageInfo[] {
  return listInstalledPackages(lookupDirs(baseDir, options), isStrategyPackageName).map((p) => ({
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
  /** The plugin's own name. */
  name: string
  /** What to type after `--strategy` to use it (`evolution`, `hillclimb`, `pkg#name`). */
  use: string
  kind: StrategyPlugin['kind'] | 'unavailable'
  packageName: string
  version: string | undefined
  description: string
  options: StrategyPlugin['options']
  /** Why the package could not be loaded. */
  error?: string
}

/** Loads every installed strategy package and lists its plugins with their options. */
export async function listStrategies(
  baseDir: string,
  options: LookupOptions = {},
): Promise<StrategyListing[]> {
  const corePkg = findPackage('@naskit/core', lookupDirs(baseDir, options))
  const out: StrategyListing[] = [
    {
      name: randomStrategy.name,
      use: 'random',
      kind: randomStrategy.kind,
      packageName: '@naskit/core',
      version: corePkg?.version,
      description: randomStrategy.description,
      options: randomStrategy.options,
    },
  ]
  for (const p of listStrategyPackages(baseDir, options)) {
    try {
      if (!existsSync(p.entry))
        throw new Error(`entry ${p.entry} is missing (is the package built?)`)
      const mod = await importFile(p.entry)
      const plugins = new Map<string, { plugin: StrategyPlugin; isDefault: boolean }>()
      if (isStrategyLike(mod.default))
        plugins.set(mod.default.name, { plugin: mod.default, isDefault: true })
      if (Array.isArray(mod.strategies))
        for (const s of mod.strategies)
          if (isStrategyLike(s) && !plugins.has(s.name))
            plugins.set(s.name, { plugin: s, isDefault: false })
      if (plugins.size === 0) throw new Error('it exports no strategy plugin')
      for (const { plugin, isDefault } of plugins.values()) {
        const short = p.strategies.includes(plugin.name) ? plugin.name : null
        const typed = typedName(p.packageName)
        out.push({
          name: plugin.name,
          use: short ?? (isDefault ? typed : `${typed}#${plugin.name}`),
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
        use: typedName(p.packageName),
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
