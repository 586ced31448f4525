import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { readmeBlocks, runnableBlocks, testReadme } from '../../../readme-blocks.shared.ts'
import { readExperiment, runCli, runExperiment } from '../src/index'
import { captureIo, packageDir } from './helpers'

// The shared NAS-Bench-201 table beside the checkout, as the benchmarks tests use it.
const NB201_CSV = join(packageDir, '../../../shared/data/nasbench201/nb201.csv')

await testReadme(join(packageDir, 'README.md'), {
  env: { NASKIT_NB201: NB201_CSV },
  after: {
    // the config file drives `naskit search` in its folder
    'naskit.config.ts': async (dir) => {
      const { io, err } = captureIo(dir)
      expect(await runCli(['search', '--quiet'], io), err.join('')).toBe(0)
      // the target is in nb201's scale (percent): reached after some trials, not by the first
      const { trials } = readExperiment(join(dir, 'runs', 'nb201'))
      const best = Math.max(...trials.map((t) => t.objective ?? Number.NEGATIVE_INFINITY))
      expect(trials.length).toBeGreaterThan(1)
      expect(best >= 84 || trials.length === 200).toBe(true)
    },
    // an evaluate function is a whole evaluator module
    'count-convs.ts': async (dir) => {
      const result = await runExperiment({
        config: { space: 'nb201', evaluator: './count-convs.ts', budget: 20, seed: 1 },
        out: join(dir, 'runs', 'convs'),
      })
      expect(result.status).toBe('completed')
      expect(result.trials).toHaveLength(20)
      expect(result.best?.objective).toBeGreaterThanOrEqual(2)
    },
  },
})

// The root README's blocks run here too: the runner depends on what they may use.
await testReadme(join(packageDir, '..', '..', 'README.md'), { packageDir })

it('every README with TypeScript or JavaScript blocks has a test that runs them', () => {
  const root = join(packageDir, '..', '..')
  const untested = ['packages', 'examples']
    .flatMap((group) => readdirSync(join(root, group)).map((name) => join(group, name)))
    .filter((dir) => existsSync(join(root, dir, 'README.md')))
    .filter((dir) => runnableBlocks(readFileSync(join(root, dir, 'README.md'), 'utf8')).length > 0)
    .filter((dir) => {
      const tests = join(root, dir, 'test')
      return !(
        existsSync(tests) &&
        readdirSync(tests).some(
          (f) =>
            f.endsWith('.test.ts') && readFileSync(join(tests, f), 'utf8').includes('testReadme('),
        )
      )
    })
  expect(untested, 'add test/readme-blocks.test.ts calling testReadme() to these').toEqual([])
})

it('reads the markers just above a block', () => {
  const md = [
    '<!-- fragment: needs a GPU -->',
    '```ts',
    'train()',
    '```',
    'text',
    '<!-- file: src/x.ts -->',
    '<!-- run-with: {"epochs: 9": "epochs: 1"} -->',
    '',
    '```js',
    'run({ epochs: 9 })',
    '```',
    '```sh',
    'naskit search',
    '```',
  ].join('\n')
  expect(readmeBlocks(md)).toEqual([
    { line: 2, lang: 'ts', code: 'train()\n', fragment: 'needs a GPU' },
    {
      line: 9,
      lang: 'js',
      code: 'run({ epochs: 9 })\n',
      file: 'src/x.ts',
      runWith: { 'epochs: 9': 'epochs: 1' },
    },
    { line: 12, lang: 'sh', code: 'naskit search\n' },
  ])
  expect(runnableBlocks(md).map((b) => b.lang)).toEqual(['ts', 'js'])
  expect(() => readmeBlocks('<!-- fragmnet: why -->\n```ts\n```')).toThrow(/unknown marker/)
  expect(() => readmeBlocks('<!-- fragment: -->\n```ts\n```')).toThrow(/needs a value/)
})
