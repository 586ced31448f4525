import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { bananasStrategy, boStrategy } from '../src/index'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

/** `| \`name\` | type | default cell | … |` rows of the README's option tables. */
function documentedDefaults(): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of readme.split('\n')) {
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim())
    const name = cells[1]?.match(/^`([A-Za-z]+)`$/)?.[1]
    if (name && cells[3]?.startsWith('`')) out.set(name, cells[3])
  }
  return out
}

describe('README', () => {
  it('documents every option with the default the code uses', () => {
    const documented = documentedDefaults()
    for (const plugin of [bananasStrategy, boStrategy]) {
      for (const [name, spec] of Object.entries(plugin.options)) {
        const cell = documented.get(name)
        expect(cell, `${plugin.name}.${name} is documented`).toBeDefined()
        const shown = String(spec.default)
        // one default for both, or "`a` (bananas), `b` (bo)"
        const own = new RegExp(`\`${shown}\` \\(${plugin.name}\\)`)
        expect(
          cell === `\`${shown}\`` || own.test(cell as string),
          `${plugin.name}.${name}: ${cell}`,
        ).toBe(true)
      }
    }
  })
})
