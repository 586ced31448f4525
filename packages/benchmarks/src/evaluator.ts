import {
  type Arch,
  defineEvaluator,
  type Evaluator,
  type Metrics,
  option,
  type SearchSpace,
} from '@naskit/core'
import { NB201_DATASETS, type Nb201Dataset, type Nb201Table, loadNb201Table } from './table'

/** What the nb201 evaluator optimises: the benchmark's search signal, or (leaking) the test figure. */
export const NB201_OBJECTIVES = ['valid_12ep', 'test'] as const
export type Nb201Objective = (typeof NB201_OBJECTIVES)[number]

/** The warning printed when the final test accuracy is used as the objective. */
export const TEST_LEAK_WARNING =
  'nb201 evaluator: the objective is the final TEST accuracy. This leaks the test set into the search, so results are not comparable with published NAS-Bench-201 figures. Use objective "valid_12ep" (the default) for a fair search.'

const options = {
  dataset: option.enum(NB201_DATASETS, {
    default: 'cifar10',
    description: 'NAS-Bench-201 dataset: cifar10, cifar100 or imagenet16 (ImageNet16-120).',
  }),
  path: option.string({
    description:
      'Path of the NAS-Bench-201 CSV table; defaults to the NASKIT_NB201 environment variable.',
  }),
  objective: option.enum(NB201_OBJECTIVES, {
    default: 'valid_12ep',
    description:
      'Search signal: "valid_12ep" (12-epoch validation accuracy, the benchmark protocol) or "test" (200-epoch test accuracy; leaks the test set and prints a warning).',
  }),
}

/** Metrics of one table row for a dataset, with `objective` taken from the chosen column. */
export function nb201Metrics(
  table: Nb201Table,
  row: number,
  dataset: Nb201Dataset,
  objective: Nb201Objective = 'valid_12ep',
): Metrics {
  const valid = table.column(`${dataset}_valid_12ep`)[row] as number
  const test = table.column(`${dataset}_test`)[row] as number
  return {
    objective: objective === 'test' ? test : valid,
    [`${dataset}_valid_12ep`]: valid,
    [`${dataset}_test`]: test,
    params_m: table.column('params_m')[row] as number,
    flops_m: table.column('flops_m')[row] as number,
    nb201_index: table.column('index')[row] as number,
    nb201_arch: table.archAt(row),
  }
}

/** True for spaces whose architectures the table can look up. */
export function supportsNb201(space: SearchSpace): true | string {
  if (space.kind === 'nb201' || space.name === 'nb201') return true
  return `the NAS-Bench-201 table only holds architectures of the nb201 space (got "${space.name}"); use --space nb201`
}

/**
 * The NAS-Bench-201 tabular evaluator: a lookup, so it is `cheap`. The objective is the
 * 12-epoch validation accuracy of the chosen dataset; the 200-epoch test accuracy, params and
 * FLOPs (of the CIFAR-10 network, in millions) are reported with it.
 */
export const nb201Evaluator = defineEvaluator({
  name: 'nb201',
  description:
    'NAS-Bench-201 lookup table: 12-epoch validation accuracy as the objective, 200-epoch test accuracy, params and FLOPs.',
  options,
  cost: 'cheap',
  supports: supportsNb201,
  create({ options: o, space, log }): Evaluator {
    const table = loadNb201Table(o.path)
    if (o.objective === 'test') log.warn(TEST_LEAK_WARNING)
    const dataset = o.dataset
    return {
      name: 'nb201',
      evaluate(arch: Arch): Metrics {
        const row = table.rowOf(arch)
        if (row >= 0) return nb201Metrics(table, row, dataset, o.objective)
        // not a table architecture: let the space name the offending decision
        space.validate(arch)
        return nb201Metrics(table, table.requireRow(arch), dataset, o.objective)
      },
    }
  },
})

/** Evaluator plugins of this package, by name. */
export const evaluators = { nb201: nb201Evaluator }
