import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { NaskitError } from '@naskit/core'

/** Whether an `executor` value names a Redis queue (`redis://…` or `rediss://…`). */
export function isRedisUrl(value: unknown): value is string {
  return typeof value === 'string' && /^rediss?:\/\//i.test(value)
}

/** A parsed Redis URL. */
export interface RedisTarget {
  host: string
  port: number
  db: number
  username?: string
  password?: string
  tls: boolean
  /** The URL without credentials, for messages and the experiment's stored config. */
  display: string
}

/**
 * Parses `redis://[[user]:password@]host[:port][/db]` or `rediss://…` (TLS). The password may
 * also come from `NASKIT_REDIS_PASSWORD` so that it stays out of shell history and configs.
 */
export function parseRedisUrl(value: string, env: NodeJS.ProcessEnv = process.env): RedisTarget {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new NaskitError(
      'E_BAD_CONFIG',
      `--executor ${JSON.stringify(value)} is not a valid URL; expected redis://host:port or rediss://host:port.`,
    )
  }
  const protocol = url.protocol.toLowerCase()
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    throw new NaskitError(
      'E_BAD_CONFIG',
      `--executor must be redis://host:port or rediss://host:port, got ${JSON.stringify(value)}.`,
    )
  }
  const port = url.port === '' ? 6379 : Number(url.port)
  const dbPart = url.pathname.replace(/^\//, '')
  const db = dbPart === '' ? 0 : Number(dbPart)
  if (!Number.isInteger(db) || db < 0) {
    throw new NaskitError(
      'E_BAD_CONFIG',
      `--executor: the database in ${JSON.stringify(value)} must be a number (redis://host:port/0).`,
    )
  }
  const username = url.username === '' ? undefined : decodeURIComponent(url.username)
  const fromUrl = url.password === '' ? undefined : decodeURIComponent(url.password)
  const password = fromUrl ?? (env.NASKIT_REDIS_PASSWORD || undefined)
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1'
  const display = `${protocol}//${url.host || host}${db === 0 ? '' : `/${db}`}`
  return {
    host,
    port,
    db,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    tls: protocol === 'rediss:',
    display,
  }
}

/** The URL as it may be stored and printed: credentials removed. */
export function redactRedisUrl(value: string): string {
  return parseRedisUrl(value, {}).display
}

/** What a connection reports while it is down (for clear messages instead of stack traces). */
export interface ConnectionWatch {
  onDown(message: string, retryInMs: number): void
  onUp(): void
}

/** Delay before reconnect attempt `times` (1, 2, …): 250 ms doubling to 10 s. */
export function backoffMs(times: number): number {
  return Math.min(10_000, 250 * 2 ** Math.max(0, Math.min(times - 1, 6)))
}

/**
 * ioredis options for BullMQ: commands wait for a reconnect instead of failing
 * (`maxRetriesPerRequest: null`), reconnects back off, TLS for `rediss://` (with the CA from
 * `NASKIT_REDIS_CA` when the server's certificate is not signed by a public authority).
 */
export function connectionOptions(
  target: RedisTarget,
  watch?: ConnectionWatch,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, unknown> {
  let tls: Record<string, unknown> | undefined
  if (target.tls) {
    tls = isIP(target.host) === 0 ? { servername: target.host } : {}
    if (env.NASKIT_REDIS_CA) {
      try {
        tls.ca = readFileSync(env.NASKIT_REDIS_CA)
      } catch (error) {
        throw new NaskitError(
          'E_BAD_CONFIG',
          `NASKIT_REDIS_CA=${env.NASKIT_REDIS_CA} cannot be read: ${(error as Error).message}`,
        )
      }
    }
  }
  return {
    host: target.host,
    port: target.port,
    db: target.db,
    ...(target.username !== undefined ? { username: target.username } : {}),
    ...(target.password !== undefined ? { password: target.password } : {}),
    ...(tls ? { tls } : {}),
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    connectTimeout: 5_000,
    retryStrategy: (times: number) => {
      const delay = backoffMs(times)
      watch?.onDown(`cannot reach Redis at ${target.display}`, delay)
      return delay
    },
  }
}

/**
 * What to tell the user about a Redis client error, or null when there is nothing new to say:
 * connection failures are reported once by the retry strategy (`connectionOptions`).
 */
export function describeRedisError(
  error: Error,
  target: RedisTarget,
  down: boolean,
): string | null {
  const code = (error as { code?: string }).code
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || down) return null
  if (/NOAUTH|WRONGPASS|invalid password|invalid username-password/i.test(error.message)) {
    return `Redis at ${target.display} refused the credentials (${error.message.replace(/\.+$/, '')}). Give the password in the URL (redis://:PASSWORD@host:port) or NASKIT_REDIS_PASSWORD.`
  }
  return `Redis at ${target.display}: ${error.message}`
}
