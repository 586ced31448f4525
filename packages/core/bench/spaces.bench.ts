/**
 * Throughput of the search-space DSL: sample + validate + key per second for the
 * NAS-Bench-201 and chain spaces, and NAS-Bench-201 arch-string parses per second.
 * Each figure is the median of several timed rounds, after a warm-up.
 *
 *   pnpm --filter @naskit/core bench
 */
import {
  chainSpace,
  createRng,
  nb201FromString,
  nb201Space,
  nb201ToString,
  type SearchSpace,
} from '../src/index'

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

function rate(work: (n: number) => number, n: number, rounds = 7): number {
  work(n) // warm-up
  const rates: number[] = []
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint()
    const sink = work(n)
    const dt = Number(process.hrtime.bigint() - t0) / 1e9
    if (sink === -1) console.log('')
    rates.push(n / dt)
  }
  return median(rates)
}

function sampleValidateKey(space: SearchSpace) {
  const rng = createRng(1)
  return (n: number) => {
    let len = 0
    for (let i = 0; i < n; i++) {
      const a = space.sample(rng)
      space.validate(a)
      len += space.key(a).length
    }
    return len
  }
}

const nb201 = nb201Space()
const strings: string[] = []
const rng = createRng(2)
for (let i = 0; i < 1000; i++) strings.push(nb201ToString(nb201.sample(rng)))

const results = [
  {
    figure: 'nb201 sample+validate+key',
    perSecond: rate(sampleValidateKey(nb201), 200_000),
    target: 200_000,
  },
  {
    figure: 'chain sample+validate+key',
    perSecond: rate(sampleValidateKey(chainSpace()), 50_000),
    target: 50_000,
  },
  {
    figure: 'nb201 arch-string parses',
    perSecond: rate((n) => {
      let c = 0
      for (let i = 0; i < n; i++)
        c += (nb201FromString(strings[i % 1000] as string).cell as { nodes: unknown[] }).nodes
          .length
      return c
    }, 500_000),
    target: 500_000,
  },
]

console.log(`node ${process.version}, median of 7 rounds\n`)
console.log('| figure | per second | target | ok |')
console.log('| --- | ---: | ---: | :---: |')
for (const r of results) {
  console.log(
    `| ${r.figure} | ${Math.round(r.perSecond).toLocaleString('en-US')} | ≥ ${r.target.toLocaleString('en-US')} | ${r.perSecond >= r.target ? 'yes' : 'NO'} |`,
  )
}
