import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { buildCli } from '../src/commands'
import { CONFIG_DEFAULTS } from '../src/index'
import { packageDir } from './helpers'

const readme = readFileSync(join(packageDir, 'README.md'), 'utf8')

describe('README', () => {
  it('shows every option of `naskit search`, and no option it does not have', () => {
    const cli = buildCli({ stdout: { write() {} }, stderr: { write() {} } }, () => {})
    const search = cli.commands.find((c) => c.name === 'search')
    const flags = (search?.options ?? [])
      .map((o) => o.rawName.split(' ')[0] as string)
      .filter((f) => f !== '--help')
    const usage = readme.slice(
      readme.indexOf('naskit search [--config'),
      readme.indexOf('naskit report DIR'),
    )
    const shown = [...usage.matchAll(/--[a-z-]+/g)].map((m) => m[0])
    expect(new Set(shown)).toEqual(new Set(flags))
  })

  it('lists every config field with its default', () => {
    const shown = (v: unknown) =>
      typeof v === 'object' ? `\`{ trials: ${(v as { trials: number }).trials} }\`` : `\`${v}\``
    for (const [field, value] of Object.entries(CONFIG_DEFAULTS)) {
      expect(readme).toContain(`| \`${field}\` | ${shown(value)} |`)
    }
  })
})
