import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { nativeAddonPath, selectBackend } from '../src/backend.js'

const dirs: string[] = []
function fakePackage(binary: object | undefined): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'naskit-tfjs-node-'))
  dirs.push(dir)
  mkdirSync(dir, { recursive: true })
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: '@tensorflow/tfjs-node', ...(binary ? { binary } : {}) }),
  )
  return dir
}

describe('the native addon of a tfjs-node package', () => {
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  const binary = {
    module_name: 'tfjs_binding',
    module_path: './lib/napi-v{napi_build_version}',
    napi_versions: [3, 4, 5, 6, 7, 8],
  }

  it('is the build for the highest N-API version this Node.js supports', () => {
    const dir = fakePackage(binary)
    expect(nativeAddonPath(dir, '9')).toBe(path.join(dir, 'lib', 'napi-v8', 'tfjs_binding.node'))
    expect(nativeAddonPath(dir, '10')).toBe(path.join(dir, 'lib', 'napi-v8', 'tfjs_binding.node'))
    expect(nativeAddonPath(dir, '5')).toBe(path.join(dir, 'lib', 'napi-v5', 'tfjs_binding.node'))
  })

  it("follows the package's own module path and name", () => {
    const dir = fakePackage({
      ...binary,
      module_name: 'b',
      module_path: './out/v{napi_build_version}',
    })
    expect(nativeAddonPath(dir, '8')).toBe(path.join(dir, 'out', 'v8', 'b.node'))
    const plain = fakePackage(undefined)
    expect(nativeAddonPath(plain, '8')).toBe(
      path.join(plain, 'lib', 'napi-v8', 'tfjs_binding.node'),
    )
  })
})

describe('the default backend log', () => {
  it('says a choice once per process', async () => {
    const info = vi.spyOn(console, 'info').mockImplementation(() => {})
    try {
      const loaders = { tensorflow: async () => Promise.reject(new Error('no addon here')) }
      for (let i = 0; i < 3; i++) {
        await selectBackend({
          backend: 'auto',
          activate: false,
          env: {},
          loaders: { ...loaders, 'tensorflow-gpu': loaders.tensorflow },
        })
      }
      expect(info).toHaveBeenCalledTimes(1)
      expect(String(info.mock.calls[0]![0])).toContain('no addon here')
      // another outcome is said again
      await selectBackend({ backend: 'cpu', activate: false, env: {} })
      expect(info).toHaveBeenCalledTimes(2)
    } finally {
      info.mockRestore()
    }
  })
})
