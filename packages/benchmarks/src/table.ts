import { readFileSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import {
  type Arch,
  NaskitError,
  NB201_OPS,
  nb201FromString,
  nb201Space,
  type SearchSpace,
} from '@naskit/core'

/** Error codes of this package (in addition to core's `ErrorCodes`). */
export const BenchErrorCodes = {
  /** No NAS-Bench-201 table was given, or the file does not exist. */
  NB201_NOT_FOUND: 'E_NB201_NOT_FOUND',
  /** The NAS-Bench-201 table exists but is not in the expected format. */
  NB201_BAD_TABLE: 'E_NB201_BAD_TABLE',
} as const

/** The datasets of NAS-Bench-201. */
export const NB201_DATASETS = ['cifar10', 'cifar100', 'imagenet16'] as const
export type Nb201Dataset = (typeof NB201_DATASETS)[number]

/** Number of architectures in the NAS-Bench-201 cell space, and so rows in the table. */
export const NB201_ROWS = 15_625

/** Columns every table must have (others are kept when present). */
export const NB201_REQUIRED_COLUMNS: readonly string[] = [
  'index',
  'arch',
  ...NB201_DATASETS.flatMap((d) => [`${d}_test`, `${d}_valid_12ep`]),
  'params_m',
  'flops_m',
]

/** Environment variable holding the table's path when no path is given. */
export const NB201_ENV = 'NASKIT_NB201'

const WHERE_FROM =
  'The table is the NAS-Bench-201 / NATS-Bench topology results as a CSV (one row per cell architecture, 15,625 rows); see the @naskit/benchmarks README for its columns and sources.'

/** A loaded NAS-Bench-201 table: numeric columns and O(1) lookup by architecture key. */
export class Nb201Table {
  /** The nb201 search space whose keys index this table. */
  readonly space: SearchSpace
  /** The arch string (`|op~0|+|op~0|op~1|+|…|`) of every row. */
  readonly archStrings: readonly string[]
  /** Every column name, in file order. */
  readonly columns: readonly string[]
  private readonly numeric: Map<string, Float64Array>
  private readonly byArch: Map<string, number>
  private readonly keyToArch: (key: string) => string
  private readonly optima = new Map<string, { index: number; value: number }>()

  constructor(
    readonly path: string,
    args: {
      space: SearchSpace
      columns: string[]
      archStrings: string[]
      numeric: Map<string, Float64Array>
      byArch: Map<string, number>
      keyToArch: (key: string) => string
    },
  ) {
    this.space = args.space
    this.columns = args.columns
    this.archStrings = args.archStrings
    this.numeric = args.numeric
    this.byArch = args.byArch
    this.keyToArch = args.keyToArch
  }

  /** Number of rows (architectures). */
  get size(): number {
    return this.archStrings.length
  }

  /** A numeric column, e.g. `cifar10_test`. Throws `E_NB201_BAD_TABLE` naming the known ones. */
  column(name: string): Float64Array {
    const c = this.numeric.get(name)
    if (!c) {
      throw new NaskitError(
        BenchErrorCodes.NB201_BAD_TABLE,
        `The NAS-Bench-201 table ${this.path} has no numeric column "${name}". Known: ${[...this.numeric.keys()].join(', ')}.`,
      )
    }
    return c
  }

  /** True when the table has a numeric column of that name. */
  hasColumn(name: string): boolean {
    return this.numeric.has(name)
  }

  /** Row of the architecture with this nb201-space key, or -1. */
  rowOfKey(key: string): number {
    return this.byArch.get(this.keyToArch(key)) ?? -1
  }

  /** Row of an nb201-space architecture, or -1 when it is not in the table. */
  rowOf(arch: Arch): number {
    let key: string
    try {
      key = this.space.key(arch)
    } catch {
      return -1
    }
    return this.rowOfKey(key)
  }

  /**
   * Row of an nb201-space architecture; throws `E_INVALID_ARCH` naming the problem when it is
   * not a member of the NAS-Bench-201 space.
   */
  requireRow(arch: Arch): number {
    const row = this.rowOf(arch)
    if (row >= 0) return row
    this.space.validate(arch)
    throw new NaskitError(
      'E_INVALID_ARCH',
      `Architecture ${this.space.key(arch)} is not in the NAS-Bench-201 table ${this.path}.`,
    )
  }

  /** The architecture of a row. */
  arch(row: number): Arch {
    return nb201FromString(this.archAt(row))
  }

  /** The arch string of a row. */
  archAt(row: number): string {
    const s = this.archStrings[row]
    if (s === undefined)
      throw new NaskitError(
        'E_BAD_OPTIONS',
        `Row ${row} is outside the table (0–${this.size - 1}).`,
      )
    return s
  }

  /** Every numeric value and the arch string of a row. */
  row(row: number): Record<string, number | string> {
    const out: Record<string, number | string> = { arch: this.archAt(row) }
    for (const [name, col] of this.numeric) out[name] = col[row] as number
    return out
  }

  /** The row with the highest value of a column (first one on ties) and that value. */
  best(column: string): { row: number; value: number } {
    const cached = this.optima.get(column)
    if (cached) return { row: cached.index, value: cached.value }
    const col = this.column(column)
    let row = 0
    for (let i = 1; i < col.length; i++) if ((col[i] as number) > (col[row] as number)) row = i
    const value = col[row] as number
    this.optima.set(column, { index: row, value })
    return { row, value }
  }
}

/** The table path from an explicit option or `NASKIT_NB201`; throws `E_NB201_NOT_FOUND` otherwise. */
export function resolveNb201Path(
  path?: string | null,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const given = path ?? env[NB201_ENV]
  if (given === undefined || given === '') {
    throw new NaskitError(
      BenchErrorCodes.NB201_NOT_FOUND,
      `No NAS-Bench-201 table given. Pass its path (--nb201 PATH, or the evaluator option "path") or set ${NB201_ENV}=/path/to/nb201.csv. ${WHERE_FROM}`,
    )
  }
  const full = resolve(given)
  let isFile = false
  try {
    isFile = statSync(full).isFile()
  } catch {
    isFile = false
  }
  if (!isFile) {
    const from = path ? 'the given path' : NB201_ENV
    throw new NaskitError(
      BenchErrorCodes.NB201_NOT_FOUND,
      `The NAS-Bench-201 table ${full} (from ${from}) does not exist or is not a file. Check the path. ${WHERE_FROM}`,
    )
  }
  return full
}

const OP = `(?:${NB201_OPS.join('|')})`

const cache = new Map<string, { mtimeMs: number; size: number; table: Nb201Table }>()

/** Options of {@link loadNb201Table}. */
export interface LoadNb201Options {
  /** Reuse a table already loaded from the same unchanged file. @default true */
  cache?: boolean
  /** Environment to read `NASKIT_NB201` from. @default process.env */
  env?: NodeJS.ProcessEnv
}

/**
 * Loads the NAS-Bench-201 CSV from `path` (or `NASKIT_NB201`), checks its columns, row count,
 * indices and arch strings, and indexes it by the nb201 space's canonical key.
 */
export function loadNb201Table(path?: string | null, options: LoadNb201Options = {}): Nb201Table {
  const full = resolveNb201Path(path, options.env)
  const stat = statSync(full)
  const hit = cache.get(full)
  if (options.cache !== false && hit && hit.mtimeMs === stat.mtimeMs && hit.size === stat.size)
    return hit.table
  const table = parseNb201Csv(readFileSync(full, 'utf8'), full)
  if (options.cache !== false) cache.set(full, { mtimeMs: stat.mtimeMs, size: stat.size, table })
  return table
}

function bad(path: string, what: string): NaskitError {
  return new NaskitError(
    BenchErrorCodes.NB201_BAD_TABLE,
    `The NAS-Bench-201 table ${path} is not usable: ${what}. Point naskit at an unmodified copy of the table. ${WHERE_FROM}`,
  )
}

/** The arch string of an nb201 key, derived textually (checked against the space on load). */
function archStringOfKey(key: string): string {
  // "cell=a~0+b~0|c~1+d~0|e~1|f~2" → "|a~0|+|b~0|c~1|+|d~0|e~1|f~2|"
  return key.startsWith('cell=') ? `|${key.slice(5).replaceAll('+', '|+|')}|` : ''
}

/**
 * Parses a plain decimal number between `from` and `to`. Dividing the exact integer of its
 * digits by an exact power of ten rounds once, so the result equals `Number(text)`.
 */
function parseDecimal(text: string, from: number, to: number): number {
  let i = from
  let negative = false
  if (i < to && text.charCodeAt(i) === 45) {
    negative = true
    i++
  }
  let digits = 0
  let mantissa = 0
  let scale = 0
  let dot = false
  for (; i < to; i++) {
    const c = text.charCodeAt(i)
    if (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48)
      digits++
      if (dot) scale++
    } else if (c === 46 && !dot) dot = true
    else return Number(text.slice(from, to))
  }
  if (digits === 0 || digits > 15 || scale > 22)
    return to > from ? Number(text.slice(from, to)) : Number.NaN
  const v = scale === 0 ? mantissa : mantissa / POW10[scale]!
  return negative ? -v : v
}

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k)

