import { readdirSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { NaskitError } from '../errors.js'
import { createRng } from '../rng.js'
import { computeStats, type Dataset, type ImageSet, stratifiedOrder } from './dataset.js'

/** File endings read as images (what the image library decodes). */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.avif']

export interface ImageFolderOptions {
  /**
   * [height, width] every image is resized to. Default: the size most images have; images of
   * another size are resized to it (one notice says how many).
   */
  size?: [number, number]
  /** 1 (grayscale) or 3 (RGB). Default: 1 when every image is grayscale, else 3. */
  channels?: 1 | 3
  /**
   * Fraction of each class held out as the test set (stratified, seeded; default 0.2) when the
   * folder has no `train/` and `test/` subfolders. 0 keeps no test set.
   */
  testFraction?: number
  /** Seed of the test split (default 0). */
  seed?: number
  /** Images decoded at once (default 8). */
  concurrency?: number
  /** Where the notice about resized images goes (default `console.warn`). */
  log?: { warn(message: string): void }
}

/** What was found in a folder (recorded with the dataset). */
export interface ImageFolderInfo {
  kind: 'folder'
  dir: string
  classNames: string[]
  /** Images per class in the training and test sets. */
  counts: { train: number[]; test: number[] }
  /** The images' size on disk before any resize: the most common one, and how many differed. */
  originalSize: [number, number]
  resized: number
  /** How the test set was made: its own subfolder, a stratified split, or none. */
  testSplit: 'folder' | 'stratified' | 'none'
}

type Sharp = (input: string) => {
  metadata(): Promise<{ width?: number; height?: number; channels?: number; space?: string }>
  rotate(): ReturnType<Sharp>
  removeAlpha(): ReturnType<Sharp>
  toColourspace(space: string): ReturnType<Sharp>
  resize(w: number, h: number, o: { fit: 'fill' }): ReturnType<Sharp>
  raw(): ReturnType<Sharp>
  toBuffer(o: {
    resolveWithObject: true
  }): Promise<{ data: Buffer; info: { width: number; height: number; channels: number } }>
}

let sharpModule: Sharp | null = null

/** The image library, loaded on first use only. */
function loadSharp(): Sharp {
  if (sharpModule) return sharpModule
  try {
    const req = createRequire(import.meta.url)
    const mod = req('sharp') as Sharp | { default: Sharp }
    sharpModule = typeof mod === 'function' ? mod : mod.default
    return sharpModule
  } catch (e) {
    throw new NaskitError(
      'E_DATASET_MISSING',
      `Reading images needs the "sharp" package, which cannot be loaded here (${(e as Error).message.split('\n')[0]}). Install it: npm install sharp`,
      { cause: e },
    )
  }
}

function folderError(message: string, details: Record<string, unknown>): NaskitError {
  return new NaskitError('E_DATA_FOLDER', message, { details })
}

/** What is at a path: a folder, something else, or nothing. */
function kindOf(p: string): 'dir' | 'other' | null {
  try {
    return statSync(p).isDirectory() ? 'dir' : 'other'
  } catch {
    return null
  }
}

const isDir = (p: string) => kindOf(p) === 'dir'

/** The class subfolders of `dir` and their image files, sorted by name. */
function listClasses(dir: string): { name: string; files: string[] }[] {
  const entries = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort()
  return entries.map((name) => {
    const files = readdirSync(path.join(dir, name), { withFileTypes: true })
      .filter(
        (f) =>
          f.isFile() &&
          !f.name.startsWith('.') &&
          IMAGE_EXTENSIONS.includes(path.extname(f.name).toLowerCase()),
      )
      .map((f) => path.join(dir, name, f.name))
      .sort()
    return { name, files }
  })
}

async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const work = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, work))
  return out
}

function relative(dir: string, file: string): string {
  return path.relative(dir, file) || file
}

