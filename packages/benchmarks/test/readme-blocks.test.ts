import { join } from 'node:path'
import { testReadme } from '../../../readme-blocks.shared.ts'
import { NB201_CSV } from './helpers'

await testReadme(join(import.meta.dirname, '..', 'README.md'), { env: { NASKIT_NB201: NB201_CSV } })
