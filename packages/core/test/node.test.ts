import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isNaskitError, randomStrategy } from '../src/index'
import {
  didYouMean,
  editDistance,
  listStrategies,
  loadSamplingStrategy,
  loadStrategy,
  nearestNames,
} from '../src/node/index'

const plugin = (name: string, kind = 'sampling') =>
  `{ name: '${name}', kind: '${kind}', description: '${name} strategy', options: {}, create: () => ({ ask: () => [], tell() {}, state: () => null, restore() {}, run: async () => ({ architectures: [] }) }) }`

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'naskit-core-node-'))
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}')
  const pkg = (name: string, body: string) => {
    const d = join(dir, 'node_modules', ...name.split('/'))
    mkdirSync(d, { recursive: true })
    writeFileSync(
      join(d, 'package.json'),
      JSON.stringify({ name, version: '1.2.3', type: 'module', exports: './index.js' }),
    )
    writeFileSync(join(d, 'index.js'), body)
  }
  pkg('naskit-strategy-hill', `export default ${plugin('hill')}`)
  pkg(
    '@acme/naskit-strategy-pair',
    `export default ${plugin('first')}\nexport const strategies = [${plugin('second')}]`,
  )
  pkg('naskit-strategy-shot', `export default ${plugin('shot', 'one-shot')}`)
  writeFileSync(
    join(dir, 'mine.ts'),
    `const name: string = 'mine'\nexport default { ...${plugin('x')}, name }\n`,
  )
  return dir
}

describe('editDistance and suggestions', () => {
  it('counts insertions, deletions, substitutions and swaps', () => {
    expect(editDistance('evolution', 'evolution')).toBe(0)
    expect(editDistance('evolutoin', 'evolution')).toBe(1)
    expect(editDistance('evoltion', 'evolution')).toBe(1)
    expect(editDistance('rl', 'darts')).toBe(4)
    expect(editDistance('', 'abc')).toBe(3)
  })

  it('suggests only names that are near, nearest first', () => {
    expect(nearestNames('evolutoin', ['random', 'evolution', 'rl', 'local-search'])).toEqual([
      'evolution',
    ])
    expect(nearestNames('Random', ['random'])).toEqual([])
    expect(nearestNames('xyz', ['random', 'evolution'])).toEqual([])
    expect(nearestNames('local', ['local-search', 'evolution'])).toEqual(['local-search'])
    expect(didYouMean('supernte', ['supernet', 'darts'])).toBe(' Did you mean "supernet"?')
    expect(didYouMean('zzz', ['supernet'])).toBe('')
  })
})

describe('loadStrategy (@naskit/core/node)', () => {
  it('finds random, short package names, #names and TypeScript files', async () => {
    const dir = project()
    expect((await loadStrategy('random', dir)).plugin).toBe(randomStrategy)
    const hill = await loadStrategy('hill', dir)
    expect(hill.plugin.name).toBe('hill')
    expect(hill.ref).toMatchObject({ packageName: 'naskit-strategy-hill', version: '1.2.3' })
    expect((await loadStrategy('naskit-strategy-hill', dir)).plugin.name).toBe('hill')
    expect((await loadStrategy('@acme/naskit-strategy-pair#second', dir)).plugin.name).toBe(
      'second',
    )
    expect((await loadStrategy('./mine.ts', dir)).plugin.name).toBe('mine')
  })

  it('suggests the nearest installed name and lists what is installed', async () => {
    const dir = project()
    const e = await loadStrategy('hil', dir).catch((err) => err)
    expect(isNaskitError(e, 'E_UNKNOWN_STRATEGY')).toBe(true)
    expect(e.message).toContain('Did you mean "hill"?')
    expect(e.message).toMatch(/Installed strategies: random, .*hill/)
    const none = await loadStrategy('qqqqqq', dir).catch((err) => err)
    expect(none.message).not.toContain('Did you mean')
    expect(none.message).toContain('npm install naskit-strategy-qqqqqq')
    const empty = await loadStrategy('  ', dir).catch((err) => err)
    expect(isNaskitError(empty, 'E_UNKNOWN_STRATEGY')).toBe(true)
    const path = await loadStrategy('./nope.ts', dir).catch((err) => err)
    expect(path.message).toContain('not found')
  })

  it('refuses a one-shot strategy where a sampling one is needed', async () => {
    const dir = project()
    const e = await loadSamplingStrategy('shot', dir).catch((err) => err)
    expect(isNaskitError(e, 'E_BAD_PLUGIN')).toBe(true)
    expect(e.message).toContain('one-shot')
    expect((await loadSamplingStrategy('hill', dir)).plugin.name).toBe('hill')
  })

  it('lists strategies with the name a user types for each', async () => {
    const dir = project()
    const list = await listStrategies(dir)
    const use = Object.fromEntries(list.map((s) => [`${s.packageName}:${s.name}`, s.use]))
    expect(use['@naskit/core:random']).toBe('random')
    expect(use['naskit-strategy-hill:hill']).toBe('hill')
    expect(use['@acme/naskit-strategy-pair:first']).toBe('@acme/naskit-strategy-pair')
    expect(use['@acme/naskit-strategy-pair:second']).toBe('@acme/naskit-strategy-pair#second')
    for (const s of list.filter((x) => x.kind !== 'unavailable'))
      expect((await loadStrategy(s.use, dir)).plugin.name).toBe(s.name)
  })
})