/**
 * Image classification data from a folder of class subfolders, the layout of Keras's
 * `image_dataset_from_directory`:
 *
 * ```
 * photos/
 *   cat/ 001.png 002.jpg …
 *   dog/ …
 * ```
 *
 * Class names are the subfolder names (sorted; label i is the i-th name). With `train/` and
 * `test/` subfolders, each holding the class subfolders, those are the two sets; otherwise a
 * seeded stratified `testFraction` of each class becomes the test set. Images are decoded and
 * resized with `sharp` (PNG, JPEG, WebP, GIF, TIFF, AVIF; EXIF orientation applied, alpha
 * dropped). Errors (`E_DATA_FOLDER`, `E_DATA_UNREADABLE`) name the folder or file at fault.
 */
export async function loadImageFolder(
  dir: string,
  options: ImageFolderOptions = {},
): Promise<Dataset & { source: ImageFolderInfo }> {
  const root = path.resolve(dir)
  const kind = kindOf(root)
  if (kind !== 'dir') {
    throw folderError(
      `Data folder ${dir} ${kind === 'other' ? 'is not a folder' : 'does not exist'}. Give a folder with one subfolder of images per class.`,
      { dir },
    )
  }
  const testFraction = options.testFraction ?? 0.2
  if (!(testFraction >= 0 && testFraction < 1)) {
    throw new NaskitError(
      'E_BAD_OPTIONS',
      `testFraction must be in [0, 1), got ${JSON.stringify(options.testFraction)}`,
    )
  }
  if (options.channels !== undefined && options.channels !== 1 && options.channels !== 3) {
    throw new NaskitError(
      'E_BAD_OPTIONS',
      `channels must be 1 or 3, got ${JSON.stringify(options.channels)}`,
    )
  }
  if (options.size !== undefined) {
    const s = options.size
    if (
      !Array.isArray(s) ||
      s.length !== 2 ||
      !s.every((v) => Number.isInteger(v) && v >= 1 && v <= 4096)
    ) {
      throw new NaskitError(
        'E_BAD_OPTIONS',
        `size must be [height, width] in pixels (integers 1–4096), got ${JSON.stringify(s)}`,
      )
    }
  }
  const split = isDir(path.join(root, 'train')) && isDir(path.join(root, 'test'))
  const trainClasses = listClasses(split ? path.join(root, 'train') : root)
  const testClasses = split ? listClasses(path.join(root, 'test')) : []
  const classNames = trainClasses.map((c) => c.name)
  if (classNames.length === 0) {
    throw folderError(
      `Data folder ${dir} has no class subfolders. Put each class's images in a subfolder named after the class (${dir}/cat/1.png, ${dir}/dog/1.png, …).`,
      { dir },
    )
  }
  if (classNames.length === 1) {
    throw folderError(
      `Data folder ${dir} has a single class ("${classNames[0]}"): a classifier needs at least two class subfolders.`,
      { dir, classNames },
    )
  }
  for (const c of trainClasses) {
    if (c.files.length === 0) {
      throw folderError(
        `Class "${c.name}" has no images (${relative(process.cwd(), path.join(split ? path.join(root, 'train') : root, c.name))}). Add images (${IMAGE_EXTENSIONS.join(', ')}) or remove the folder.`,
        { dir, className: c.name },
      )
    }
  }
  if (split) {
    const extra = testClasses.filter((c) => !classNames.includes(c.name)).map((c) => c.name)
    if (extra.length > 0) {
      throw folderError(
        `The test folder has classes the train folder lacks: ${extra.join(', ')}.`,
        { dir, extra },
      )
    }
  }

  const sharp = loadSharp()
  const files: { file: string; label: number; test: boolean }[] = []
  trainClasses.forEach((c, label) => {
    for (const file of c.files) files.push({ file, label, test: false })
  })
  for (const c of testClasses) {
    const label = classNames.indexOf(c.name)
    for (const file of c.files) files.push({ file, label, test: true })
  }
  const concurrency = options.concurrency ?? 8
  const metas = await mapLimited(files, concurrency, async ({ file }) => {
    try {
      const m = await sharp(file).metadata()
      if (!m.width || !m.height) throw new Error('no image size')
      // grayscale: one channel, or gray + alpha
      const gray = m.space === 'b-w' || m.channels === 1 || m.channels === 2
      return { width: m.width, height: m.height, gray }
    } catch (e) {
      throw new NaskitError(
        'E_DATA_UNREADABLE',
        `Cannot read image ${relative(process.cwd(), file)}: ${(e as Error).message}. Remove or replace the file.`,
        { cause: e, details: { file } },
      )
    }
  })
  // the most common size (ties: the larger area, then the first seen)
  const sizes = new Map<string, { h: number; w: number; n: number }>()
  for (const m of metas) {
    const key = `${m.height}x${m.width}`
    const e = sizes.get(key)
    if (e) e.n++
    else sizes.set(key, { h: m.height, w: m.width, n: 1 })
  }
  const common = [...sizes.values()].reduce((a, b) =>
    b.n > a.n || (b.n === a.n && b.h * b.w > a.h * a.w) ? b : a,
  )
  const [h, w] = options.size ?? [common.h, common.w]
  const c = options.channels ?? (metas.every((m) => m.gray) ? 1 : 3)
  const resized = metas.filter((m) => m.height !== h || m.width !== w).length
  if (options.size === undefined && resized > 0) {
    ;(options.log ?? { warn: (m: string) => console.warn(m) }).warn(
      `naskit: ${resized} of ${metas.length} images in ${dir} are not ${h}×${w} (the most common size); they are resized to ${h}×${w}. Set the data size option to choose the size.`,
    )
  }
  const per = h * w * c
  const pixels = new Uint8Array(files.length * per)
  await mapLimited(
    files.map((f, i) => ({ ...f, i })),
    concurrency,
    async ({ file, i }) => {
      try {
        const { data, info } = await sharp(file)
          .rotate()
          .removeAlpha()
          .toColourspace(c === 1 ? 'b-w' : 'srgb')
          .resize(w, h, { fit: 'fill' })
          .raw()
          .toBuffer({ resolveWithObject: true })
        if (info.width !== w || info.height !== h || info.channels !== c) {
          throw new Error(
            `decoded as ${info.height}×${info.width}×${info.channels}, expected ${h}×${w}×${c}`,
          )
        }
        pixels.set(data, i * per)
      } catch (e) {
        throw new NaskitError(
          'E_DATA_UNREADABLE',
          `Cannot decode image ${relative(process.cwd(), file)}: ${(e as Error).message}. Remove or replace the file.`,
          { cause: e, details: { file } },
        )
      }
    },
  )

  const labels = Int32Array.from(files, (f) => f.label)
  let trainIdx: number[]
  let testIdx: number[]
  let testSplit: ImageFolderInfo['testSplit']
  if (split) {
    trainIdx = files.flatMap((f, i) => (f.test ? [] : [i]))
    testIdx = files.flatMap((f, i) => (f.test ? [i] : []))
    testSplit = testIdx.length > 0 ? 'folder' : 'none'
  } else if (testFraction > 0) {
    const { head, rest } = stratifiedOrder(
      labels,
      classNames.length,
      testFraction,
      createRng(options.seed ?? 0),
    )
    testIdx = [...head].sort((a, b) => a - b)
    trainIdx = [...rest].sort((a, b) => a - b)
    testSplit = 'stratified'
  } else {
    trainIdx = files.map((_, i) => i)
    testIdx = []
    testSplit = 'none'
  }
  const take = (idx: number[]): ImageSet => {
    const images = new Uint8Array(idx.length * per)
    const lab = new Int32Array(idx.length)
    idx.forEach((src, j) => {
      images.set(pixels.subarray(src * per, (src + 1) * per), j * per)
      lab[j] = labels[src]!
    })
    return { images, labels: lab, count: idx.length }
  }
  const train = take(trainIdx)
  const test = take(testIdx)
  const countOf = (set: ImageSet) => {
    const n = new Array<number>(classNames.length).fill(0)
    for (const l of set.labels) n[l] = n[l]! + 1
    return n
  }
  const imageShape: [number, number, number] = [h, w, c]
  return {
    name: path.basename(root),
    numClasses: classNames.length,
    classNames,
    imageShape,
    train,
    test,
    stats: computeStats(train, imageShape, train.count),
    source: {
      kind: 'folder',
      dir: root,
      classNames,
      counts: { train: countOf(train), test: countOf(test) },
      originalSize: [common.h, common.w],
      resized,
      testSplit,
    },
  }
}
