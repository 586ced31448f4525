import { nb201FromString, nb201Space } from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { Nb201Supernet, retrainStandalone } from '../src/index'
import { mnistSubset, RES, RESIZE, useBackend } from './helpers'

describe('retrainStandalone', () => {
  beforeAll(useBackend)
  const data = mnistSubset(64, 64, 64)

  it('trains an architecture from scratch, also one whose nodes lead nowhere', async () => {
    const sn = new Nb201Supernet(nb201Space(), {
      channels: 4,
      cellsPerStage: 1,
      inputShape: [RES, RES, 1],
    })
    // nodes 1 and 2 feed nothing: their convolutions get no gradient
    const arch = nb201FromString(
      '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|nor_conv_3x3~0|none~1|none~2|',
    )
    const before = tf.memory().numTensors
    try {
      const r = await retrainStandalone(sn, arch, {
        train: data.train,
        validation: data.validation,
        test: data.test,
        epochs: 1,
        batchSize: 32,
        resize: RESIZE,
      })
      expect(r.val_accuracy).toBeGreaterThanOrEqual(0)
      expect(r.val_accuracy).toBeLessThanOrEqual(1)
      expect(r.test_accuracy).not.toBeNull()
      expect(r.params).toBeGreaterThan(0)
      expect(r.epochs).toBe(1)
      expect(tf.memory().numTensors).toBe(before)
    } finally {
      sn.dispose()
    }
  })
})
