import { NaskitError } from '@naskit/core'
import { writeOutputFile } from './output-file'
import { type ExperimentData, numericMetrics, rankTrials, readExperiment } from './report'
import type { StoredTrial } from './store'

/** Formats of `naskit export`. */
export type ExportFormat = 'json' | 'csv'

/** Options of {@link exportTrials}. */
export interface ExportOptions {
  /** Number of best trials. @default 10 */
  top?: number
  /** @default 'json' */
  format?: ExportFormat | string
  /** Include failed trials (after the ranked ones). @default false */
  includeFailed?: boolean
  /**
   * Called with each damaged record of the store (the export goes on without it, and marks a
   * damaged trial with `damaged`).
   */
  onWarning?: (message: string) => void
}

/** `field: reason` for each damaged field of a trial (the CSV's `damaged` column). */
function damagedText(t: StoredTrial): string | undefined {
  if (!t.damaged) return undefined
  return Object.entries(t.damaged)
    .map(([field, d]) => `${field}: ${d?.message}`)
    .join('; ')
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return ''
  const s =
    typeof v === 'string'
      ? v
      : typeof v === 'number' || typeof v === 'boolean'
        ? String(v)
        : JSON.stringify(v)
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/** The best `top` trials of an experiment, as JSON or CSV text. */
export function exportText(data: ExperimentData, opts: ExportOptions = {}): string {
  const top = opts.top ?? 10
  if (!Number.isInteger(top) || top < 1)
    throw new NaskitError('E_BAD_OPTIONS', `--top must be a positive integer, got ${top}.`)
  const format = opts.format ?? 'json'
  const ranked = rankTrials(data.trials).slice(0, top)
  const rows = [
    ...ranked.map((t, i) => ({ rank: (i + 1) as number | null, t })),
    ...(opts.includeFailed
      ? data.trials.filter((t) => t.status === 'failed').map((t) => ({ rank: null, t }))
      : []),
  ]
  if (format === 'json') {
    return `${JSON.stringify(
      {
        experiment: {
          dir: data.dir,
          space: data.config?.space.name ?? null,
          strategy: data.config?.strategy.name ?? null,
          evaluator: data.config?.evaluator.name ?? null,
          seed: data.config?.seed ?? null,
          trials: data.trials.length,
          running: data.running,
          status: data.status ?? null,
          createdAt: data.createdAt ?? null,
          elapsedMs: data.elapsedMs ?? null,
          versions: data.versions ?? null,
          config: data.config ?? null,
          ...(data.warnings?.length ? { warnings: data.warnings } : {}),
        },
        trials: rows.map(({ rank, t }) => ({
          rank,
          id: t.id,
          status: t.status,
          objective: t.objective,
          key: t.key,
          arch: t.damaged?.arch ? null : t.arch,
          metrics: t.metrics,
          ...(t.error ? { error: t.error } : {}),
          ...(t.timings ? { durationMs: t.timings.durationMs } : {}),
          ...(t.worker ? { worker: t.worker } : {}),
          ...(t.damaged ? { damaged: t.damaged } : {}),
        })),
        // every finished trial, by id: a complete backup of the results
        allTrials: data.trials.map((t) => ({
          id: t.id,
          status: t.status,
          objective: t.objective,
          key: t.key,
          arch: t.damaged?.arch ? null : t.arch,
          metrics: t.metrics,
          error: t.error ?? null,
          timings: t.timings ?? null,
          elapsedMs: t.elapsedMs,
          attempts: t.attempts,
          worker: t.worker ?? null,
          ...(t.meta === undefined ? {} : { meta: t.meta }),
          ...(t.fidelity === undefined ? {} : { fidelity: t.fidelity }),
          ...(t.damaged ? { damaged: t.damaged } : {}),
        })),
      },
      null,
      2,
    )}\n`
  }
  if (format === 'csv') {
    const metrics = numericMetrics(data.trials)
    const header = [
      'rank',
      'id',
      'status',
      'objective',
      ...metrics,
      'duration_ms',
      'error_code',
      'error_message',
      'key',
      'arch',
    ]
    // only when the store has damaged trials: the fields that could not be read
    const anyDamaged = rows.some(({ t }) => t.damaged)
    if (anyDamaged) header.push('damaged')
    const lines = [header.join(',')]
    for (const { rank, t } of rows) {
      lines.push(
        [
          rank,
          t.id,
          t.status,
          t.objective,
          ...metrics.map((m) => t.metrics[m]),
          t.timings?.durationMs,
          t.error?.code,
          t.error?.message,
          t.key,
          t.damaged?.arch ? undefined : t.arch,
          ...(anyDamaged ? [damagedText(t)] : []),
        ]
          .map(csvCell)
          .join(','),
      )
    }
    return `${lines.join('\n')}\n`
  }
  if (format === 'tfjs') {
    throw new NaskitError(
      'E_BAD_OPTIONS',
      'Format "tfjs" exports trained models, not text: use exportModels() (naskit export DIR --format tfjs).',
    )
  }
  throw new NaskitError(
    'E_BAD_OPTIONS',
    `Unknown export format "${format}". Use json or csv (architectures and metrics) or tfjs (trained models).`,
  )
}

/** Exports the best trials of an experiment folder; writes `file` when given, returns the text. */
export async function exportTrials(
  dir: string,
  opts: ExportOptions & { file?: string } = {},
): Promise<string> {
  const data = readExperiment(dir)
  for (const w of data.warnings ?? []) opts.onWarning?.(w)
  const text = exportText(data, opts)
  if (opts.file) await writeOutputFile(opts.file, data.dir, text)
  return text
}
