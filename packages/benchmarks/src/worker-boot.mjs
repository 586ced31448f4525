// Starts a suite worker from the TypeScript sources (development and tests): registers the tsx
// loader in the worker thread, then imports the worker module. Built packages use dist/worker.js.
import { workerData } from 'node:worker_threads'
import { register } from 'tsx/esm/api'

register()
await import(workerData.entry)
