import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve as resolvePath } from 'node:path'
import { isNaskitError, NaskitError, type SpaceSpec } from '@naskit/core'
import { archSvgs, escapeXml } from './arch-svg'
import type { StoredConfig } from './types'
import { writeOutputFile } from './output-file'
import { formatDuration } from './progress'
import { type StoredTrial, Store } from './store'

/** Everything the report and the export read from an experiment folder. */
export interface ExperimentData {
  dir: string
  config: StoredConfig | undefined
  status: { status: string; reason?: string; message?: string } | undefined
  versions: Record<string, string | null> | undefined
  createdAt: number | undefined
  elapsedMs: number | undefined
  trials: StoredTrial[]
  running: number
  /**
   * What could not be read: damaged settings (left undefined) and trials with damaged fields
   * (see {@link StoredTrial.damaged}). Empty for a whole store.
   */
  warnings?: string[]
  /** Settings whose stored text is damaged (such as `config`). */
  damagedSettings?: string[]
}

/**
 * Reads an experiment folder (read-only; works while a search is running, and on a read-only
 * folder or disk). A damaged record does not stop it: it is left out or marked, and named in
 * `warnings`.
 */
export function readExperiment(dir: string): ExperimentData {
  const abs = resolvePath(dir)
  const store = Store.open(abs, { readonly: true })
  const warnings: string[] = []
  const damagedSettings: string[] = []
  const setting = <T>(key: string): T | undefined => {
    try {
      return store.getMeta<T>(key)
    } catch (error) {
      if (!isNaskitError(error, 'E_BAD_RECORD')) throw error
      damagedSettings.push(key)
      warnings.push(`The stored setting "${key}" of ${abs} is not valid JSON; it is left out.`)
      return undefined
    }
  }
  try {
    const trials = store.trials()
    for (const t of trials) {
      if (!t.damaged) continue
      const fields = Object.keys(t.damaged).map((f) => `"${f}"`)
      const one = fields.length === 1
      warnings.push(
        `Trial ${t.id} of ${abs}: the stored field${one ? '' : 's'} ${fields.join(', ')} ${one ? 'is' : 'are'} not valid JSON (${Object.values(t.damaged)[0]?.message}); the trial is kept with ${one ? 'that field' : 'those fields'} empty and marked "damaged".`,
      )
    }
    return {
      dir: abs,
      config: setting<StoredConfig>('config'),
      status: setting('status'),
      versions: setting('versions'),
      createdAt: setting<number>('createdAt'),
      elapsedMs: setting<number>('elapsedMs'),
      trials,
      running: store.counts().running,
      warnings,
      damagedSettings,
    }
  } finally {
    store.close()
  }
}

/** Ok trials, best first (ties: earlier trial first). */
export function rankTrials(trials: readonly StoredTrial[]): StoredTrial[] {
  return trials
    .filter((t) => t.status === 'ok' && t.objective !== null)
    .sort((a, b) => (b.objective as number) - (a.objective as number) || a.id - b.id)
}

/** Numeric metric names present in ok trials, besides the objective. */
export function numericMetrics(trials: readonly StoredTrial[]): string[] {
  const names = new Set<string>()
  for (const t of trials)
    for (const [k, v] of Object.entries(t.metrics))
      if (k !== 'objective' && typeof v === 'number' && Number.isFinite(v)) names.add(k)
  return [...names].sort()
}

let echartsSource: string | null = null
function echartsScript(): string {
  if (echartsSource === null) {
    const require = createRequire(import.meta.url)
    const file = join(require.resolve('echarts/package.json'), '..', 'dist', 'echarts.min.js')
    echartsSource = readFileSync(file, 'utf8').replace(/<\/script/gi, '<\\/script')
  }
  return echartsSource
}

function pickMetric(names: string[], wanted: RegExp): string | null {
  return names.find((n) => wanted.test(n)) ?? null
}

function fmt(v: unknown): string {
  if (typeof v === 'number') return fmtNumber(v, 4)
  if (v === null || v === undefined) return '—'
  return String(v)
}

