// Loads a model exported by `naskit export DIR --format tfjs` with plain TensorFlow.js (the
// global `tf` of tf.min.js) and classifies the image the user picks. The model takes raw pixel
// values (0–255) of its input size and outputs logits; it standardises (and resizes) them
// itself, and its metadata names the classes.
/* global tf */

const params = new URLSearchParams(location.search)
const modelUrl = new URL(params.get('model') ?? 'model/model.json', location.href).href

const status = document.querySelector('#status')
const info = document.querySelector('#model-info')
const fileInput = document.querySelector('#image')
const preview = document.querySelector('#preview')
const list = document.querySelector('#predictions')

function show(message, isError = false) {
  status.textContent = message
  status.classList.toggle('error', isError)
}

/** The model, its input size, class names, and the model card when it is beside the model. */
async function loadModel() {
  const model = await tf.loadLayersModel(modelUrl)
  const meta = model.getUserDefinedMetadata()?.naskit ?? {}
  const [, height, width, channels] = model.inputs[0].shape
  const units = model.outputs[0].shape[1]
  const classes =
    Array.isArray(meta.classes) && meta.classes.length === units
      ? meta.classes
      : Array.from({ length: units }, (_, i) => `class ${i}`)
  let card = null
  try {
    const res = await fetch(new URL('export.json', modelUrl))
    if (res.ok) card = await res.json()
  } catch {
    // the card is optional
  }
  return { model, height, width, channels, classes, card }
}

/**
 * The picked image as the model's input: drawn at the model's size (stretched, as naskit's
 * image folders are resized), one value per channel in 0–255; grayscale models get the
 * luminance.
 */
async function pixelsOf(file, { height, width, channels }) {
  const bitmap = await createImageBitmap(file, {
    colorSpaceConversion: 'none',
    premultiplyAlpha: 'none',
  })
  const canvas = document.createElement('canvas')
  canvas.width = width
  canvas.height = height
  const ctx = canvas.getContext('2d', { willReadFrequently: true })
  ctx.imageSmoothingQuality = 'high'
  ctx.drawImage(bitmap, 0, 0, width, height)
  bitmap.close()
  const rgba = ctx.getImageData(0, 0, width, height).data
  const out = new Float32Array(height * width * channels)
  for (let p = 0; p < height * width; p++) {
    const r = rgba[4 * p]
    const g = rgba[4 * p + 1]
    const b = rgba[4 * p + 2]
    if (channels === 1) out[p] = Math.round(0.2126 * r + 0.7152 * g + 0.0722 * b)
    else {
      out[3 * p] = r
      out[3 * p + 1] = g
      out[3 * p + 2] = b
    }
  }
  return out
}

/** Logits, probabilities and the best class of one image given as raw pixel values. */
function classifyPixels(loaded, pixels) {
  const { model, height, width, channels, classes } = loaded
  const [logits, probabilities] = tf.tidy(() => {
    const y = model.predict(tf.tensor4d(pixels, [1, height, width, channels]))
    return [y.dataSync(), tf.softmax(y).dataSync()]
  })
  let index = 0
  for (let i = 1; i < probabilities.length; i++)
    if (probabilities[i] > probabilities[index]) index = i
  return {
    label: classes[index],
    index,
    logits: Array.from(logits),
    probabilities: Array.from(probabilities),
    backend: tf.getBackend(),
  }
}

function render(loaded, result) {
  list.replaceChildren(
    ...result.probabilities
      .map((p, i) => ({ p, i }))
      .sort((a, b) => b.p - a.p)
      .slice(0, 5)
      .map(({ p, i }) => {
        const li = document.createElement('li')
        li.dataset.class = loaded.classes[i]
        li.textContent = `${loaded.classes[i]}: ${(100 * p).toFixed(1)}%`
        return li
      }),
  )
  show(`It looks like: ${result.label}`)
  document.body.dataset.state = 'classified'
}

const ready = loadModel()
window.naskitClassifier = {
  ready: ready.then(({ height, width, channels, classes, card }) => ({
    inputShape: [height, width, channels],
    classes,
    card,
    backend: tf.getBackend(),
  })),
  /** For scripts and tests: classify raw pixels (height × width × channels values). */
  classifyPixels: async (pixels) => classifyPixels(await ready, Float32Array.from(pixels)),
  last: null,
}

ready.then(
  (loaded) => {
    const { height, width, channels, classes, card } = loaded
    const accuracy = card?.metrics?.test_accuracy ?? card?.metrics?.val_accuracy
    info.textContent = `${classes.length} classes (${classes.join(', ')}); input ${width}×${height}×${channels}${
      typeof accuracy === 'number' ? `; accuracy ${(100 * accuracy).toFixed(1)}%` : ''
    }; TensorFlow.js backend ${tf.getBackend()}`
    show('Choose an image to classify.')
    fileInput.disabled = false
    document.body.dataset.state = 'ready'
    fileInput.addEventListener('change', async () => {
      const file = fileInput.files?.[0]
      if (!file) return
      try {
        preview.src = URL.createObjectURL(file)
        preview.hidden = false
        const result = classifyPixels(loaded, await pixelsOf(file, loaded))
        window.naskitClassifier.last = result
        render(loaded, result)
      } catch (e) {
        show(`Cannot classify ${file.name}: ${e.message}`, true)
        document.body.dataset.state = 'error'
      }
    })
  },
  (e) => {
    show(`Cannot load the model from ${modelUrl}: ${e.message}`, true)
    document.body.dataset.state = 'error'
  },
)
