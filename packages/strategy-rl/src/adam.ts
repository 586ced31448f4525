/** Adam hyper-parameters. */
export interface AdamConfig {
  learningRate: number
  beta1: number
  beta2: number
  epsilon: number
  /** Clip the gradient to this global L2 norm; 0 turns clipping off. */
  clipNorm: number
}

/**
 * Adam (Kingma & Ba 2015) on float32 arrays. Kept in plain JS so that its whole state (step
 * count and moments) is exact in a checkpoint and a restored run continues bit for bit.
 */
export class Adam {
  step = 0
  readonly m: Float32Array[]
  readonly v: Float32Array[]

  constructor(
    readonly config: AdamConfig,
    shapes: readonly Float32Array[],
  ) {
    this.m = shapes.map((p) => new Float32Array(p.length))
    this.v = shapes.map((p) => new Float32Array(p.length))
  }

  /** Applies one update; returns the gradient norm before clipping. */
  apply(params: Float32Array[], grads: readonly Float32Array[]): number {
    const { learningRate, beta1, beta2, epsilon, clipNorm } = this.config
    let sq = 0
    for (const g of grads)
      for (let i = 0; i < g.length; i++) sq += (g[i] as number) * (g[i] as number)
    const norm = Math.sqrt(sq)
    if (!Number.isFinite(norm)) return norm
    const scale = clipNorm > 0 && norm > clipNorm ? clipNorm / norm : 1
    this.step++
    const c1 = 1 - beta1 ** this.step
    const c2 = 1 - beta2 ** this.step
    params.forEach((p, k) => {
      const g = grads[k] as Float32Array
      const m = this.m[k] as Float32Array
      const v = this.v[k] as Float32Array
      for (let i = 0; i < p.length; i++) {
        const gi = (g[i] as number) * scale
        m[i] = beta1 * (m[i] as number) + (1 - beta1) * gi
        v[i] = beta2 * (v[i] as number) + (1 - beta2) * gi * gi
        p[i] =
          (p[i] as number) -
          (learningRate * ((m[i] as number) / c1)) / (Math.sqrt((v[i] as number) / c2) + epsilon)
      }
    })
    return norm
  }
}
