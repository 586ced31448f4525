import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { dirname, isAbsolute, join, resolve as resolvePath } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/**
 * True when this module runs from TypeScript sources (tests, tsx) rather than the built
 * `dist/`. Package resolution then prefers the workspace's `@naskit/source` export condition.
 */
export const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts')

/** Where this module lives; plugins are also looked up from here. */
export const CORE_DIR = dirname(fileURLToPath(import.meta.url))

const CONDITIONS = RUNNING_FROM_SOURCE
  ? ['@naskit/source', 'import', 'node', 'default']
  : ['import', 'node', 'default']

/** A package found on disk. */
export interface FoundPackage {
  name: string
  version: string | undefined
  dir: string
  /** Absolute path of the entry that `import(name)` would load. */
  entry: string
  json: Record<string, unknown>
}

function readJson(path: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
  } catch {
    return null
  }
}

/** Splits `@scope/name/sub/path` into the package name and the subpath (`.` or `./sub/path`). */
export function splitSpecifier(spec: string): { name: string; subpath: string } {
  const parts = spec.split('/')
  const n = spec.startsWith('@') ? 2 : 1
  const name = parts.slice(0, n).join('/')
  const rest = parts.slice(n).join('/')
  return { name, subpath: rest === '' ? '.' : `./${rest}` }
}

function pickTarget(target: unknown): string | null {
  if (typeof target === 'string') return target
  if (Array.isArray(target)) {
    for (const t of target) {
      const r = pickTarget(t)
      if (r) return r
    }
    return null
  }
  if (target && typeof target === 'object') {
    for (const [cond, value] of Object.entries(target as Record<string, unknown>)) {
      if (CONDITIONS.includes(cond)) {
        const r = pickTarget(value)
        if (r) return r
      }
    }
  }
  return null
}

function entryOf(dir: string, json: Record<string, unknown>, subpath: string): string | null {
  const exp = json.exports
  if (exp !== undefined && exp !== null) {
    let map: Record<string, unknown>
    if (typeof exp === 'string' || Array.isArray(exp)) map = { '.': exp }
    else {
      const keys = Object.keys(exp as object)
      map =
        keys.length > 0 && keys.every((k) => !k.startsWith('.'))
          ? { '.': exp }
          : (exp as Record<string, unknown>)
    }
    const target = pickTarget(map[subpath])
    return target ? join(dir, target) : null
  }
  if (subpath !== '.') return join(dir, subpath)
  const main =
    typeof json.module === 'string'
      ? json.module
      : typeof json.main === 'string'
        ? json.main
        : 'index.js'
  return join(dir, main)
}

/** Directories `node_modules` lookups visit from `fromDir` upwards. */
function nodeModulesDirs(fromDir: string): string[] {
  const out: string[] = []
  let dir = resolvePath(fromDir)
  for (;;) {
    out.push(join(dir, 'node_modules'))
    const parent = dirname(dir)
    if (parent === dir) return out
    dir = parent
  }
}

/** The package directory holding `fromDir`, or `fromDir`'s own package (self-reference). */
function selfPackage(fromDir: string, name: string): string | null {
  let dir = resolvePath(fromDir)
  for (;;) {
    const json = readJson(join(dir, 'package.json'))
    if (json) return json.name === name && json.exports ? dir : null
    const parent = dirname(dir)
    if (parent === dir) return null
    dir = parent
  }
}

/**
 * Finds an installed package the way Node does (node_modules upwards from each base
 * directory, package self-reference included), honouring `exports`.
 */
export function findPackage(spec: string, baseDirs: readonly string[]): FoundPackage | null {
  const { name, subpath } = splitSpecifier(spec)
  for (const base of baseDirs) {
    const candidates = nodeModulesDirs(base).map((nm) => join(nm, name))
    const self = selfPackage(base, name)
    if (self) candidates.unshift(self)
    for (const candidate of candidates) {
      const json = readJson(join(candidate, 'package.json'))
      if (!json || json.name !== name) continue
      const dir = realpathSync(candidate)
      const entry = entryOf(dir, json, subpath)
      if (!entry) continue
      return {
        name,
        version: typeof json.version === 'string' ? json.version : undefined,
        dir,
        entry,
        json,
      }
    }
  }
  return null
}

/** True for `./x`, `../x`, `/abs/x`, `file:` URLs and Windows drive paths. */
export function isPathSpecifier(spec: string): boolean {
  return (
    spec.startsWith('.') ||
    isAbsolute(spec) ||
    spec.startsWith('file:') ||
    /^[A-Za-z]:[\\/]/.test(spec)
  )
}

/** Resolves a path specifier against `baseDir` to an absolute file path, or null when absent. */
export function resolveFile(spec: string, baseDir: string): string | null {
  const path = spec.startsWith('file:') ? fileURLToPath(spec) : resolvePath(baseDir, spec)
  if (existsSync(path) && statSync(path).isFile()) return path
  for (const ext of ['.ts', '.mts', '.js', '.mjs']) if (existsSync(path + ext)) return path + ext
  if (existsSync(path) && statSync(path).isDirectory()) {
    const json = readJson(join(path, 'package.json'))
    if (json) {
      const entry = entryOf(path, json, '.')
      if (entry && existsSync(entry)) return entry
    }
    for (const f of ['index.ts', 'index.js', 'index.mjs'])
      if (existsSync(join(path, f))) return join(path, f)
  }
  return null
}

let jitiInstance: { import(id: string): Promise<unknown> } | null = null

/**
 * Imports a module by absolute file path. TypeScript files that Node cannot load natively
 * (no loader registered) are loaded through jiti.
 */
export async function importFile(path: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path).href
  try {
    return (await import(/* @vite-ignore */ url)) as Record<string, unknown>
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (code !== 'ERR_UNKNOWN_FILE_EXTENSION' || !/\.[mc]?ts$/.test(path)) throw error
  }
  if (!jitiInstance) {
    const { createJiti } = await import('jiti')
    jitiInstance = createJiti(import.meta.url, { interopDefault: false, moduleCache: true })
  }
  return (await jitiInstance.import(path)) as Record<string, unknown>
}

/** Package directories under each `node_modules` visible from `baseDirs` whose name matches. */
export function listInstalledPackages(
  baseDirs: readonly string[],
  match: (name: string) => boolean,
): FoundPackage[] {
  const found = new Map<string, FoundPackage>()
  for (const base of baseDirs) {
    const self = readJson(join(base, 'package.json'))
    const selfName = typeof self?.name === 'string' ? self.name : null
    const names: string[] = selfName && match(selfName) ? [selfName] : []
    for (const nm of nodeModulesDirs(base)) {
      let entries: string[]
      try {
        entries = readdirSync(nm)
      } catch {
        continue
      }
      for (const e of entries) {
        if (e.startsWith('@')) {
          let scoped: string[] = []
          try {
            scoped = readdirSync(join(nm, e))
          } catch {
            // not a directory
          }
          for (const s of scoped) if (match(`${e}/${s}`)) names.push(`${e}/${s}`)
        } else if (match(e)) names.push(e)
      }
    }
    for (const name of names) {
      if (found.has(name)) continue
      const pkg = findPackage(name, [base])
      if (pkg) found.set(name, pkg)
    }
  }
  return [...found.values()]
}
