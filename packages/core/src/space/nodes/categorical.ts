import type { Rng } from '../../rng'
import type { ArchValue, CategoricalSpec, Choice, Chooser } from '../types'
import {
  bad,
  type DecisionNode,
  describeValue,
  FORBIDDEN_IN_CHOICE,
  type Issue,
  type Traced,
} from './shared'

function choiceKey(c: Choice): string {
  return typeof c === 'string' ? c : String(c)
}

/** A choice among listed values. */
export class CategoricalNode implements DecisionNode {
  readonly encodingLength: number
  private readonly index = new Map<Choice, number>()
  private readonly labels: string[]

  constructor(
    readonly spec: CategoricalSpec,
    path: string,
  ) {
    if (!Array.isArray(spec.choices) || spec.choices.length === 0)
      throw bad(path, 'a categorical decision needs at least one choice.')
    spec.choices.forEach((c, i) => {
      if (typeof c !== 'string' && typeof c !== 'number' && typeof c !== 'boolean') {
        throw bad(
          path,
          `choice ${i} is ${describeValue(c)}; choices are strings, numbers or booleans.`,
        )
      }
      if (typeof c === 'number' && !Number.isFinite(c))
        throw bad(path, `choice ${i} is not a finite number.`)
      if (typeof c === 'string' && (c === '' || FORBIDDEN_IN_CHOICE.test(c))) {
        throw bad(
          path,
          `choice ${JSON.stringify(c)} is empty or holds one of the reserved characters ;={}[],|~+ or a space.`,
        )
      }
      if (this.index.has(c)) throw bad(path, `choice ${JSON.stringify(c)} appears twice.`)
      this.index.set(c, i)
    })
    this.encodingLength = spec.choices.length
    this.labels = spec.choices.map(choiceKey)
  }

  sample(rng: Rng): ArchValue {
    const cs = this.spec.choices
    return cs[Math.floor(rng.next() * cs.length)] as Choice
  }

  check(value: unknown): Issue | null {
    if (this.index.has(value as Choice)) return null
    const list =
      this.labels.length > 12 ? `${this.labels.slice(0, 12).join(', ')}, …` : this.labels.join(', ')
    return { path: '', message: `${describeValue(value)} is not one of ${list}` }
  }

  canonical(value: ArchValue): ArchValue {
    return value
  }

  key(value: ArchValue): string {
    return typeof value === 'string' ? value : String(value)
  }

  size(): bigint {
    return BigInt(this.spec.choices.length)
  }

  *enumerate(): Generator<ArchValue> {
    yield* this.spec.choices
  }

  encode(value: ArchValue, out: number[], offset: number): void {
    out[offset + (this.index.get(value as Choice) as number)] = 1
  }

  sites(): number {
    return this.spec.choices.length > 1 ? 1 : 0
  }

  mutate(value: ArchValue, _site: number, rng: Rng): ArchValue {
    const cs = this.spec.choices
    const cur = this.index.get(value as Choice) as number
    const j = rng.int(cs.length - 1)
    return cs[j >= cur ? j + 1 : j] as Choice
  }

  neighbours(value: ArchValue): ArchValue[] {
    return this.spec.choices.filter((c) => c !== value)
  }

  build(choose: Chooser, id: string, group: string): ArchValue {
    const cs = this.spec.choices
    const i = choose({ id, group, kind: 'categorical', n: cs.length, labels: this.labels })
    return cs[i] as Choice
  }

  trace(value: ArchValue, id: string, group: string, out: Traced): void {
    out.push({
      point: { id, group, kind: 'categorical', n: this.spec.choices.length, labels: this.labels },
      index: this.index.get(value as Choice) as number,
    })
  }
}
