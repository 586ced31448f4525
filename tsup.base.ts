import type { Options } from 'tsup'

/** Shared tsup settings: ESM bundles with declarations, one entry per public subpath. */
export function packageBuild(entry: Record<string, string>, extra: Partial<Options> = {}): Options {
  return {
    entry,
    format: ['esm'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    splitting: true,
    treeshake: true,
    ...extra,
  }
}