/** A number for people: thousands separated, a fixed number of decimals, no exponent. */
function fmtNumber(v: number, decimals: number): string {
  if (!Number.isFinite(v)) return String(v)
  if (Number.isInteger(v) && decimals === 0) return v.toLocaleString('en-US')
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US')
  if (v !== 0 && Math.abs(v) < 10 ** -decimals) return v.toPrecision(2)
  return v.toFixed(decimals)
}

/** How a metric column is shown: times in `_ms` as durations, the others with shared decimals. */
function columnFormat(name: string, values: unknown[]): (v: unknown) => string {
  const nums = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
  if (/(^|_)(time|duration)(_ms)?$|_time_ms$|^train_time_ms$/i.test(name)) {
    return (v) => (typeof v === 'number' ? formatDuration(v) : fmt(v))
  }
  const decimals = nums.every((v) => Number.isInteger(v))
    ? 0
    : nums.every((v) => Math.abs(v) >= 100)
      ? 1
      : 4
  return (v) => (typeof v === 'number' ? fmtNumber(v, decimals) : fmt(v))
}

/** A metric that holds the objective in every ok trial (e.g. `val_accuracy`): what it is. */
export function objectiveMetric(trials: readonly StoredTrial[]): string | null {
  const ok = trials.filter((t) => t.status === 'ok' && t.objective !== null)
  if (ok.length === 0) return null
  for (const name of numericMetrics(ok)) {
    if (ok.every((t) => t.metrics[name] === t.objective)) return name
  }
  return null
}

/** The chart data embedded in the report (also what the test reads back). */
export interface ReportData {
  byTrial: Array<[number, number]>
  bestByTrial: Array<[number, number]>
  byTime: Array<[number, number]>
  bestByTime: Array<[number, number]>
  failedIds: number[]
  params: { metric: string; points: Array<[number, number, number]> } | null
  flops: { metric: string; points: Array<[number, number, number]> } | null
  latency: { metric: string; points: Array<[number, number, number]> } | null
}

/** Computes the series of the report's charts. */
export function reportData(trials: readonly StoredTrial[]): ReportData {
  const ordered = [...trials].sort((a, b) => a.id - b.id)
  const byTrial: Array<[number, number]> = []
  const bestByTrial: Array<[number, number]> = []
  let best = Number.NEGATIVE_INFINITY
  for (const t of ordered) {
    if (t.status !== 'ok' || t.objective === null) continue
    byTrial.push([t.id, t.objective])
    if (t.objective > best) best = t.objective
    bestByTrial.push([t.id, best])
  }
  const timed = ordered
    .filter((t) => t.status === 'ok' && t.objective !== null && t.elapsedMs !== null)
    .sort((a, b) => (a.elapsedMs as number) - (b.elapsedMs as number) || a.id - b.id)
  const byTime: Array<[number, number]> = []
  const bestByTime: Array<[number, number]> = []
  best = Number.NEGATIVE_INFINITY
  for (const t of timed) {
    const s = (t.elapsedMs as number) / 1000
    byTime.push([s, t.objective as number])
    if ((t.objective as number) > best) best = t.objective as number
    bestByTime.push([s, best])
  }
  const names = numericMetrics(ordered)
  const scatter = (metric: string | null) => {
    if (!metric) return null
    const points: Array<[number, number, number]> = []
    for (const t of ordered) {
      const v = t.metrics[metric]
      if (t.status === 'ok' && t.objective !== null && typeof v === 'number' && Number.isFinite(v))
        points.push([v, t.objective, t.id])
    }
    return points.length > 0 ? { metric, points } : null
  }
  return {
    byTrial,
    bestByTrial,
    byTime,
    bestByTime,
    failedIds: ordered.filter((t) => t.status === 'failed').map((t) => t.id),
    params: scatter(
      pickMetric(names, /^(params|parameters|num_?params|paramCount)$/i) ??
        pickMetric(names, /param/i),
    ),
    flops: scatter(
      pickMetric(names, /^(flops|macs|mflops|gflops)$/i) ?? pickMetric(names, /flop|mac/i),
    ),
    latency: scatter(pickMetric(names, /^latency(_ms)?$/i) ?? pickMetric(names, /latency/i)),
  }
}

