import { describe, expect, it } from 'vitest'
import {
  formatDuration,
  jsonReporter,
  lineReporter,
  type RunEvent,
  ttyReporter,
} from '../src/index'

const budget = { trials: 4, timeMs: null, target: null }
const start: RunEvent = {
  type: 'start',
  dir: '/runs/x',
  resumed: false,
  space: 'nb201',
  strategy: 'random',
  evaluator: 'nb201',
  executor: 'inline',
  workers: 2,
  budget,
  done: 0,
  failed: 0,
  rerun: 0,
  elapsedMs: 0,
}
const trial = (id: number, objective: number | null): RunEvent => ({
  type: 'trial',
  trial: {
    id,
    arch: {},
    key: `k${id}`,
    status: objective === null ? 'failed' : 'ok',
    objective,
    metrics: {},
  },
  done: id + 1,
  failed: objective === null ? 1 : 0,
  running: 1,
  best: { id: 0, objective: 0.91 },
  elapsedMs: 1000 * (id + 1),
  budget,
})
const end: RunEvent = {
  type: 'end',
  dir: '/runs/x',
  status: 'interrupted',
  reason: 'interrupted',
  message: 'Interrupted.',
  done: 4,
  failed: 1,
  best: { id: 0, objective: 0.91 },
  elapsedMs: 4000,
  resumeCommand: 'naskit search --out /runs/x',
}

function sink() {
  const chunks: string[] = []
  return { chunks, out: { write: (t: string) => void chunks.push(t), columns: 100 } }
}

describe('progress reporters', () => {
  it('formats durations', () => {
    expect(formatDuration(12_400)).toBe('12s')
    expect(formatDuration(185_000)).toBe('3m05s')
    expect(formatDuration(3_720_000)).toBe('1h02m')
  })

  it('prints NDJSON events', () => {
    const s = sink()
    const report = jsonReporter(s.out)
    for (const e of [start, trial(0, 0.91), end]) report(e)
    const lines = s.chunks
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines.map((l) => l.type)).toEqual(['start', 'trial', 'end'])
    expect(lines[1].trial.key).toBe('k0')
  })

  it('prints plain lines off a terminal, with the resume command at the end', () => {
    const s = sink()
    const report = lineReporter(s.out, 0)
    for (const e of [start, trial(0, 0.91), trial(1, null), end]) report(e)
    const text = s.chunks.join('')
    expect(text).toContain(
      'Searching into /runs/x: space nb201, strategy random, evaluator nb201 (2 in flight, in-process).',
    )
    expect(text).toMatch(
      /\[naskit\] 2\/4 trials · best 0\.9100 \(#0\) · 1 running · 1 failed · 2s · ETA \d+s/,
    )
    expect(text).toContain('Resume with: naskit search --out /runs/x')
  })

  it('redraws one bar line on a terminal', () => {
    const s = sink()
    const report = ttyReporter(s.out)
    for (const e of [start, trial(0, 0.91), trial(1, 0.5), end]) report(e)
    const text = s.chunks.join('')
    expect(text).toContain('\r\x1b[2K[')
    expect(text).toMatch(/█+░+\] 2\/4 trials · best 0\.9100 \(#0\)/)
    expect(text).toContain('Resume with: naskit search --out /runs/x')
  })
})

describe('multi-fidelity rungs in the progress line', () => {
  it('counts trials per fidelity once there are several, lowest first', () => {
    const { chunks, out } = sink()
    const report = lineReporter(out, 0)
    report(start)
    const at = (id: number, epochs: number): RunEvent => {
      const e = trial(id, 0.5) as Extract<RunEvent, { type: 'trial' }>
      return { ...e, trial: { ...e.trial, fidelity: { epochs } } }
    }
    report(at(0, 3))
    expect(chunks.join('')).not.toContain('by fidelity')
    report(at(1, 1))
    report(at(2, 1))
    expect(chunks.at(-1)).toContain('by fidelity 1 ep 2 · 3 ep 1')
  })
})
