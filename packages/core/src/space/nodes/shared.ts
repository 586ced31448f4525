import { NaskitError } from '../../errors'
import type { Rng } from '../../rng'
import type { ArchValue, Chooser, DecisionPoint, DecisionSpec } from '../types'

/** A validation failure: the relative path of the offending decision and what is wrong. */
export interface Issue {
  path: string
  message: string
}

/** What a decision name looks like. */
export const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/
/**
 * Names a decision cannot have: `__proto__` would set an architecture's prototype, and the other
 * properties every object inherits would be read from there when an architecture lacks them.
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  ...Object.getOwnPropertyNames(Object.prototype),
  'prototype',
])
/** How deeply decisions may nest (groups and repeats inside each other). */
export const MAX_DEPTH = 64
/** Characters a choice or op name cannot hold: canonical keys use them as separators. */
export const FORBIDDEN_IN_CHOICE = /[;={}[\],|~+\s]/

/** The decisions `trace` collects: each point with the index chosen there. */
export type Traced = Array<{ point: DecisionPoint; index: number }>

/** A compiled decision. All methods assume their input passed `check` unless stated. */
export interface DecisionNode {
  readonly spec: DecisionSpec
  sample(rng: Rng): ArchValue
  check(value: unknown): Issue | null
  canonical(value: ArchValue): ArchValue
  key(value: ArchValue): string
  /** Exact size, or null when infinite (continuous). */
  size(): bigint | null
  enumerate(): Generator<ArchValue>
  readonly encodingLength: number
  encode(value: ArchValue, out: number[], offset: number): void
  /** Number of decisions that can change (the sites of `mutate`). */
  sites(value: ArchValue): number
  mutate(value: ArchValue, site: number, rng: Rng): ArchValue
  neighbours(value: ArchValue): ArchValue[]
  build(choose: Chooser, id: string, group: string): ArchValue
  trace(value: ArchValue, id: string, group: string, out: Traced): void
}

/** Compiles a nested decision (passed to the nodes that hold others, to keep imports one-way). */
export type CompileDecision = (spec: DecisionSpec, path: string) => DecisionNode

/** An `E_INVALID_SPACE` error naming the decision at `path`. */
export function bad(path: string, message: string): NaskitError {
  return new NaskitError('E_INVALID_SPACE', `Invalid search space: ${path}: ${message}`, {
    details: { path },
  })
}

/** A short description of a value for messages. */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v)
  if (v === undefined) return 'nothing'
  if (typeof v === 'object')
    return Array.isArray(v) ? 'an array' : v === null ? 'null' : 'an object'
  return String(v)
}

/** `parent.child`, or `parent[i]` for an index. */
export function joinPath(parent: string, child: string): string {
  if (child === '') return parent
  return child.startsWith('[') ? parent + child : `${parent}.${child}`
}

/** The issue of a child, with its path relative to the parent. */
export function withPrefix(issue: Issue, prefix: string): Issue {
  return { path: joinPath(prefix, issue.path), message: issue.message }
}