const STYLE = `
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#1f2d3d;color:#fff;padding:18px 28px}header h1{margin:0 0 6px;font-size:22px}
header .meta{font-size:13px;opacity:.85}main{padding:20px 28px;max-width:1300px}
section{background:#fff;border:1px solid #e3e3e3;border-radius:8px;padding:14px 18px;margin:0 0 18px}
h2{font-size:17px;margin:0 0 10px}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(520px,100%),1fr));gap:18px}
*{box-sizing:border-box}.chart{height:340px}.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:13px}th,td{border-bottom:1px solid #eee;padding:5px 8px;text-align:left;vertical-align:top;white-space:nowrap}
th{background:#f3f5f7}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}code{font-size:12px;word-break:break-all}
td.key{max-width:260px;overflow:hidden;text-overflow:ellipsis}td.key code{word-break:normal;white-space:nowrap}
.arch{margin:12px 0 22px;overflow-x:auto}.arch svg{max-width:100%;height:auto}.arch h3{font-size:14px;margin:0 0 4px}.stats{display:flex;gap:26px;flex-wrap:wrap;font-size:14px}.stats b{font-size:18px;display:block}
dl.setup{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;font-size:13px;margin:0}dl.setup dt{color:#555}dl.setup dd{margin:0;overflow-wrap:anywhere}
.muted{color:#777;font-size:12px}
`

/** The data an experiment trains on, as its evaluator options name it. */
function datasetLine(cfg: StoredConfig): Array<[string, string]> {
  const o = (cfg.evaluator.options ?? {}) as Record<string, unknown>
  if (typeof o.dir === 'string') return [['data', o.dir]]
  if (typeof o.dataset === 'string') return [['data', o.dataset]]
  if (cfg.evaluator.name === 'mnist' || cfg.evaluator.name === 'fashion-mnist')
    return [['data', cfg.evaluator.name]]
  return []
}

