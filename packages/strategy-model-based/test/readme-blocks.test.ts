import { join } from 'node:path'
import { testReadme } from '../../../readme-blocks.shared.ts'

await testReadme(join(import.meta.dirname, '..', 'README.md'))
