import { defineConfig } from 'tsup'
import { packageBuild } from '../../tsup.base'

export default defineConfig(
  packageBuild(
    { index: 'src/index.ts', cli: 'src/cli.ts', 'worker-entry': 'src/worker-entry.ts' },
    { external: ['better-sqlite3', 'echarts'] },
  ),
)
