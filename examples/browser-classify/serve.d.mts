/** Starts the example's static server (see serve.mjs). */
export function startServer(options?: {
  root?: string
  model?: string
  files?: Record<string, string>
  port?: number
  host?: string
}): Promise<{ url: string; close(): Promise<void> }>
