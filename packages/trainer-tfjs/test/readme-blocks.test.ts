import { join } from 'node:path'
import { testReadme } from '../../../readme-blocks.shared.ts'

// The training example runs on 200 MNIST images (see its run-with marker), not 10,000.
await testReadme(join(import.meta.dirname, '..', 'README.md'), { timeout: 120_000 })
