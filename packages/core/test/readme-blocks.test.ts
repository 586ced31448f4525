import { join } from 'node:path'
import { testReadme } from '../../../readme-blocks.shared.ts'

// Runs every TypeScript block of the README; the strategy template runs the contract kit.
await testReadme(join(import.meta.dirname, '..', 'README.md'))
