import type { Arch, ArchValue, CellValue, DecisionSpec, SpaceSpec } from '@naskit/core'

/** Escapes text for HTML and SVG. */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  )
}

const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#59a14f',
  '#e15759',
  '#76b7b2',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
]

function colourOf(label: string): string {
  let h = 0
  for (let i = 0; i < label.length; i++) h = (h * 31 + label.charCodeAt(i)) >>> 0
  return PALETTE[h % PALETTE.length] as string
}

function isCell(v: ArchValue | undefined): v is CellValue {
  return (
    v !== null &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    Array.isArray((v as { nodes?: unknown }).nodes) &&
    (v as CellValue).nodes.every((n) => n && Array.isArray(n.inputs) && Array.isArray(n.ops))
  )
}

function isLayerList(v: ArchValue | undefined): v is Arch[] {
  return (
    Array.isArray(v) && v.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x))
  )
}

function cellInputs(space: SpaceSpec | undefined, name: string, cell: CellValue): number {
  const spec = findSpec(space?.decisions, name)
  if (spec?.type === 'cell') return spec.inputs
  let k = 1
  cell.nodes.forEach((n, i) => {
    for (const input of n.inputs) k = Math.max(k, input - i + 1)
  })
  return k
}

function findSpec(
  decisions: Record<string, DecisionSpec> | undefined,
  name: string,
): DecisionSpec | undefined {
  if (!decisions) return undefined
  if (decisions[name]) return decisions[name]
  for (const d of Object.values(decisions)) {
    if (d.type === 'group') {
      const found = findSpec(d.decisions, name)
      if (found) return found
    }
  }
  return undefined
}

/**
 * Draws a DAG cell: input nodes, intermediate nodes left to right, one curved edge per
 * incoming operation (labelled and coloured by op; `none` edges are left out), and the
 * output fed by the last node (one input) or by every intermediate node (several inputs).
 */
export function cellSvg(cell: CellValue, inputs: number, title: string): string {
  const total = inputs + cell.nodes.length
  const gap = 130
  const width = (total + 1) * gap
  const height = 215
  const y = 150
  const xOf = (i: number) => 50 + i * gap
  const parts: string[] = []
  const labels: string[] = []
  cell.nodes.forEach((node, i) => {
    const target = inputs + i
    node.inputs.forEach((src, j) => {
      const op = node.ops[j] ?? '?'
      if (op === 'none' || op === 'zero') return
      const x1 = xOf(src)
      const x2 = xOf(target)
      const lift = Math.min(110, 25 + (x2 - x1) / 4)
      const mx = (x1 + x2) / 2
      const colour = colourOf(op)
      parts.push(
        `<path d="M${x1 + 18},${y - 8} Q${mx},${y - 2 * lift} ${x2 - 18},${y - 8}" fill="none" stroke="${colour}" stroke-width="2.2" marker-end="url(#arrow)"><title>${escapeXml(`${op}: ${src} → ${target}`)}</title></path>`,
      )
      labels.push(
        `<text x="${mx}" y="${y - lift - 2}" font-size="11" text-anchor="middle" fill="${colour}" paint-order="stroke" stroke="#fff" stroke-width="3">${escapeXml(op)}</text>`,
      )
    })
  })
  const out = xOf(total)
  const outputs = inputs === 1 ? [total - 1] : cell.nodes.map((_, i) => inputs + i)
  for (const src of outputs) {
    parts.push(
      `<path d="M${xOf(src) + 18},${y + 8} Q${(xOf(src) + out) / 2},${y + 60} ${out - 18},${y + 8}" fill="none" stroke="#999" stroke-dasharray="4 3" stroke-width="1.4" marker-end="url(#arrow)"/>`,
    )
  }
  for (let i = 0; i < total; i++) {
    const isInput = i < inputs
    parts.push(
      `<circle cx="${xOf(i)}" cy="${y}" r="17" fill="${isInput ? '#eef3fb' : '#fff'}" stroke="#333" stroke-width="1.5"/><text x="${xOf(i)}" y="${y + 4}" font-size="12" text-anchor="middle">${isInput ? `in${inputs > 1 ? i : ''}` : i}</text>`,
    )
  }
  parts.push(
    `<rect x="${out - 20}" y="${y - 14}" width="40" height="28" rx="6" fill="#f5f5f5" stroke="#333"/><text x="${out}" y="${y + 4}" font-size="11" text-anchor="middle">out</text>`,
  )
  return svg(width, height, title, [...parts, ...labels])
}

