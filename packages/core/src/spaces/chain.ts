import { categorical, float, int, repeat } from '../space/dsl'
import { defineSpace, type SearchSpace } from '../space/space'

/** The operations of the chain space. */
export const CHAIN_OPS = [
  'conv_3x3',
  'conv_5x5',
  'max_pool_3x3',
  'avg_pool_3x3',
  'skip_connect',
  'sep_conv_3x3',
  'sep_conv_5x5',
  'attention',
] as const

export interface ChainSpaceOptions {
  /** Operations a layer can take. @default CHAIN_OPS */
  ops?: readonly string[]
  /** Number of layers. @default { min: 4, max: 12 } */
  depth?: { min: number; max: number }
  /** Width multiplier on every layer's channels. @default { low: 0.5, high: 1.5, step: 0.25 } */
  widthMultiplier?: { low: number; high: number; step?: number }
  /** Input resolution in pixels. @default { low: 224, high: 384, step: 32 } */
  resolution?: { low: number; high: number; step?: number }
  /** Space name. @default 'chain' */
  name?: string
}

/**
 * The chain space: a sequence of 4–12 layers, each one operation, with a global width
 * multiplier and input resolution. Every range can be overridden (small inputs such as MNIST
 * need smaller resolutions, e.g. `resolution: { low: 16, high: 28, step: 4 }`).
 *
 * Architectures look like `{ layers: [{ op: 'conv_3x3' }, …], width_multiplier: 1, resolution: 224 }`.
 */
export function chainSpace(options: ChainSpaceOptions = {}): SearchSpace {
  const depth = options.depth ?? { min: 4, max: 12 }
  const width = options.widthMultiplier ?? { low: 0.5, high: 1.5, step: 0.25 }
  const res = options.resolution ?? { low: 224, high: 384, step: 32 }
  return defineSpace(
    options.name ?? 'chain',
    {
      layers: repeat(
        depth,
        { op: categorical(options.ops ?? CHAIN_OPS, { description: 'operation of the layer' }) },
        {
          description: 'the layers; their count is the depth',
        },
      ),
      width_multiplier: float(width.low, width.high, {
        ...(width.step === undefined ? {} : { step: width.step }),
        description: 'multiplier on every layer’s channels',
      }),
      resolution: int(res.low, res.high, {
        step: res.step ?? 1,
        description: 'input resolution in pixels',
      }),
    },
    {
      kind: 'chain',
      description: 'A chain of layers with a width multiplier and input resolution.',
    },
  )
}
