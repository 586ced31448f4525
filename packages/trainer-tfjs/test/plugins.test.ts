import { readFileSync } from 'node:fs'
import { chainSpace, isNaskitError, type Logger, validateOptions } from '@naskit/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { evaluators } from '../src/plugins.js'
import { useCpu, useWasm } from './helpers.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

/** The `| \`name\` | type | \`default\` | … |` rows of the README's table of plugin options. */
function documentedDefaults(): Map<string, string> {
  const start = readme.indexOf('## Evaluators for the runner')
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1))
  const out = new Map<string, string>()
  for (const line of section.split('\n')) {
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim())
    const name = cells[1]?.match(/^`([A-Za-z]+)`$/)?.[1]
    const def = cells[3]?.match(/^`([^`]+)`$/)?.[1]
    if (name && def) out.set(name, def)
  }
  return out
}

const space = chainSpace()
const small = {
  backend: 'wasm',
  trainSize: 64,
  validationSize: 64,
  testSize: 64,
  batchSize: 32,
  baseChannels: 4,
  resolution: 12,
}
const arch = {
  layers: [{ op: 'conv_3x3' }, { op: 'max_pool_3x3' }, { op: 'sep_conv_3x3' }],
  width_multiplier: 1,
  resolution: 224,
}
const silent: Logger = { info() {}, warn() {} }

async function trial(name: string, options: Record<string, unknown>, log = silent) {
  const plugin = evaluators[name]!
  const ev = await plugin.create({
    options: validateOptions(plugin.options, options, name),
    space,
    seed: 1,
    log,
  })
  return await ev.evaluate(arch as never, { trialId: 1, seed: 4 } as never)
}

describe('evaluator plugins', () => {
  beforeAll(async () => {
    await useWasm()
  })
  afterAll(async () => {
    await useCpu()
  })

  it('provides mnist, fashion-mnist and tfjs, the names the runner maps to this package', () => {
    expect(Object.keys(evaluators).sort()).toEqual(['fashion-mnist', 'images', 'mnist', 'tfjs'])
    for (const [name, plugin] of Object.entries(evaluators)) {
      expect(plugin.name).toBe(name)
      expect(plugin.cost).toBe('expensive')
      expect(plugin.supports?.(space)).toBe(true)
    }
  })

  it('tfjs has the training options of the others plus the dataset', () => {
    const { dataset, ...rest } = evaluators.tfjs!.options
    expect(rest).toEqual(evaluators.mnist!.options)
    expect(dataset).toMatchObject({
      type: 'enum',
      values: ['mnist', 'fashion-mnist'],
      default: 'mnist',
    })
    expect(validateOptions(evaluators.tfjs!.options, {}, 'tfjs').dataset).toBe('mnist')
    let error: unknown
    try {
      validateOptions(evaluators.tfjs!.options, { dataset: 'cifar10' }, 'tfjs')
    } catch (e) {
      error = e
    }
    expect(isNaskitError(error, 'E_BAD_OPTIONS')).toBe(true)
  })

  it('tfjs trains on the dataset of its option', async () => {
    const fashion = await trial('fashion-mnist', small)
    const viaOption = await trial('tfjs', { ...small, dataset: 'fashion-mnist' })
    expect(viaOption.final_loss).toBe(fashion.final_loss)
    expect(viaOption.objective).toBe(fashion.objective)
    const mnist = await trial('mnist', small)
    const byDefault = await trial('tfjs', small)
    expect(byDefault.final_loss).toBe(mnist.final_loss)
    expect(byDefault.final_loss).not.toBe(fashion.final_loss)
  }, 60_000)

  it('routes the memory notice to the host’s logger and names its own options', async () => {
    const warnings: string[] = []
    const log: Logger = { info() {}, warn: (m) => void warnings.push(m) }
    const m = await trial('mnist', { ...small, resolution: 0, batchSize: 64, baseChannels: 8 }, log)
    expect(m.trained_resolution).toBe(28)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('chain resolution 224 px needs')
    expect(warnings[0]).toContain('MNIST’s 28 px')
    expect(warnings[0]).toContain('set the evaluator option resolution')
  }, 60_000)

  it('backend auto leaves the choice to NASKIT_BACKEND, as documented', () => {
    const before = process.env.NASKIT_BACKEND
    try {
      process.env.NASKIT_BACKEND = 'cpu'
      const options = validateOptions(evaluators.mnist!.options, {}, 'mnist')
      expect(evaluators.mnist!.backend?.(options)).toBe('cpu')
      expect(evaluators.images!.backend?.({ ...options, backend: 'wasm' } as never)).toBe('wasm')
    } finally {
      if (before === undefined) delete process.env.NASKIT_BACKEND
      else process.env.NASKIT_BACKEND = before
    }
  })

  it('the README documents every option with the default the code uses', () => {
    const documented = documentedDefaults()
    const names = new Set<string>()
    for (const plugin of Object.values(evaluators)) {
      for (const [name, spec] of Object.entries(plugin.options)) {
        names.add(name)
        expect(documented.get(name), `${plugin.name}.${name}`).toBe(
          spec.default === undefined ? '—' : String(spec.default),
        )
      }
    }
    expect(new Set(documented.keys())).toEqual(names)
  })
})