function describeLayer(layer: Arch): { label: string; sub: string; skip: boolean } {
  const entries = Object.entries(layer).filter(([, v]) => typeof v !== 'object' || v === null)
  const skip = layer.skip === true
  let labelKey: string | undefined = entries.find(
    ([k]) => k === 'op' || k === 'operation' || k === 'type',
  )?.[0]
  let label: string
  if (labelKey !== undefined) label = String(layer[labelKey])
  else if (typeof layer.kernel === 'number') {
    labelKey = 'kernel'
    label = `conv ${layer.kernel}×${layer.kernel}`
  } else {
    labelKey = entries[0]?.[0]
    label = labelKey === undefined ? 'layer' : `${labelKey} ${String(layer[labelKey])}`
  }
  const sub = entries
    .filter(([k]) => k !== labelKey && k !== 'skip')
    .map(([k, v]) => `${k === 'channels' ? 'ch' : k} ${String(v)}`)
    .join(' · ')
  return { label, sub, skip }
}

/** Draws a layer chain: input → one box per layer → output, with skip connections as arcs. */
export function chainSvg(layers: Arch[], title: string, caption: string): string {
  const boxW = 112
  const gap = 28
  const width = 80 + (layers.length + 2) * (boxW + gap)
  const height = 190
  const y = 90
  const parts: string[] = []
  const xOf = (i: number) => 20 + i * (boxW + gap)
  const box = (i: number, label: string, sub: string, fill: string) => {
    const x = xOf(i)
    parts.push(
      `<rect x="${x}" y="${y - 26}" width="${boxW}" height="52" rx="8" fill="${fill}" stroke="#333" stroke-width="1.2"/>`,
      `<text x="${x + boxW / 2}" y="${y - 4}" font-size="12" text-anchor="middle" font-weight="600">${escapeXml(label)}</text>`,
      `<text x="${x + boxW / 2}" y="${y + 14}" font-size="10" text-anchor="middle" fill="#444">${escapeXml(sub)}</text>`,
    )
  }
  box(0, 'input', '', '#eef3fb')
  layers.forEach((layer, i) => {
    const d = describeLayer(layer)
    box(i + 1, d.label, d.sub, `${colourOf(d.label)}33`)
    if (d.skip) {
      const x1 = xOf(i) + boxW / 2
      const x2 = xOf(i + 2) + boxW / 2
      parts.push(
        `<path d="M${x1},${y - 26} C${x1},${y - 80} ${x2},${y - 80} ${x2},${y - 28}" fill="none" stroke="#e15759" stroke-width="1.6" stroke-dasharray="5 3" marker-end="url(#arrow)"><title>skip connection around layer ${i + 1}</title></path>`,
      )
    }
  })
  box(layers.length + 1, 'output', '', '#f5f5f5')
  for (let i = 0; i <= layers.length; i++) {
    parts.push(
      `<line x1="${xOf(i) + boxW}" y1="${y}" x2="${xOf(i + 1) - 2}" y2="${y}" stroke="#333" stroke-width="1.5" marker-end="url(#arrow)"/>`,
    )
  }
  if (caption)
    parts.push(
      `<text x="20" y="${height - 14}" font-size="12" fill="#333">${escapeXml(caption)}</text>`,
    )
  return svg(width, height, title, parts)
}

function svg(width: number, height: number, title: string, parts: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="100%" style="max-width:${width}px" role="img" aria-label="${escapeXml(title)}" class="arch-graph">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
    `<text x="10" y="20" font-size="13" font-weight="600">${escapeXml(title)}</text>`,
    ...parts,
    '</svg>',
  ].join('')
}

function scalarCaption(arch: Arch, skip: Set<string>): string {
  return Object.entries(arch)
    .filter(([k, v]) => !skip.has(k) && (typeof v !== 'object' || v === null))
    .map(([k, v]) => `${k} = ${String(v)}`)
    .join('   ')
}

/**
 * Draws an architecture as SVG graphs: each DAG cell as a cell graph, each list of layers as a
 * chain (scalar decisions as its caption), anything else as a caption.
 */
export function archSvgs(arch: Arch, space?: SpaceSpec): string[] {
  const out: string[] = []
  const drawn = new Set<string>()
  for (const [name, value] of Object.entries(arch)) {
    if (isCell(value)) {
      out.push(
        cellSvg(value, cellInputs(space, name, value), /cell/i.test(name) ? name : `${name} cell`),
      )
      drawn.add(name)
    }
  }
  for (const [name, value] of Object.entries(arch)) {
    if (isLayerList(value)) {
      drawn.add(name)
      out.push(
        chainSvg(
          value,
          `${name} (${value.length})`,
          scalarCaption(arch, new Set([...drawn, name])),
        ),
      )
    }
  }
  if (out.length === 0) {
    const caption = scalarCaption(arch, drawn)
    out.push(
      svg(Math.max(300, caption.length * 7 + 40), 60, 'architecture', [
        `<text x="10" y="44" font-size="12">${escapeXml(caption || JSON.stringify(arch))}</text>`,
      ]),
    )
  }
  return out
}
