import * as tf from '@tensorflow/tfjs'
import { describe, expect, it } from 'vitest'
import { requestedBackend, selectBackend } from '../src/backend.js'
import { isNaskitError } from '@naskit/core'

const failing = (msg: string) => async (): Promise<string> => {
  throw new Error(msg)
}
const ok = (name: string) => async () => name

describe('selectBackend', () => {
  it('auto prefers tensorflow-gpu when it loads', async () => {
    const lines: string[] = []
    const sel = await selectBackend({
      backend: 'auto',
      activate: false,
      log: (l) => lines.push(l),
      loaders: { 'tensorflow-gpu': ok('tensorflow'), tensorflow: failing('unused') },
    })
    expect(sel.backend).toBe('tensorflow-gpu')
    expect(sel.tfBackend).toBe('tensorflow')
    expect(sel.skipped).toEqual([])
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain('"tensorflow-gpu"')
  })

  it('auto falls back in order and logs one line with every reason', async () => {
    const lines: string[] = []
    const sel = await selectBackend({
      activate: false,
      env: {},
      log: (l) => lines.push(l),
      loaders: {
        'tensorflow-gpu': failing('no CUDA here\nstack...'),
        tensorflow: failing('native addon missing'),
        wasm: ok('wasm'),
      },
    })
    expect(sel.backend).toBe('wasm')
    expect(sel.requested).toBe('auto')
    expect(sel.skipped.map((s) => s.backend)).toEqual(['tensorflow-gpu', 'tensorflow'])
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain('"wasm"')
    expect(lines[0]).toContain('no CUDA here')
    expect(lines[0]).toContain('native addon missing')
    expect(lines[0]).not.toContain('stack...')
  })

  it('auto ends at cpu when everything else fails', async () => {
    const sel = await selectBackend({
      activate: false,
      log: false,
      env: {},
      loaders: {
        'tensorflow-gpu': failing('a'),
        tensorflow: failing('b'),
        wasm: failing('c'),
      },
    })
    expect(sel.backend).toBe('cpu')
    expect(sel.skipped).toHaveLength(3)
  })

  it('reads NASKIT_BACKEND, and the option wins over it', async () => {
    expect(requestedBackend(undefined, { NASKIT_BACKEND: 'CPU' })).toBe('cpu')
    expect(requestedBackend('wasm', { NASKIT_BACKEND: 'cpu' })).toBe('wasm')
    expect(requestedBackend(undefined, {})).toBe('auto')
    const sel = await selectBackend({
      activate: false,
      log: false,
      env: { NASKIT_BACKEND: 'tensorflow' },
      loaders: { tensorflow: ok('tensorflow') },
    })
    expect(sel.backend).toBe('tensorflow')
    expect(sel.requested).toBe('tensorflow')
  })

  it('rejects unknown names with E_BAD_OPTIONS', async () => {
    await expect(
      selectBackend({ activate: false, log: false, env: { NASKIT_BACKEND: 'tpu' } }),
    ).rejects.toSatisfy((e) => isNaskitError(e, 'E_BAD_OPTIONS'))
  })

  it('a specific backend that cannot load fails with E_BACKEND_UNAVAILABLE (no fallback)', async () => {
    const err = await selectBackend({
      backend: 'tensorflow-gpu',
      activate: false,
      log: false,
      loaders: { 'tensorflow-gpu': failing('libcudart.so not found') },
    }).catch((e: unknown) => e)
    expect(isNaskitError(err, 'E_BACKEND_UNAVAILABLE')).toBe(true)
    expect(String((err as Error).message)).toContain('libcudart.so not found')
  })

  it('the real default loaders: tfjs-node is absent here, so auto picks wasm', async () => {
    const lines: string[] = []
    const sel = await selectBackend({ env: {}, log: (l) => lines.push(l) })
    expect(['tensorflow-gpu', 'tensorflow', 'wasm']).toContain(sel.backend)
    expect(tf.getBackend()).toBe(sel.tfBackend)
    expect(lines).toHaveLength(1)
    await selectBackend({ backend: 'cpu', log: false })
    expect(tf.getBackend()).toBe('cpu')
  })
})
