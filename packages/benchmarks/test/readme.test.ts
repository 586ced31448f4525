import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { BENCH_USAGE, evaluators } from '../src/index'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

describe('README', () => {
  it('documents every evaluator option with its default', () => {
    for (const [name, spec] of Object.entries(evaluators.nb201.options)) {
      const line = readme.split('\n').find((l) => l.startsWith(`| \`${name}\` |`))
      expect(line, name).toBeDefined()
      const cells = (line as string).split(/(?<!\\)\|/).map((c) => c.trim())
      expect(cells[3], name).toBe(
        spec.default === undefined ? '`$NASKIT_NB201`' : `\`${spec.default}\``,
      )
    }
  })

  it('documents every CLI flag', () => {
    for (const m of BENCH_USAGE.matchAll(/^ {2}(--[a-z0-9-]+)/gm)) {
      if (m[1] === '--help') continue
      expect(readme, m[1]).toContain(`| \`${m[1]}\` |`)
    }
  })
})
