#!/usr/bin/env node
// The `naskit-bench` command. This file is part of the package's sources, so package managers can link
// the command when they install the package, also in a workspace that is not built yet; it runs
// the built CLI.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const cli = new URL('../dist/bin.js', import.meta.url)
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write(
    `naskit-bench: ${fileURLToPath(cli)} is missing: @naskit/benchmarks is not built.\n` +
      'In a checkout of the naskit repository, run `npx --yes pnpm@10.34.9 build` (or `npm run quickstart`) first.\n',
  )
  process.exit(1)
}
await import(cli.href)
