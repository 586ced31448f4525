import { fileURLToPath } from 'node:url'

/** The shared NAS-Bench-201 table, found from this file's location (never copied into the project). */
export const NB201_CSV = fileURLToPath(
  new URL('../../../../shared/data/nasbench201/nb201.csv', import.meta.url),
)
