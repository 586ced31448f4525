import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** The redis-server binary, or null when it is not installed. */
export function redisServerBinary(): string | null {
  for (const p of [
    process.env.REDIS_SERVER,
    '/usr/bin/redis-server',
    '/usr/local/bin/redis-server',
  ])
    if (p && existsSync(p)) return p
  try {
    return execFileSync('which', ['redis-server'], { encoding: 'utf8' }).trim() || null
  } catch {
    return null
  }
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address()
      const port = typeof address === 'object' && address ? address.port : 0
      srv.close(() => resolve(port))
    })
  })
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket()
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
    s.connect(port, '127.0.0.1')
  })
}

export interface RedisServerOptions {
  password?: string
  tls?: { cert: string; key: string; ca: string }
  port?: number
}

/** A redis-server on 127.0.0.1 in its own temp folder, without persistence. */
export class RedisServer {
  private child: ChildProcess | null = null
  readonly dir = mkdtempSync(join(tmpdir(), 'naskit-redis-'))
  log = ''

  private constructor(
    readonly port: number,
    private readonly opts: RedisServerOptions,
  ) {}

  static async start(opts: RedisServerOptions = {}): Promise<RedisServer> {
    const server = new RedisServer(opts.port ?? (await freePort()), opts)
    await server.launch()
    return server
  }

  get url(): string {
    const auth = this.opts.password ? `:${encodeURIComponent(this.opts.password)}@` : ''
    return `${this.opts.tls ? 'rediss' : 'redis'}://${auth}127.0.0.1:${this.port}`
  }

  private async launch(): Promise<void> {
    const bin = redisServerBinary()
    if (!bin) throw new Error('redis-server is not installed')
    const args = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir]
    if (this.opts.tls) {
      args.push(
        '--port',
        '0',
        '--tls-port',
        String(this.port),
        '--tls-cert-file',
        this.opts.tls.cert,
        '--tls-key-file',
        this.opts.tls.key,
        '--tls-ca-cert-file',
        this.opts.tls.ca,
        '--tls-auth-clients',
        'no',
      )
    } else args.push('--port', String(this.port))
    if (this.opts.password) args.push('--requirepass', this.opts.password)
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      this.log += d
    })
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.log += d
    })
    this.child = child
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`redis-server exited: ${this.log}`)
      if (/Ready to accept connections/.test(this.log) && (await canConnect(this.port))) return
      await new Promise((r) => setTimeout(r, 25))
    }
    throw new Error(`redis-server did not start: ${this.log}`)
  }

  /** Kills the server (its data is lost, as it keeps none on disk). */
  async stop(): Promise<void> {
    const child = this.child
    this.child = null
    if (!child || child.exitCode !== null) return
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGKILL')
    await gone
  }

  /** Stops the server and starts a new one on the same port. */
  async restart(downMs = 0): Promise<void> {
    await this.stop()
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs))
    this.log = ''
    await this.launch()
  }

  async dispose(): Promise<void> {
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** A self-signed certificate for 127.0.0.1 (its own CA), made with openssl. */
export function selfSignedCert(dir: string): { cert: string; key: string; ca: string } {
  const cert = join(dir, 'cert.pem')
  const key = join(dir, 'key.pem')
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  )
  return { cert, key, ca: cert }
}
