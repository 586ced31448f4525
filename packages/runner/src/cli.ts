#!/usr/bin/env node
import { runCli } from './commands'

const code = await runCli(process.argv.slice(2), { handleSignals: true })
process.exitCode = code
// An evaluator abandoned after the grace period may still hold timers: do not wait for it.
setTimeout(() => process.exit(code), 1000).unref()
