import { defineConfig } from 'vitest/config'

/**
 * Shared vitest settings: workspace packages resolve to their `src/` through the
 * `@naskit/source` export condition, and every run writes a JSON report that the root
 * test script adds up.
 */
export function packageTests(extra: { testTimeout?: number; include?: string[] } = {}) {
  const conditions = ['@naskit/source', 'module', 'node', 'import', 'default']
  return defineConfig({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: conditions } },
    test: {
      include: extra.include ?? ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: extra.testTimeout ?? 20_000,
      reporters: ['default', 'json'],
      outputFile: { json: '.test-results/vitest.json' },
    },
  })
}
