import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { NaskitError } from '../errors.js'
import { type BuildOptions, buildNetwork, type SpaceName } from '../models/index.js'
import type { Network } from '../models/network.js'
import { isNaskitLayersModel, loadLayersNetwork } from '../export/save.js'

/** What `model.json` records besides the weights: enough to rebuild the network. */
export interface NaskitTopology {
  format: 'naskit-network'
  version: 1
  space: SpaceName
  arch: unknown
  build: BuildOptions
  inputShape: [number, number, number]
  numClasses: number
}

export interface SavedModelInfo {
  modelJson: string
  weightsBin: string
  bytes: number
}

/**
 * Saves a network in the TensorFlow.js artifacts format: `model.json` (topology +
 * `weightsManifest`) and `weights.bin`, all variables included (batch-norm running
 * statistics too). The topology is the architecture and build options, so `loadNetwork`
 * rebuilds the same network and loads the weights into it.
 */
export async function saveNetwork(
  net: Network,
  dir: string,
  meta: { arch: unknown; space: SpaceName; build?: BuildOptions },
): Promise<SavedModelInfo> {
  await mkdir(dir, { recursive: true })
  const named = net.namedVariables().map((v) => ({ name: v.name, tensor: v.variable as tf.Tensor }))
  const { data, specs } = await tf.io.encodeWeights(named)
  const topology: NaskitTopology = {
    format: 'naskit-network',
    version: 1,
    space: meta.space,
    arch: meta.arch,
    build: { ...meta.build, inputShape: net.inputShape, numClasses: net.numClasses },
    inputShape: net.inputShape,
    numClasses: net.numClasses,
  }
  const modelJson = {
    format: 'naskit-network',
    generatedBy: '@naskit/trainer-tfjs',
    convertedBy: null,
    modelTopology: topology,
    weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
  }
  const modelPath = path.join(dir, 'model.json')
  const weightsPath = path.join(dir, 'weights.bin')
  await writeFile(modelPath, JSON.stringify(modelJson, null, 2))
  await writeFile(weightsPath, new Uint8Array(data))
  return { modelJson: modelPath, weightsBin: weightsPath, bytes: data.byteLength }
}

/**
 * Rebuilds a network saved by `saveNetwork`, or a Layers model saved by `saveLayersModel` (the
 * evaluators' export), and loads its weights.
 */
export async function loadNetwork(dir: string): Promise<Network> {
  const modelJson = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as {
    modelTopology: NaskitTopology
    weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>
  }
  if (isNaskitLayersModel(modelJson)) return loadLayersNetwork(dir)
  const topo = modelJson.modelTopology
  if (topo?.format !== 'naskit-network') {
    throw new NaskitError('E_BAD_OPTIONS', `${dir}/model.json was not written by saveNetwork`)
  }
  const buffers: Uint8Array[] = []
  const specs: tf.io.WeightsManifestEntry[] = []
  for (const group of modelJson.weightsManifest) {
    for (const p of group.paths) buffers.push(new Uint8Array(await readFile(path.join(dir, p))))
    specs.push(...group.weights)
  }
  const total = buffers.reduce((a, b) => a + b.length, 0)
  const joined = new Uint8Array(total)
  let off = 0
  for (const b of buffers) {
    joined.set(b, off)
    off += b.length
  }
  const net = buildNetwork(topo.arch, topo.build, topo.space)
  const tensors = tf.io.decodeWeights(joined.buffer, specs)
  try {
    for (const v of net.namedVariables()) {
      const t = tensors[v.name]
      if (t === undefined) {
        throw new NaskitError('E_BAD_OPTIONS', `weights.bin has no value for ${v.name}`)
      }
      v.variable.assign(t)
    }
  } catch (e) {
    net.dispose()
    throw e
  } finally {
    tf.dispose(Object.values(tensors))
  }
  return net
}
