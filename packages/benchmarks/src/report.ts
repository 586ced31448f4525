import type { SuiteResult } from './suite'
import type { Nb201Dataset } from './table'

/** A published result, shown next to the measured ones. */
export interface ReferenceRow {
  label: string
  source: string
  mean: number
  std?: number
}

/**
 * Published NAS-Bench-201 figures (200-epoch test accuracy): REINFORCE from the NAS-Bench-201
 * paper (Dong & Yang, ICLR 2020) and the optimum of the table.
 */
export const NB201_REFERENCES: Readonly<Record<Nb201Dataset, readonly ReferenceRow[]>> = {
  cifar10: [
    { label: 'REINFORCE', source: 'NAS-Bench-201 paper', mean: 93.85, std: 0.37 },
    { label: 'optimum', source: 'NAS-Bench-201 paper', mean: 94.37 },
  ],
  cifar100: [
    { label: 'REINFORCE', source: 'NAS-Bench-201 paper', mean: 71.71, std: 1.09 },
    { label: 'optimum', source: 'NAS-Bench-201 paper', mean: 73.51 },
  ],
  imagenet16: [
    { label: 'REINFORCE', source: 'NAS-Bench-201 paper', mean: 45.24, std: 1.18 },
    { label: 'optimum', source: 'NAS-Bench-201 paper', mean: 47.31 },
  ],
}

export const DATASET_TITLES: Readonly<Record<Nb201Dataset, string>> = {
  cifar10: 'CIFAR-10',
  cifar100: 'CIFAR-100',
  imagenet16: 'ImageNet16-120',
}

const f2 = (v: number) => v.toFixed(2)

/** Query counts at which the markdown table shows the mean best-so-far value. */
export function checkpoints(queries: number): number[] {
  const out = [10, 25, 50].filter((q) => q < queries)
  out.push(queries)
  return out
}

/** ` (seeds A–B)` when the seeds are not 0…N−1, else the empty string. */
function seedRange(seeds: readonly number[]): string {
  if (seeds.every((v, i) => v === i)) return ''
  const contiguous = seeds.every((v, i) => i === 0 || v === (seeds[i - 1] as number) + 1)
  return contiguous
    ? ` (seeds ${seeds[0]}–${seeds[seeds.length - 1]})`
    : ` (seeds ${seeds.slice(0, 5).join(', ')}${seeds.length > 5 ? ', …' : ''})`
}

/** The markdown report: measured rows, published reference rows, skipped strategies. */
export function suiteMarkdown(result: SuiteResult): string {
  const { dataset, queries, optimum } = result
  const marks = checkpoints(queries)
  const lines: string[] = []
  lines.push(
    `## NAS-Bench-201 · ${DATASET_TITLES[dataset]} · ${queries} queries × ${result.seeds.length} seeds${seedRange(result.seeds)}`,
  )
  lines.push('')
  lines.push(
    `Result of a run: \`${dataset}_test\` (200-epoch test accuracy, %) of the architecture with the best \`${dataset}_valid_12ep\` among the ${queries} unique architectures it queried. Mean ± standard deviation over seeds; regret to the table's optimum (${f2(optimum.value)}).`,
  )
  lines.push('')
  const head = [
    'strategy',
    'test accuracy',
    'regret',
    'median',
    'worst',
    'best',
    ...marks.map((q) => `@${q}`),
  ]
  lines.push(`| ${head.join(' | ')} |`)
  lines.push(`| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`)
  for (const s of result.summaries) {
    const row = [
      s.strategy,
      `${f2(s.mean)} ± ${f2(s.std)}`,
      f2(s.regret),
      f2(s.median),
      f2(s.min),
      f2(s.max),
      ...marks.map((q) => f2(s.curve[q - 1] as number)),
    ]
    lines.push(`| ${row.join(' | ')} |`)
  }
  for (const ref of NB201_REFERENCES[dataset]) {
    const row = [
      `*${ref.label} (${ref.source})*`,
      ref.std === undefined ? f2(ref.mean) : `${f2(ref.mean)} ± ${f2(ref.std)}`,
      f2(Math.max(0, optimum.value - ref.mean)),
      '',
      '',
      '',
      ...marks.map(() => ''),
    ]
    lines.push(`| ${row.join(' | ')} |`)
  }
  lines.push('')
  lines.push(
    `\`@N\`: mean best-so-far result after N queries. Table optimum: ${optimum.arch} (index ${optimum.index}).`,
  )
  for (const s of result.summaries) {
    const stopped = result.runs.filter((r) => r.strategy === s.strategy && r.stopped !== undefined)
    if (stopped.length > 0)
      lines.push(
        `- ${s.strategy}: ${stopped.length} run(s) stopped early (${stopped[0]?.stopped}).`,
      )
  }
  for (const skip of result.skipped) lines.push(`- skipped ${skip.strategy}: ${skip.reason}`)
  return `${lines.join('\n')}\n`
}

