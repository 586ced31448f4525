import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { NaskitError } from '../errors.js'
import { type BuildOptions, buildNetwork, type SpaceName } from '../models/index.js'
import type { Network } from '../models/network.js'
import type { InputPipeline } from './input.js'
import { toLayersModel } from './layers.js'

/** What a Layers model written by naskit records under `userDefinedMetadata.naskit`. */
export interface LayersModelMetadata {
  format: 'naskit-layers'
  version: 1
  space: SpaceName
  arch: unknown
  /** Builder options that rebuild the same network (`loadNetwork` uses them). */
  build: BuildOptions
  /** Shape of the images the model takes, [height, width, channels]. */
  inputShape: [number, number, number]
  /** How the model treats its input: raw pixels (with the steps it applies), or network input. */
  input: ({ pixels: 'raw' } & InputPipeline) | { pixels: 'standardised' }
  numClasses: number
  /** Class names in label order (`'0'`, `'1'`… when the dataset has none). */
  classes: string[]
  /** The model outputs logits (apply a softmax for probabilities). */
  output: 'logits'
  /** Model weight (`layer/weight`) → network variable path. */
  weights: Record<string, string>
}

/** What {@link saveLayersModel} wrote. */
export interface SavedLayersModel {
  dir: string
  /** File names in `dir`: `model.json`, then the weight shards. */
  files: string[]
  modelJson: string
  bytes: number
}

export interface SaveLayersOptions {
  arch: unknown
  space: SpaceName
  build?: BuildOptions
  /** Raw-pixel input (see `inputPipeline(dataset, resize)`); without it the model takes network input. */
  input?: InputPipeline
  classNames?: string[]
  /** Largest weight shard in bytes. @default 4 MiB (as the TensorFlow.js converter) */
  shardBytes?: number
}

const DEFAULT_SHARD = 4 * 1024 * 1024

/**
 * Saves a network as a standard TensorFlow.js Layers model: `model.json` (Keras topology of
 * built-in layers, weights manifest, `userDefinedMetadata.naskit`) and binary weight shards
 * (`weights.bin`, or `group1-shard1ofN.bin`… above `shardBytes`). `tf.loadLayersModel(url)`
 * loads it in a browser or in Node with no naskit code; naskit's `loadNetwork(dir)` rebuilds
 * the network from it. With `input`, the model takes raw pixels.
 */
export async function saveLayersModel(
  net: Network,
  dir: string,
  options: SaveLayersOptions,
): Promise<SavedLayersModel> {
  const { model, sources } = toLayersModel(net, options.input ? { input: options.input } : {})
  try {
    const classes =
      options.classNames && options.classNames.length === net.numClasses
        ? [...options.classNames]
        : Array.from({ length: net.numClasses }, (_, i) => String(i))
    const meta: LayersModelMetadata = {
      format: 'naskit-layers',
      version: 1,
      space: options.space,
      arch: options.arch,
      build: { ...options.build, inputShape: net.inputShape, numClasses: net.numClasses },
      inputShape: options.input ? options.input.shape : net.inputShape,
      input: options.input ? { pixels: 'raw', ...options.input } : { pixels: 'standardised' },
      numClasses: net.numClasses,
      classes,
      output: 'logits',
      weights: sources,
    }
    model.setUserDefinedMetadata({ naskit: meta as unknown as Record<string, unknown> })
    let artifacts: tf.io.ModelArtifacts | null = null
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
      }),
    )
    const art = artifacts as unknown as tf.io.ModelArtifacts
    const data = new Uint8Array(tf.io.CompositeArrayBuffer.join(art.weightData as tf.io.WeightData))
    const shard = options.shardBytes ?? DEFAULT_SHARD
    if (!(Number.isInteger(shard) && shard > 0)) {
      throw new NaskitError('E_BAD_OPTIONS', `shardBytes must be a positive integer, got ${shard}`)
    }
    const count = Math.max(1, Math.ceil(data.byteLength / shard))
    const names =
      count === 1
        ? ['weights.bin']
        : Array.from({ length: count }, (_, i) => `group1-shard${i + 1}of${count}.bin`)
    await mkdir(dir, { recursive: true })
    for (const [i, name] of names.entries()) {
      await writeFile(path.join(dir, name), data.subarray(i * shard, (i + 1) * shard))
    }
    const modelJson = {
      format: art.format,
      generatedBy: art.generatedBy,
      convertedBy: '@naskit/trainer-tfjs',
      modelTopology: art.modelTopology,
      weightsManifest: [{ paths: names, weights: art.weightSpecs }],
      userDefinedMetadata: art.userDefinedMetadata,
    }
    const modelPath = path.join(dir, 'model.json')
    await writeFile(modelPath, JSON.stringify(modelJson))
    return { dir, files: ['model.json', ...names], modelJson: modelPath, bytes: data.byteLength }
  } finally {
    model.dispose()
  }
}

interface LayersModelJson {
  format?: string
  weightsManifest?: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>
  userDefinedMetadata?: { naskit?: LayersModelMetadata }
}

/** True when a parsed `model.json` is a Layers model written by {@link saveLayersModel}. */
export function isNaskitLayersModel(json: unknown): boolean {
  const j = json as LayersModelJson | null
  return j?.format === 'layers-model' && j.userDefinedMetadata?.naskit?.format === 'naskit-layers'
}

/**
 * Rebuilds the network of a Layers model written by {@link saveLayersModel} (from the
 * architecture and build options it records) and loads its weights into it.
 */
export async function loadLayersNetwork(dir: string): Promise<Network> {
  const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as LayersModelJson
  const meta = json.userDefinedMetadata?.naskit
  if (!isNaskitLayersModel(json) || meta === undefined) {
    throw new NaskitError(
      'E_BAD_OPTIONS',
      `${dir}/model.json is not a Layers model written by naskit (no userDefinedMetadata.naskit); load it with tf.loadLayersModel instead.`,
    )
  }
  const buffers: Uint8Array[] = []
  const specs: tf.io.WeightsManifestEntry[] = []
  for (const group of json.weightsManifest ?? []) {
    for (const p of group.paths) buffers.push(new Uint8Array(await readFile(path.join(dir, p))))
    specs.push(...group.weights)
  }
  const joined = tf.io.CompositeArrayBuffer.join(buffers.map((b) => b.buffer as ArrayBuffer))
  const net = buildNetwork(meta.arch, meta.build, meta.space)
  const tensors = tf.io.decodeWeights(joined, specs)
  try {
    const vars = new Map(net.namedVariables().map((v) => [v.name, v.variable]))
    for (const [weight, variable] of Object.entries(meta.weights)) {
      const t = tensors[weight]
      const v = vars.get(variable)
      if (t === undefined || v === undefined) {
        throw new NaskitError(
          'E_BAD_OPTIONS',
          `${dir}: weight ${weight} (network variable ${variable}) is missing from ${t === undefined ? 'the weight files' : 'the rebuilt network'}`,
        )
      }
      v.assign(t)
    }
  } catch (e) {
    net.dispose()
    throw e
  } finally {
    tf.dispose(Object.values(tensors))
  }
  return net
}
