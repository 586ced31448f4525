import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { evolutionStrategy, localSearchStrategy } from '../src/index'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

/** The `| \`name\` | type | \`default\` | … |` rows of the README's option tables. */
function documentedDefaults(): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of readme.split('\n')) {
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim())
    const name = cells[1]?.match(/^`([A-Za-z]+)`$/)?.[1]
    const def = cells[3]?.match(/^`([^`]+)`$/)?.[1]
    if (name && def) out.set(name, def)
  }
  return out
}

describe('README', () => {
  it('documents every option with the default the code uses', () => {
    const documented = documentedDefaults()
    for (const plugin of [evolutionStrategy, localSearchStrategy]) {
      for (const [name, spec] of Object.entries(plugin.options)) {
        expect(documented.get(name), `${plugin.name}.${name}`).toBe(String(spec.default))
      }
    }
  })
})