const PALETTE = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#7f7f7f',
  '#bcbd22',
]

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

function niceStep(span: number, target: number): number {
  const raw = span / target
  const mag = 10 ** Math.floor(Math.log10(raw))
  const norm = raw / mag
  return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag
}

/** A self-contained SVG of the mean best-so-far curves, with the table's optimum dashed. */
export function suiteSvg(
  result: SuiteResult,
  size: { width?: number; height?: number } = {},
): string {
  const width = size.width ?? 720
  const height = size.height ?? 420
  const m = { left: 60, right: 170, top: 40, bottom: 50 }
  const pw = width - m.left - m.right
  const ph = height - m.top - m.bottom
  const q = result.queries
  const values = result.summaries.flatMap((s) => s.curve)
  const top = result.optimum.value
  // skip the first queries' steep part so the interesting region is visible
  const tail = result.summaries.flatMap((s) => s.curve.slice(Math.min(q - 1, Math.floor(q / 10))))
  let lo = Math.min(...(tail.length ? tail : values), top)
  let hi = top
  if (!(hi > lo)) {
    lo -= 1
    hi += 1
  }
  const pad = (hi - lo) * 0.08
  lo -= pad
  hi += pad
  const x = (i: number) => m.left + (q === 1 ? pw / 2 : ((i - 1) / (q - 1)) * pw)
  const y = (v: number) => m.top + (1 - (v - lo) / (hi - lo)) * ph
  const out: string[] = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  )
  out.push(`<rect width="${width}" height="${height}" fill="#fff"/>`)
  out.push(
    `<defs><clipPath id="plot-area"><rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}"/></clipPath></defs>`,
  )
  out.push(
    `<text x="${m.left}" y="22" font-size="14" font-weight="bold">${esc(`NAS-Bench-201 ${DATASET_TITLES[result.dataset]}: mean best-so-far test accuracy (${result.seeds.length} seeds)`)}</text>`,
  )
  const ys = niceStep(hi - lo, 6)
  for (let v = Math.ceil(lo / ys) * ys; v <= hi + 1e-9; v += ys) {
    out.push(
      `<line x1="${m.left}" x2="${m.left + pw}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e5e5"/>`,
    )
    out.push(
      `<text x="${m.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v.toFixed(ys < 0.1 ? 2 : ys < 1 ? 1 : 0)}</text>`,
    )
  }
  const xs = Math.max(1, niceStep(Math.max(1, q - 1), 8))
  for (let i = xs; i <= q; i += xs) {
    out.push(
      `<line x1="${x(i).toFixed(1)}" x2="${x(i).toFixed(1)}" y1="${m.top + ph}" y2="${m.top + ph + 4}" stroke="#333"/>`,
    )
    out.push(
      `<text x="${x(i).toFixed(1)}" y="${m.top + ph + 18}" text-anchor="middle">${Math.round(i)}</text>`,
    )
  }
  out.push(
    `<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`,
  )
  out.push(
    `<text x="${m.left + pw / 2}" y="${height - 10}" text-anchor="middle">queries (unique architectures)</text>`,
  )
  out.push(
    `<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(`${result.dataset}_test (%)`)}</text>`,
  )
  out.push(
    `<line x1="${m.left}" x2="${m.left + pw}" y1="${y(top).toFixed(1)}" y2="${y(top).toFixed(1)}" stroke="#555" stroke-dasharray="6 4"/>`,
  )
  const legend = (i: number, color: string, label: string, dashed = false) => {
    const ly = m.top + 12 + i * 20
    out.push(
      `<line x1="${m.left + pw + 12}" x2="${m.left + pw + 36}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    )
    out.push(`<text x="${m.left + pw + 42}" y="${ly + 4}">${esc(label)}</text>`)
  }
  result.summaries.forEach((s, k) => {
    const color = PALETTE[k % PALETTE.length] as string
    const pts = s.curve.map((v, i) => `${x(i + 1).toFixed(1)},${y(v).toFixed(1)}`).join(' ')
    out.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2" clip-path="url(#plot-area)" points="${pts}"/>`,
    )
    legend(k, color, `${s.strategy} ${f2(s.mean)}`)
  })
  legend(result.summaries.length, '#555', `optimum ${f2(top)}`, true)
  out.push('</svg>')
  return `${out.join('\n')}\n`
}

/** JSON of the whole suite: settings, summaries and every run. */
export function suiteJson(result: SuiteResult): string {
  return `${JSON.stringify(result, null, 2)}\n`
}
