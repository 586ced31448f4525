import { NaskitError } from '@naskit/core'
import * as tf from '@tensorflow/tfjs-core'
import { registerMissingGradients } from './gradients'

let ready: Promise<string> | null = null

function registeredBackends(): string[] {
  return Object.keys(tf.engine().registryFactory)
}

/**
 * Makes sure tfjs has a backend and the gradients the controller needs. Uses the active
 * backend (cpu, wasm, tfjs-node…); when none is registered it tries to load
 * `@tensorflow/tfjs-backend-cpu`. Resolves to the backend's name.
 */
export function ensureBackend(): Promise<string> {
  if (ready === null) {
    ready = (async () => {
      if (registeredBackends().length === 0) {
        try {
          await import('@tensorflow/tfjs-backend-cpu')
        } catch {
          // not installed: reported below
        }
      }
      if (registeredBackends().length === 0) {
        throw new NaskitError(
          'E_BAD_CONFIG',
          'The rl strategy needs a TensorFlow.js backend: install @tensorflow/tfjs-backend-cpu (or @tensorflow/tfjs-node, or @tensorflow/tfjs-backend-wasm) and import it before the search starts.',
        )
      }
      await tf.ready()
      registerMissingGradients()
      return tf.getBackend()
    })()
    ready.catch(() => {
      ready = null
    })
  }
  return ready
}
