import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { loadNb201Table, type Nb201Table } from '@naskit/benchmarks'

/** The NAS-Bench-201 table: `NASKIT_NB201`, else the shared copy beside the checkout. */
export function tablePath(): string | undefined {
  const shared = fileURLToPath(
    new URL('../../../../shared/data/nasbench201/nb201.csv', import.meta.url),
  )
  return process.env.NASKIT_NB201 ?? (existsSync(shared) ? shared : undefined)
}

export function loadTable(): Nb201Table {
  return loadNb201Table(tablePath())
}
