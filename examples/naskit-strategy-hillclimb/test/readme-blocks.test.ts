import { mkdirSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { runCli } from '@naskit/runner'
import { expect } from 'vitest'
import { testReadme } from '../../../readme-blocks.shared.ts'

const packageDir = join(import.meta.dirname, '..')
const NB201_CSV = join(packageDir, '../../../shared/data/nasbench201/nb201.csv')

await testReadme(join(packageDir, 'README.md'), {
  env: { NASKIT_NB201: NB201_CSV },
  after: {
    // installed next to the runner, the config's `strategy: 'hillclimb'` finds this package
    'naskit.config.ts': async (dir) => {
      mkdirSync(join(dir, 'node_modules'))
      symlinkSync(packageDir, join(dir, 'node_modules', 'naskit-strategy-hillclimb'), 'dir')
      const err: string[] = []
      const io = {
        stdout: { write() {} },
        stderr: { write: (t: string) => void err.push(t) },
        cwd: dir,
      }
      expect(await runCli(['search', '--quiet'], io), err.join('')).toBe(0)
    },
  },
})
