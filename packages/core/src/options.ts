import { NaskitError } from './errors'
import type { JsonValue } from './json'

interface BaseOption<T> {
  /** Human-readable description, shown by `naskit strategies` and in docs. */
  description: string
  /** Value used when the option is not given. Options without a default are required. */
  default?: T
}

export interface NumberOption extends BaseOption<number> {
  type: 'number' | 'int'
  min?: number
  max?: number
}
export interface BooleanOption extends BaseOption<boolean> {
  type: 'boolean'
}
export interface StringOption extends BaseOption<string> {
  type: 'string'
}
export interface EnumOption<T extends string = string> extends BaseOption<T> {
  type: 'enum'
  values: readonly T[]
}
export interface JsonOption<T = JsonValue> extends BaseOption<T> {
  type: 'json'
}

export type OptionSpec =
  | NumberOption
  | BooleanOption
  | StringOption
  | EnumOption
  | JsonOption<unknown>

/** A plugin's options: names to specs. JSON-serialisable, so hosts can show and document it. */
export type OptionsSchema = Record<string, OptionSpec>

type ValueOf<S> = S extends NumberOption
  ? number
  : S extends BooleanOption
    ? boolean
    : S extends EnumOption<infer T>
      ? T
      : S extends StringOption
        ? string
        : S extends { type: 'json'; default: infer D }
          ? Exclude<D, undefined>
          : S extends JsonOption<infer T>
            ? T
            : never

/** The validated options object a schema describes (with defaults filled in). */
export type InferOptions<S extends OptionsSchema> = {
  [K in keyof S]: S[K] extends { default: unknown } ? ValueOf<S[K]> : ValueOf<S[K]> | undefined
}

/** Builders that keep literal types for {@link InferOptions}. */
export const option = {
  number: (spec: Omit<NumberOption, 'type'> & { default: number }) => ({
    type: 'number' as const,
    ...spec,
  }),
  int: (spec: Omit<NumberOption, 'type'> & { default: number }) => ({
    type: 'int' as const,
    ...spec,
  }),
  boolean: (spec: Omit<BooleanOption, 'type'> & { default: boolean }) => ({
    type: 'boolean' as const,
    ...spec,
  }),
  string: (spec: Omit<StringOption, 'type'>) => ({ type: 'string' as const, ...spec }),
  enum: <const T extends string>(
    values: readonly T[],
    spec: { description: string; default: NoInfer<T> },
  ) => ({ type: 'enum' as const, values, ...spec }) as EnumOption<T> & { default: T },
  json: <T = JsonValue>(spec: { description: string; default: T }) =>
    ({ type: 'json' as const, ...spec }) as JsonOption<T> & { default: T },
}

/** Typed identity helper for declaring a schema. */
export function defineOptions<const S extends OptionsSchema>(schema: S): S {
  return schema
}

/**
 * Checks `input` against `schema`, fills defaults, and returns the options. Throws
 * `E_BAD_OPTIONS` listing every problem with its dot-path (`populationSize: must be ≥ 2`).
 */
export function validateOptions<S extends OptionsSchema>(
  schema: S,
  input: unknown,
  owner = 'options',
): InferOptions<S> {
  const problems: string[] = []
  if (
    input !== undefined &&
    (input === null || typeof input !== 'object' || Array.isArray(input))
  ) {
    throw new NaskitError(
      'E_BAD_OPTIONS',
      `${owner}: expected an object of options, got ${JSON.stringify(input)}.`,
    )
  }
  const given = (input ?? {}) as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const name of Object.keys(given)) {
    if (!(name in schema)) {
      const known = Object.keys(schema)
      problems.push(
        `${name}: unknown option${known.length ? ` (known: ${known.join(', ')})` : ' (this plugin takes none)'}`,
      )
    }
  }
  for (const [name, spec] of Object.entries(schema)) {
    const v = given[name]
    if (v === undefined) {
      if (spec.default === undefined) {
        if (spec.type !== 'json' && spec.type !== 'string')
          problems.push(`${name}: is required (${spec.description})`)
        continue
      }
      out[name] =
        typeof spec.default === 'object' && spec.default !== null
          ? structuredClone(spec.default)
          : spec.default
      continue
    }
    const problem = checkValue(spec, v)
    if (problem) problems.push(`${name}: ${problem}`)
    else out[name] = v
  }
  if (problems.length > 0) {
    throw new NaskitError('E_BAD_OPTIONS', `Invalid ${owner}:\n  - ${problems.join('\n  - ')}`, {
      details: { problems },
    })
  }
  return out as InferOptions<S>
}

function checkValue(spec: OptionSpec, v: unknown): string | null {
  switch (spec.type) {
    case 'number':
    case 'int': {
      if (typeof v !== 'number' || !Number.isFinite(v))
        return `must be a finite number, got ${JSON.stringify(v)}`
      if (spec.type === 'int' && !Number.isInteger(v)) return `must be an integer, got ${v}`
      if (spec.min !== undefined && v < spec.min) return `must be ≥ ${spec.min}, got ${v}`
      if (spec.max !== undefined && v > spec.max) return `must be ≤ ${spec.max}, got ${v}`
      return null
    }
    case 'boolean':
      return typeof v === 'boolean' ? null : `must be true or false, got ${JSON.stringify(v)}`
    case 'string':
      return typeof v === 'string' ? null : `must be a string, got ${JSON.stringify(v)}`
    case 'enum':
      return spec.values.includes(v as string)
        ? null
        : `must be one of ${spec.values.join(', ')}, got ${JSON.stringify(v)}`
    case 'json':
      return null
  }
}

/** One row per option, for help texts and docs. */
export function describeOptions(
  schema: OptionsSchema,
): Array<{ name: string; type: string; default: string; description: string }> {
  return Object.entries(schema).map(([name, spec]) => ({
    name,
    type:
      spec.type === 'enum'
        ? spec.values.join(' | ')
        : spec.type === 'number' || spec.type === 'int'
          ? `${spec.type}${spec.min !== undefined || spec.max !== undefined ? ` [${spec.min ?? '-∞'}, ${spec.max ?? '∞'}]` : ''}`
          : spec.type,
    default: spec.default === undefined ? '(required)' : JSON.stringify(spec.default),
    description: spec.description,
  }))
}
