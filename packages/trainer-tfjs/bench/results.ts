import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'

const RESULTS_DIR = path.join(path.dirname(new URL(import.meta.url).pathname), 'results')

/** Context stored with every result: when, where, on what. */
export function environment() {
  return {
    date: new Date().toISOString(),
    node: process.version,
    tfjs: tf.version.tfjs,
    cpus: os.cpus().length,
    loadAverage1m: Number(os.loadavg()[0]!.toFixed(2)),
  }
}

/** Writes `bench/results/<name>.json` and `bench/results/<name>.md`; returns their paths. */
export function writeResults(name: string, data: unknown, markdown: string): string[] {
  mkdirSync(RESULTS_DIR, { recursive: true })
  const json = path.join(RESULTS_DIR, `${name}.json`)
  const md = path.join(RESULTS_DIR, `${name}.md`)
  writeFileSync(json, `${JSON.stringify(data, null, 2)}\n`)
  writeFileSync(md, markdown.endsWith('\n') ? markdown : `${markdown}\n`)
  return [json, md]
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}
