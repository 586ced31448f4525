import { join } from 'node:path'
import { testReadme } from '../../../readme-blocks.shared.ts'

// The searches run one epoch on 64 MNIST images (see their run-with markers).
await testReadme(join(import.meta.dirname, '..', 'README.md'), { timeout: 120_000 })
