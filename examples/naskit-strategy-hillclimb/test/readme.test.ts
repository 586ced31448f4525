import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import hillclimb from '../src/index'

describe('README', () => {
  it('documents every option with its default', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8')
    const rows = [...readme.matchAll(/^\| `(\w+)` \| `([^`]+)` \|/gm)].map((m) => [m[1], m[2]])
    expect(rows).toEqual(
      Object.entries(hillclimb.options).map(([name, spec]) => [name, JSON.stringify(spec.default)]),
    )
  })
})
