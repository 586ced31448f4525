// Run by the pack smoke test inside a folder where only the packed @naskit/core is installed.
import {
  chainSpace,
  createRng,
  nb201FromString,
  nb201Space,
  randomStrategy,
  simpleSearch,
} from '@naskit/core'

const space = nb201Space()
const arch = nb201FromString(
  '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|',
)
space.validate(arch)
const chain = chainSpace({ resolution: { low: 16, high: 28, step: 4 } })
chain.validate(chain.sample(createRng(1)))
const r = await simpleSearch({
  space,
  strategy: randomStrategy,
  evaluator: {
    name: 'convs',
    evaluate: (a) => ({
      objective: a.cell.nodes.flatMap((n) => n.ops).filter((o) => o === 'nor_conv_3x3').length,
    }),
  },
  trials: 50,
  seed: 1,
})
if (r.trials.length !== 50) throw new Error('core smoke failed')
console.log(
  `core: random search over nb201, best objective ${r.best.objective} after ${r.trials.length} trials`,
)