/** Parses the CSV text of a NAS-Bench-201 table. `path` is only used in error messages. */
export function parseNb201Csv(text: string, path = '(text)'): Nb201Table {
  const space = nb201Space()
  let lineEnd = text.indexOf('\n')
  if (lineEnd < 0) lineEnd = text.length
  const header = text
    .slice(0, lineEnd)
    .replace(/\r$/, '')
    .replace(/^\uFEFF/, '')
    .split(',')
  const missing = NB201_REQUIRED_COLUMNS.filter((c) => !header.includes(c))
  if (missing.length > 0) {
    throw bad(
      path,
      `missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (the header has: ${header.join(', ') || 'nothing'})`,
    )
  }
  const dup = header.find((c, i) => header.indexOf(c) !== i)
  if (dup !== undefined) throw bad(path, `column "${dup}" appears twice`)
  const archCol = header.indexOf('arch')
  const indexCol = header.indexOf('index')
  const width = header.length

  const numericCols: Array<{ at: number; name: string; values: Float64Array }> = []
  for (let c = 0; c < width; c++) {
    if (c === archCol) continue
    numericCols.push({ at: c, name: header[c] as string, values: new Float64Array(NB201_ROWS) })
  }
  const colAt: Array<Float64Array | null> = header.map(
    (_, c) => numericCols.find((n) => n.at === c)?.values ?? null,
  )
  const archStrings = new Array<string>(NB201_ROWS)
  const byArch = new Map<string, number>()
  const indexValues = colAt[indexCol] as Float64Array
  const archOk = new RegExp(
    `^\\|${OP}~0\\|\\+\\|${OP}~0\\|${OP}~1\\|\\+\\|${OP}~0\\|${OP}~1\\|${OP}~2\\|$`,
  )

  // one pass over the text: no per-line arrays
  let pos = lineEnd + 1
  let r = 0
  const n = text.length
  while (pos < n) {
    let end = text.indexOf('\n', pos)
    if (end < 0) end = n
    let stop = end
    if (text.charCodeAt(stop - 1) === 13) stop--
    if (stop === pos) {
      // blank line: only allowed at the end
      pos = end + 1
      if (text.slice(pos).trim() !== '') throw bad(path, `line ${r + 2} is empty`)
      break
    }
    if (r >= NB201_ROWS) {
      const rows =
        r +
        text
          .slice(pos)
          .split('\n')
          .filter((l) => l.trim() !== '').length
      throw bad(
        path,
        `it has ${rows} data rows; NAS-Bench-201 has ${NB201_ROWS} (one per cell architecture)`,
      )
    }
    let start = pos
    for (let c = 0; c < width; c++) {
      const next = text.indexOf(',', start)
      const last = c === width - 1
      const comma = last ? stop : next
      if (last ? next >= 0 && next < stop : next < 0 || next >= stop) {
        const fields = text.slice(pos, stop).split(',').length
        throw bad(
          path,
          `data row ${r + 1} (line ${r + 2}) has ${fields} fields; the header has ${width}`,
        )
      }
      const col = colAt[c]
      if (col) {
        const v = parseDecimal(text, start, comma)
        if (!Number.isFinite(v)) {
          throw bad(
            path,
            `line ${r + 2}, column "${header[c]}" is ${JSON.stringify(text.slice(start, comma))}, not a number`,
          )
        }
        col[r] = v
      } else {
        const arch = text.slice(start, comma)
        if (!archOk.test(arch))
          throw bad(
            path,
            `line ${r + 2} has arch ${JSON.stringify(arch)}, not a NAS-Bench-201 arch string of ops ${NB201_OPS.join(', ')}`,
          )
        archStrings[r] = arch
        const before = byArch.get(arch)
        if (before !== undefined)
          throw bad(path, `line ${r + 2} repeats the architecture ${arch} of line ${before + 2}`)
        byArch.set(arch, r)
      }
      start = comma + 1
    }
    r++
    pos = end + 1
  }
  if (r !== NB201_ROWS) {
    throw bad(
      path,
      `it has ${r} data rows; NAS-Bench-201 has ${NB201_ROWS} (one per cell architecture)`,
    )
  }

  // every index must be 0..15624 once
  const seenIndex = new Uint8Array(NB201_ROWS)
  for (let row = 0; row < NB201_ROWS; row++) {
    const idx = indexValues[row] as number
    if (!Number.isInteger(idx) || idx < 0 || idx >= NB201_ROWS || seenIndex[idx] === 1) {
      throw bad(
        path,
        `line ${row + 2} has index ${idx}; indices must be the integers 0–${NB201_ROWS - 1}, each once`,
      )
    }
    seenIndex[idx] = 1
  }
  // 15,625 distinct valid arch strings are the whole space. Keys map to arch strings textually
  // when the space's key has the expected form; otherwise every key is computed by the space.
  let keyToArch = archStringOfKey
  for (let row = 0; row < NB201_ROWS; row += 251) {
    const arch = archStrings[row] as string
    let key: string
    try {
      key = space.key(space.validate(nb201FromString(arch)))
    } catch (e) {
      throw bad(path, `line ${row + 2} has arch ${JSON.stringify(arch)}: ${(e as Error).message}`)
    }
    if (archStringOfKey(key) !== arch) {
      const archOfKey = new Map<string, string>()
      for (const s of archStrings) archOfKey.set(space.key(nb201FromString(s)), s)
      keyToArch = (k) => archOfKey.get(k) ?? ''
      break
    }
  }

  const numeric = new Map<string, Float64Array>()
  for (const col of numericCols) numeric.set(col.name, col.values)
  return new Nb201Table(path, { space, columns: header, archStrings, numeric, byArch, keyToArch })
}
