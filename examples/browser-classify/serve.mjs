// A small static server for the page: this folder at /, an exported model folder at /model/.
//
//   node serve.mjs --model ../../runs/photos/models/trial-12 [--port 8080]
//
// Any static file server does as well: copy the exported folder to ./model and serve this folder.
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.bin': 'application/octet-stream',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
}

/** `file` inside `dir`, or null when the path leaves it. */
function inside(dir, file) {
  const full = path.resolve(dir, `.${path.posix.normalize(`/${file}`)}`)
  return full === dir || full.startsWith(`${dir}${path.sep}`) ? full : null
}

/**
 * Starts the server. `model`: the exported model folder, served at /model/; `files`: extra
 * URL paths mapped to files (e.g. where tf.min.js is); `port` 0 picks a free one.
 * Resolves to `{ url, close() }`.
 */
export async function startServer({
  root = here,
  model,
  files = {},
  port = 0,
  host = '127.0.0.1',
} = {}) {
  const base = path.resolve(root)
  const modelDir = model ? path.resolve(model) : null
  const server = createServer(async (req, res) => {
    const url = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname)
    let file = files[url] ?? null
    if (file === null && modelDir !== null && url.startsWith('/model/')) {
      file = inside(modelDir, url.slice('/model/'.length))
    }
    if (file === null) file = inside(base, url === '/' ? 'index.html' : url.slice(1))
    try {
      if (file === null) throw new Error('outside')
      const body = await readFile(file)
      res.writeHead(200, {
        'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-store',
      })
      res.end(body)
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' })
      res.end(`Not found: ${url}\n`)
    }
  })
  await new Promise((resolve) => server.listen(port, host, resolve))
  const address = server.address()
  return {
    url: `http://${host}:${address.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  const value = (flag) => {
    const i = args.indexOf(flag)
    return i >= 0 ? args[i + 1] : undefined
  }
  const { url } = await startServer({
    model: value('--model'),
    port: Number(value('--port') ?? 8080),
  })
  process.stdout.write(`Open ${url}/ (model: ${value('--model') ?? 'the ./model folder'})\n`)
}
