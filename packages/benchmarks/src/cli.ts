import { mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { isNaskitError, NaskitError } from '@naskit/core'
import { suiteJson, suiteMarkdown, suiteSvg } from './report'
import { resolveStrategy } from './resolve'
import { runNb201Suite, type SuiteEntry } from './suite'
import { NB201_DATASETS, type Nb201Dataset, loadNb201Table } from './table'

/** Where the CLI writes; tests pass their own. */
export interface BenchIo {
  stdout(text: string): void
  stderr(text: string): void
  env: NodeJS.ProcessEnv
  cwd: string
  /** More directories strategy packages are looked up from (a host's own install). */
  lookupDirs?: string[]
}

const defaultIo = (): BenchIo => ({
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  cwd: process.cwd(),
})

/** Strategies cheap enough that worker threads would only add start-up time. */
const IN_PROCESS = new Set(['random', 'evolution', 'local-search'])

/** Usage of `naskit bench`. */
export const BENCH_USAGE = `Usage: naskit bench nb201 [options]

Runs search strategies on the NAS-Bench-201 table (strategies × seeds, a budget of unique
queries each) and compares them with published results.

Options:
  --strategies LIST   comma-separated: random, evolution, local-search, rl, bananas, bo,
                      a package name, or package#strategy (default: random,evolution)
  --queries N         unique architectures queried per run (default: 100)
  --seeds N|A:B       seeds per strategy: N for 0..N-1, or A:B for A..B, both included
                      (default: 100)
  --seed-offset K     with --seeds N, run seeds K..K+N-1 (default: 0)
  --dataset NAME      cifar10 | cifar100 | imagenet16 (default: cifar10)
  --batch N           candidates asked per round, as with N parallel workers (default: 1)
  --workers N         worker threads for the runs (default: 1 for random, evolution and
                      local-search, which are fastest in-process; the CPU count otherwise)
  --options JSON      strategy options by strategy, e.g. '{"evolution":{"populationSize":20}}'
  --nb201 PATH        the NAS-Bench-201 CSV (default: $NASKIT_NB201)
  --out DIR           where results.md, curves.svg and runs.json go
                      (default: runs/bench-nb201-<dataset>)
  --json              print the results as JSON instead of the markdown table
  -h, --help          show this help
`

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback
  const v = Number(raw)
  if (!Number.isInteger(v) || v < 1)
    throw new NaskitError('E_BAD_OPTIONS', `--${name} must be a positive integer, got "${raw}".`)
  return v
}

/**
 * The seeds of `--seeds N` (0…N−1, shifted by `--seed-offset K`) or `--seeds A:B` (A…B, both
 * included). Tuning on seeds kept apart from the reported ones is `--seeds 10000:10999`.
 */
export function parseSeeds(raw: string | undefined, offsetRaw?: string): number[] {
  let offset = 0
  if (offsetRaw !== undefined) {
    offset = Number(offsetRaw)
    if (!/^\d+$/.test(offsetRaw.trim()) || !Number.isSafeInteger(offset))
      throw new NaskitError(
        'E_BAD_OPTIONS',
        `--seed-offset must be an integer ≥ 0, got "${offsetRaw}".`,
      )
  }
  const range = raw === undefined ? null : /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(raw)
  if (range) {
    if (offsetRaw !== undefined)
      throw new NaskitError(
        'E_BAD_OPTIONS',
        `--seed-offset goes with --seeds N; --seeds ${raw} already names its seeds (drop one of them).`,
      )
    const from = Number(range[1])
    const to = Number(range[2])
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || to < from)
      throw new NaskitError(
        'E_BAD_OPTIONS',
        `--seeds A:B needs integers with A ≤ B, got "${raw}" (e.g. --seeds 10000:10099).`,
      )
    if (to - from + 1 > 1_000_000)
      throw new NaskitError('E_BAD_OPTIONS', `--seeds ${raw} names more than 1,000,000 seeds.`)
    return Array.from({ length: to - from + 1 }, (_, i) => from + i)
  }
  if (raw !== undefined && !/^\s*\d+\s*$/.test(raw))
    throw new NaskitError(
      'E_BAD_OPTIONS',
      `--seeds must be a positive integer N (seeds 0..N-1) or a range A:B, got "${raw}".`,
    )
  const n = positiveInt('seeds', raw, 100)
  return Array.from({ length: n }, (_, i) => offset + i)
}

/**
 * `naskit bench nb201 --strategies random,evolution,rl --queries 100 --seeds 100 --dataset cifar10
 * [--json] [--out DIR] [--nb201 PATH]`. Returns the exit code: 0 on success, 1 on an error,
 * 2 on a usage error.
 */
