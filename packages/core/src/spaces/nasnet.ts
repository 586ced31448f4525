import { categorical, int, repeat } from '../space/dsl'
import { defineSpace, type SearchSpace } from '../space/space'

export interface NasnetSpaceOptions {
  /** Kernel sizes. @default [3, 5, 7] */
  kernels?: readonly number[]
  /** Feature channels per block (log-scale grid). @default { low: 16, high: 512, step: 16 } */
  channels?: { low: number; high: number; step?: number }
  /** Number of repeated blocks. @default { min: 4, max: 12 } */
  repeats?: { min: number; max: number }
  /** Space name. @default 'nasnet' */
  name?: string
}

/**
 * A NASNet-style space: 4–12 repeated blocks, each with a kernel size (3×3, 5×5, 7×7), a
 * number of feature channels (16–512) and a skip connection (yes/no).
 *
 * Architectures look like `{ blocks: [{ kernel: 3, channels: 64, skip: true }, …] }`.
 */
export function nasnetSpace(options: NasnetSpaceOptions = {}): SearchSpace {
  const ch = options.channels ?? { low: 16, high: 512, step: 16 }
  return defineSpace(
    options.name ?? 'nasnet',
    {
      blocks: repeat(
        options.repeats ?? { min: 4, max: 12 },
        {
          kernel: categorical(options.kernels ?? [3, 5, 7], { description: 'kernel size' }),
          channels: int(ch.low, ch.high, {
            step: ch.step ?? 1,
            log: true,
            description: 'feature channels',
          }),
          skip: categorical([true, false], {
            description: 'residual skip connection around the block',
          }),
        },
        { description: 'the repeated blocks' },
      ),
    },
    {
      kind: 'nasnet',
      description: 'NASNet-style blocks: kernel size, channels, skip connection, repeats.',
    },
  )
}
