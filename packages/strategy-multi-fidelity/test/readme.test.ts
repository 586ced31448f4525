import { readFileSync } from 'node:fs'
import type { OptionsSchema } from '@naskit/core'
import { describe, expect, it } from 'vitest'
import { ashaStrategy, hyperbandStrategy, successiveHalvingStrategy } from '../src/index'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

/** The `| \`name\` | type | \`default\` | … |` rows of the option table after `heading`. */
function table(heading: string): Map<string, string> {
  const start = readme.indexOf(`\n${heading}\n`)
  expect(start, `README has "${heading}"`).toBeGreaterThan(0)
  const out = new Map<string, string>()
  const lines = readme.slice(start + heading.length + 2).split('\n')
  let inTable = false
  for (const line of lines) {
    if (line.startsWith('|')) inTable = true
    else if (inTable) break
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim())
    const name = cells[1]?.match(/^`([A-Za-z]+)`$/)?.[1]
    const def = cells[3]?.match(/^`([^`]+)`$/)?.[1]
    if (name && def) out.set(name, def)
  }
  return out
}

const shown = (v: unknown) => (typeof v === 'object' ? JSON.stringify(v) : String(v))

describe('README', () => {
  it('documents every option with the default the code uses', () => {
    const common = table('Common to all three:')
    for (const [heading, options] of [
      ['`successive-halving`:', successiveHalvingStrategy.options],
      ['`hyperband`:', hyperbandStrategy.options],
      ['`asha`:', ashaStrategy.options],
    ] as Array<[string, OptionsSchema]>) {
      const own = table(heading)
      for (const [name, spec] of Object.entries(options)) {
        const documented = own.get(name) ?? common.get(name)
        expect(documented, `${heading} ${name}`).toBe(shown(spec.default))
      }
      for (const name of own.keys()) expect(Object.keys(options)).toContain(name)
    }
    for (const name of common.keys()) expect(Object.keys(ashaStrategy.options)).toContain(name)
  })
})
