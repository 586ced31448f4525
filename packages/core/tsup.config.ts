import { defineConfig } from 'tsup'
import { packageBuild } from '../../tsup.base'

export default defineConfig(
  packageBuild(
    { index: 'src/index.ts', testing: 'src/testing/index.ts', node: 'src/node/index.ts' },
    { external: ['vitest'] },
  ),
)
