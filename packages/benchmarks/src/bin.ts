#!/usr/bin/env node
import { runBenchCli } from './cli'

// `naskit-bench nb201 …` and `naskit-bench bench nb201 …` both work
runBenchCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    process.stderr.write(`${String((error as Error)?.stack ?? error)}\n`)
    process.exitCode = 1
  },
)
