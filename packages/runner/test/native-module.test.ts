import { isNaskitError } from '@naskit/core'
import { describe, expect, it } from 'vitest'
import { nativeModuleError } from '../src/store'

describe('nativeModuleError', () => {
  it('reports an addon built for another Node.js as such, with the rebuild command', () => {
    // the message Node.js gives when a .node file was built for another ABI
    const dlopen = Object.assign(
      new Error(
        "The module '/x/node_modules/better-sqlite3/build/Release/better_sqlite3.node'\nwas compiled against a different Node.js version using\nNODE_MODULE_VERSION 115. This version of Node.js requires\nNODE_MODULE_VERSION 127. Please try re-compiling or re-installing\nthe module (for instance, using `npm rebuild` or `npm install`).",
      ),
      { code: 'ERR_DLOPEN_FAILED' },
    )
    const e = nativeModuleError(dlopen)
    expect(isNaskitError(e, 'E_NATIVE_MODULE')).toBe(true)
    expect(e?.message).toContain('built for another Node.js version')
    expect(e?.message).toContain('npm rebuild better-sqlite3')
    expect(e?.message).toContain('store is untouched')
    expect(e?.message).not.toContain('move the file away')
  })

  it('reports a missing addon, and leaves other errors alone', () => {
    const missing = new Error(
      'Could not locate the bindings file. Tried:\n → /x/build/better_sqlite3.node',
    )
    expect(nativeModuleError(missing)?.code).toBe('E_NATIVE_MODULE')
    expect(nativeModuleError(new Error('SQLITE_CORRUPT: database disk image is malformed'))).toBe(
      null,
    )
    expect(nativeModuleError('nope')).toBe(null)
  })
})