export async function runBenchCli(argv: string[], io: Partial<BenchIo> = {}): Promise<number> {
  const out = { ...defaultIo(), ...io }
  let values: Record<string, string | boolean | undefined>
  let positionals: string[]
  try {
    const parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        strategies: { type: 'string' },
        queries: { type: 'string' },
        seeds: { type: 'string' },
        'seed-offset': { type: 'string' },
        dataset: { type: 'string' },
        batch: { type: 'string' },
        workers: { type: 'string' },
        options: { type: 'string' },
        nb201: { type: 'string' },
        out: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    })
    values = parsed.values
    positionals = parsed.positionals
  } catch (e) {
    out.stderr(`${(e as Error).message}\n\n${BENCH_USAGE}`)
    return 2
  }
  if (values.help) {
    out.stdout(BENCH_USAGE)
    return 0
  }
  // `naskit bench nb201 …` may arrive with or without the command word
  if (positionals[0] === 'bench') positionals = positionals.slice(1)
  const bench = positionals[0] ?? 'nb201'
  if (bench !== 'nb201' || positionals.length > 1) {
    out.stderr(
      `Unknown benchmark "${positionals.join(' ')}": the only tabular benchmark is nb201.\n\n${BENCH_USAGE}`,
    )
    return 2
  }
  try {
    const dataset = (values.dataset ?? 'cifar10') as Nb201Dataset
    if (!NB201_DATASETS.includes(dataset)) {
      throw new NaskitError(
        'E_BAD_OPTIONS',
        `--dataset must be one of ${NB201_DATASETS.join(', ')}, got "${dataset}".`,
      )
    }
    const queries = positiveInt('queries', values.queries as string | undefined, 100)
    const seeds = parseSeeds(
      values.seeds as string | undefined,
      values['seed-offset'] as string | undefined,
    )
    const batch = positiveInt('batch', values.batch as string | undefined, 1)
    const workersFlag =
      values.workers === undefined ? undefined : positiveInt('workers', values.workers as string, 1)
    let perStrategy: Record<string, unknown> = {}
    if (values.options !== undefined) {
      try {
        perStrategy = JSON.parse(values.options as string) as Record<string, unknown>
      } catch (e) {
        throw new NaskitError(
          'E_BAD_OPTIONS',
          `--options is not valid JSON: ${(e as Error).message}`,
        )
      }
      if (perStrategy === null || typeof perStrategy !== 'object' || Array.isArray(perStrategy)) {
        throw new NaskitError(
          'E_BAD_OPTIONS',
          '--options must be a JSON object mapping strategy names to their options.',
        )
      }
    }
    const names = ((values.strategies as string | undefined) ?? 'random,evolution')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
    if (names.length === 0)
      throw new NaskitError('E_BAD_OPTIONS', '--strategies is empty; give e.g. random,evolution.')
    for (const key of Object.keys(perStrategy)) {
      if (!names.includes(key))
        throw new NaskitError(
          'E_BAD_OPTIONS',
          `--options names "${key}", which is not in --strategies (${names.join(', ')}).`,
        )
    }
    const table = loadNb201Table((values.nb201 as string | undefined) ?? null, { env: out.env })
    const entries: SuiteEntry[] = []
    for (const name of names) {
      const plugin = await resolveStrategy(name, out.cwd, out.lookupDirs ?? [])
      entries.push({
        label: name,
        spec: name,
        plugin,
        ...(perStrategy[name] === undefined ? {} : { options: perStrategy[name] }),
      })
    }
    const workers =
      workersFlag ?? (names.every((n) => IN_PROCESS.has(n)) ? 1 : availableParallelism())
    const result = await runNb201Suite({
      table,
      dataset,
      strategies: entries,
      queries,
      seeds,
      batch,
      workers,
      cwd: out.cwd,
      lookupDirs: out.lookupDirs ?? [],
    })
    for (const s of result.skipped) out.stderr(`skipped ${s.strategy}: ${s.reason}\n`)
    const dir = resolve(
      out.cwd,
      (values.out as string | undefined) ?? join('runs', `bench-nb201-${dataset}`),
    )
    mkdirSync(dir, { recursive: true })
    const markdown = suiteMarkdown(result)
    writeFileSync(join(dir, 'results.md'), markdown)
    writeFileSync(join(dir, 'curves.svg'), suiteSvg(result))
    writeFileSync(join(dir, 'runs.json'), suiteJson(result))
    if (values.json) out.stdout(suiteJson(result))
    else out.stdout(markdown)
    out.stderr(
      `${result.runs.length} runs${result.workers > 1 ? ` on ${result.workers} worker threads` : ''} in ${(result.durationMs / 1000).toFixed(2)} s; wrote results.md, curves.svg and runs.json to ${dir}\n`,
    )
    return 0
  } catch (e) {
    if (isNaskitError(e)) {
      out.stderr(`naskit bench: ${e.message} [${e.code}]\n`)
      return 1
    }
    out.stderr(`naskit bench: ${(e as Error)?.stack ?? String(e)}\n`)
    return 1
  }
}
