/** Stem 3×3/16, then four ReLU-conv-BN blocks, each halving the resolution after the first. */
export const REFERENCE_CNN = {
  blocks: [
    { kernel: 3, channels: 16, skip: false },
    { kernel: 3, channels: 32, skip: false },
    { kernel: 3, channels: 64, skip: true },
    { kernel: 3, channels: 64, skip: true },
  ],
}
