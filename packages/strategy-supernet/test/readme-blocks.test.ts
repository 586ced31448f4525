import { join } from 'node:path'
import { testReadme } from '../../../readme-blocks.shared.ts'

// The examples train one epoch on 64 images and search 4 candidates (see their run-with markers).
await testReadme(join(import.meta.dirname, '..', 'README.md'), { timeout: 120_000 })