/** Builds the self-contained HTML report of an experiment (no network needed to view it). */
export function renderReport(data: ExperimentData, opts: { top?: number } = {}): string {
  const top = opts.top ?? 10
  const ranked = rankTrials(data.trials)
  const chart = reportData(data.trials)
  const cfg = data.config
  const objectiveIs = objectiveMetric(data.trials)
  const metrics = numericMetrics(data.trials).filter((m) => m !== 'objective' && m !== objectiveIs)
  const failed = data.trials.filter((t) => t.status === 'failed')
  const space: SpaceSpec | undefined = cfg?.space
  const title = `naskit · ${cfg ? `${cfg.space.name} / ${cfg.strategy.name} / ${cfg.evaluator.name}` : data.dir}`

  const shown = ranked.slice(0, top)
  const objectiveFormat = columnFormat(
    'objective',
    shown.map((t) => t.objective),
  )
  const formats = new Map(
    metrics.map(
      (m) =>
        [
          m,
          columnFormat(
            m,
            shown.map((t) => t.metrics[m]),
          ),
        ] as const,
    ),
  )
  const topRows = shown
    .map(
      (t, i) =>
        `<tr><td class="num">${i + 1}</td><td class="num">${t.id}</td><td class="num">${objectiveFormat(t.objective)}</td>${metrics
          .map(
            (m) =>
              `<td class="num">${(formats.get(m) as (v: unknown) => string)(t.metrics[m])}</td>`,
          )
          .join(
            '',
          )}<td class="num">${t.timings ? formatDuration(t.timings.durationMs) : '—'}</td><td class="key" title="${escapeXml(t.key)}"><code>${escapeXml(t.key)}</code></td></tr>`,
    )
    .join('')
  const objectiveName = objectiveIs ? `objective (${objectiveIs})` : 'objective'
  const setup = cfg
    ? [
        ['space', cfg.space.name],
        [
          'strategy',
          `${cfg.strategy.name}${Object.keys(cfg.strategy.options ?? {}).length ? ` ${JSON.stringify(cfg.strategy.options)}` : ''}`,
        ],
        [
          'evaluator',
          `${cfg.evaluator.name}${Object.keys(cfg.evaluator.options ?? {}).length ? ` ${JSON.stringify(cfg.evaluator.options)}` : ''}`,
        ],
        ...datasetLine(cfg),
        ['objective', objectiveIs ? `${objectiveIs} (higher is better)` : 'higher is better'],
      ]
    : []
  const archBlocks = ranked
    .slice(0, Math.min(top, 5))
    .map(
      (t, i) =>
        `<div class="arch"><h3>#${i + 1} · trial ${t.id} · objective ${fmt(t.objective)}</h3>${
          t.damaged?.arch
            ? `<p class="muted">Its stored architecture is damaged: <code>${escapeXml(t.damaged.arch.text)}</code></p>`
            : `${archSvgs(t.arch, space).join('')}<div class="muted"><code>${escapeXml(JSON.stringify(t.arch))}</code></div>`
        }</div>`,
    )
    .join('')
  const failedRows = failed
    .slice(0, 50)
    .map(
      (t) =>
        `<tr><td class="num">${t.id}</td><td>${escapeXml(t.error?.code ?? '')}</td><td>${escapeXml(t.error?.message ?? '')}</td></tr>`,
    )
    .join('')
  const best = ranked[0]
  const stats = [
    ['trials', String(data.trials.length)],
    ['failed', String(failed.length)],
    ['best objective', best ? fmt(best.objective) : '—'],
    ['best trial', best ? String(best.id) : '—'],
    ['run time', data.elapsedMs !== undefined ? formatDuration(data.elapsedMs) : '—'],
    [
      'status',
      data.status
        ? `${data.status.status}${data.status.reason ? ` (${data.status.reason})` : ''}`
        : '—',
    ],
  ]
  const budget = cfg
    ? [
        cfg.budget.trials !== null ? `${cfg.budget.trials} trials` : null,
        cfg.budget.timeMs !== null ? formatDuration(cfg.budget.timeMs) : null,
        cfg.budget.target !== null ? `target ${cfg.budget.target}` : null,
        typeof cfg.budget.epochs === 'number' ? `${cfg.budget.epochs} epochs` : null,
      ]
        .filter(Boolean)
        .join(', ')
    : ''
  const json = JSON.stringify(chart).replace(/</g, '\\u003c')

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeXml(title)}</title><style>${STYLE}</style></head>
<body>
<header><h1>${escapeXml(title)}</h1><div class="meta">${escapeXml(data.dir)}${cfg ? ` · seed ${cfg.seed} · budget ${escapeXml(budget)} · ${cfg.workers} worker(s)` : ''}${data.createdAt ? ` · created ${new Date(data.createdAt).toISOString()}` : ''}</div></header>
<main>
${data.warnings?.length ? `<section id="warnings"><h2>Damaged records</h2><ul>${data.warnings.map((w) => `<li>${escapeXml(w)}</li>`).join('')}</ul></section>` : ''}
<section><div class="stats">${stats.map(([k, v]) => `<div><b>${escapeXml(v as string)}</b>${escapeXml(k as string)}</div>`).join('')}</div>${data.status?.message ? `<p class="muted">${escapeXml(data.status.message)}</p>` : ''}</section>
${setup.length ? `<section id="setup"><h2>Setup</h2><dl class="setup">${setup.map(([k, v]) => `<dt>${escapeXml(k as string)}</dt><dd>${escapeXml(v as string)}</dd>`).join('')}</dl></section>` : ''}
<div class="grid">
<section><h2>Best so far, by trial</h2><div id="chart-trial" class="chart"></div></section>
<section><h2>Best so far, by time</h2><div id="chart-time" class="chart"></div></section>
${chart.params ? `<section><h2>Objective vs ${escapeXml(chart.params.metric)}</h2><div id="chart-params" class="chart"></div></section>` : ''}
${chart.flops ? `<section><h2>Objective vs ${escapeXml(chart.flops.metric)}</h2><div id="chart-flops" class="chart"></div></section>` : ''}
${chart.latency ? `<section><h2>Objective vs ${escapeXml(chart.latency.metric)}</h2><div id="chart-latency" class="chart"></div></section>` : ''}
</div>
<section><h2>Top ${Math.min(top, ranked.length)} architectures</h2>
<div class="scroll"><table id="top-table"><thead><tr><th class="num">rank</th><th class="num">trial</th><th class="num">${escapeXml(objectiveName)}</th>${metrics.map((m) => `<th class="num">${escapeXml(m)}</th>`).join('')}<th class="num">time</th><th>key</th></tr></thead><tbody>${topRows}</tbody></table></div></section>
<section><h2>Top architectures as graphs</h2>${archBlocks || '<p class="muted">No successful trials yet.</p>'}</section>
${failed.length > 0 ? `<section><h2>Failed trials (${failed.length})</h2><table id="failed-table"><thead><tr><th>trial</th><th>code</th><th>reason</th></tr></thead><tbody>${failedRows}</tbody></table>${failed.length > 50 ? '<p class="muted">First 50 shown.</p>' : ''}</section>` : ''}
<p class="muted">Generated by naskit${data.versions?.['@naskit/runner'] ? ` ${escapeXml(String(data.versions['@naskit/runner']))}` : ''} on ${new Date().toISOString()}.</p>
</main>
<script id="naskit-data" type="application/json">${json}</script>
<script>${echartsScript()}</script>
<script>
(function () {
  var data = JSON.parse(document.getElementById('naskit-data').textContent);
  var charts = [];
  function line(id, xName, points, best) {
    var el = document.getElementById(id);
    if (!el) return;
    var chart = echarts.init(el, null, { renderer: 'canvas' });
    chart.setOption({
      animation: false,
      tooltip: { trigger: 'item' },
      legend: { top: 0 },
      grid: { left: 74, right: 20, top: 36, bottom: 46 },
      xAxis: { type: 'value', name: xName, nameLocation: 'middle', nameGap: 28, scale: true, minInterval: xName === 'trial' ? 1 : 0 },
      yAxis: { type: 'value', name: 'objective', nameLocation: 'middle', nameGap: 52, scale: true },
      dataZoom: [{ type: 'inside' }],
      series: [
        { name: 'trial', type: 'scatter', symbolSize: 5, data: points, itemStyle: { opacity: 0.55 } },
        { name: 'best so far', type: 'line', step: 'end', showSymbol: false, data: best, lineStyle: { width: 2 } }
      ]
    });
    charts.push(chart);
  }
  function scatter(id, series) {
    var el = document.getElementById(id);
    if (!el || !series) return;
    var chart = echarts.init(el, null, { renderer: 'canvas' });
    chart.setOption({
      animation: false,
      tooltip: { trigger: 'item', formatter: function (p) { return 'trial ' + p.value[2] + '<br>' + series.metric + ' ' + p.value[0] + '<br>objective ' + p.value[1]; } },
      grid: { left: 74, right: 20, top: 20, bottom: 46 },
      xAxis: { type: series.points.every(function (p) { return p[0] > 0; }) ? 'log' : 'value', name: series.metric, nameLocation: 'middle', nameGap: 28, scale: true },
      yAxis: { type: 'value', name: 'objective', nameLocation: 'middle', nameGap: 52, scale: true },
      series: [{ name: series.metric, type: 'scatter', symbolSize: 6, data: series.points }]
    });
    charts.push(chart);
  }
  line('chart-trial', 'trial', data.byTrial, data.bestByTrial);
  line('chart-time', 'seconds', data.byTime, data.bestByTime);
  scatter('chart-params', data.params);
  scatter('chart-flops', data.flops);
  scatter('chart-latency', data.latency);
  window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });
  window.naskitCharts = charts;
})();
</script>
</body></html>
`
}

/**
 * Writes `report.html` (or `file`) for an experiment folder and returns its path; damaged
 * records (see {@link ExperimentData.warnings}) are reported to `onWarning` and in the page.
 */
export async function writeReport(
  dir: string,
  opts: { file?: string; top?: number; onWarning?: (message: string) => void } = {},
): Promise<string> {
  const data = readExperiment(dir)
  if (!data.config && !data.damagedSettings?.includes('config'))
    throw new NaskitError(
      'E_NO_EXPERIMENT',
      `${dir} holds no experiment yet (no configuration stored).`,
    )
  for (const w of data.warnings ?? []) opts.onWarning?.(w)
  return writeOutputFile(
    opts.file ?? join(data.dir, 'report.html'),
    data.dir,
    renderReport(data, opts.top === undefined ? {} : { top: opts.top }),
  )
}
