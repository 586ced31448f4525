import { existsSync } from 'node:fs'
import { resolve as resolvePath } from 'node:path'
import { BUILT_IN_SPACE_NAMES, describeOptions, isNaskitError, NaskitError } from '@naskit/core'
import { findPackage, importFile } from '@naskit/core/node'
import { cac } from 'cac'
import { findConfigFile, loadConfigFile, type NaskitConfig } from './config'
import { exportTrials } from './export'
import { exportModels } from './export-models'
import { runExperiment } from './experiment'
import { runnerVersion } from './modules'
import { installCommand, listStrategies, lookupDirs } from './plugins'
import { jsonReporter, lineReporter, type ProgressSink, ttyReporter } from './progress'
import { writeReport } from './report'
import { isRedisUrl } from './redis/connection'
import { runWorker } from './redis/worker'
import { Store } from './store'

/** Where the CLI writes, and whether it owns the process's signals. */
export interface CliIo {
  stdout: ProgressSink
  stderr: ProgressSink
  /** Install SIGINT/SIGTERM handlers (the `naskit` binary does). @default false */
  handleSignals?: boolean
  /** Working directory. @default process.cwd() */
  cwd?: string
  /** Aborts a running search as SIGINT would (for embedding and tests). */
  signal?: AbortSignal
}

const processIo = (): CliIo => ({
  stdout: {
    write: (t) => process.stdout.write(t),
    isTTY: process.stdout.isTTY === true,
    columns: process.stdout.columns ?? 80,
  },
  stderr: {
    write: (t) => process.stderr.write(t),
    isTTY: process.stderr.isTTY === true,
    columns: process.stderr.columns ?? 80,
  },
  handleSignals: true,
})

function str(v: unknown): string | undefined {
  return v === undefined || v === null || v === true || v === false ? undefined : String(v)
}

function num(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isFinite(n))
    throw new NaskitError('E_BAD_CONFIG', `--${flag} must be a number, got ${JSON.stringify(v)}.`)
  return n
}

function jsonFlag(v: unknown, flag: string): Record<string, unknown> | undefined {
  if (v === undefined) return undefined
  try {
    const parsed = JSON.parse(String(v)) as unknown
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('not an object')
    return parsed as Record<string, unknown>
  } catch {
    throw new NaskitError(
      'E_BAD_CONFIG',
      `--${flag} must be a JSON object, e.g. --${flag} '{"populationSize": 20}'; got ${String(v)}.`,
    )
  }
}

type Flags = Record<string, unknown>

/**
 * Merges `--<kind>` and `--<kind>-options` into the config's plugin entry: a new name drops the
 * config's options unless new ones are given; options alone keep the config's name.
 */
function mergePluginFlags(
  base: Partial<NaskitConfig>,
  flags: Flags,
  kind: 'strategy' | 'evaluator',
): { name: string; options: Record<string, unknown> } | undefined {
  const prev: unknown = base[kind]
  const nameFlag = str(flags[kind])
  const options = jsonFlag(flags[`${kind}Options`], `${kind}-options`)
  if (nameFlag === undefined && options === undefined) return undefined
  const entry =
    prev && typeof prev === 'object' && !('create' in prev)
      ? (prev as { name?: unknown; options?: unknown })
      : undefined
  const prevName =
    typeof prev === 'string' ? prev : typeof entry?.name === 'string' ? entry.name : undefined
  const name = nameFlag ?? prevName
  if (name === undefined) {
    throw new NaskitError(
      'E_BAD_CONFIG',
      `--${kind}-options needs --${kind} (or ${kind === 'strategy' ? 'a strategy' : 'an evaluator'} name in the config).`,
    )
  }
  const prevOptions =
    entry && 'options' in entry ? (entry.options as Record<string, unknown>) : undefined
  return { name, options: options ?? (nameFlag === undefined ? prevOptions : undefined) ?? {} }
}

/** Applies CLI flags on top of a config (flags win). */
export function applyFlags(base: Partial<NaskitConfig>, flags: Flags): Partial<NaskitConfig> {
  const c: Partial<NaskitConfig> = { ...base }
  const space = str(flags.space)
  if (space !== undefined) c.space = space
  const strategy = mergePluginFlags(base, flags, 'strategy')
  if (strategy !== undefined) c.strategy = strategy
  const evaluator = mergePluginFlags(base, flags, 'evaluator')
  if (evaluator !== undefined) c.evaluator = evaluator
  const trials = num(flags.budget, 'budget')
  const time = str(flags.time)
  const target = num(flags.target, 'target')
  if (trials !== undefined || time !== undefined || target !== undefined) {
    const prev = typeof base.budget === 'number' ? { trials: base.budget } : (base.budget ?? {})
    c.budget = {
      ...prev,
      ...(trials !== undefined ? { trials } : {}),
      ...(time !== undefined ? { time: /^\d+(\.\d+)?$/.test(time) ? `${time}s` : time } : {}),
      ...(target !== undefined ? { target } : {}),
    }
  }
  const workers = num(flags.workers, 'workers')
  if (workers !== undefined) c.workers = workers
  const seed = num(flags.seed, 'seed')
  if (seed !== undefined) c.seed = seed
  const out = str(flags.out)
  if (out !== undefined) c.out = out
  const maxFailures = num(flags.maxFailures, 'max-failures')
  if (maxFailures !== undefined) c.maxFailures = maxFailures
  const executor = str(flags.executor)
  if (executor !== undefined) c.executor = executor as NaskitConfig['executor']
  const queue = str(flags.queue)
  if (queue !== undefined) c.queue = queue
  const grace = num(flags.grace, 'grace')
  if (grace !== undefined) c.graceMs = grace * 1000
  return c
}

async function searchCommand(flags: Flags, io: CliIo): Promise<number> {
  const cwd = io.cwd ?? process.cwd()
  let base: Partial<NaskitConfig> = {}
  let baseDir = cwd
  const configPath = str(flags.config)
  const out = str(flags.out)
  const resuming = out !== undefined && Store.exists(resolvePath(cwd, out))
  const found = configPath ? resolvePath(cwd, configPath) : resuming ? null : findConfigFile(cwd)
  if (found) {
    const loaded = await loadConfigFile(found)
    base = loaded.config
    baseDir = loaded.dir
  }
  const config = applyFlags(base, flags)
  if (out !== undefined) config.out = resolvePath(cwd, out)
  const json = flags.json === true
  const report = json
    ? jsonReporter(io.stdout)
    : io.stderr.isTTY
      ? ttyReporter(io.stderr)
      : lineReporter(io.stderr, flags.quiet ? Number.POSITIVE_INFINITY : 10_000)

  const controller = new AbortController()
  let interrupts = 0
  let dirForResume: string | null = config.out ? resolvePath(baseDir, config.out) : null
  const onSignal = () => {
    interrupts++
    if (interrupts === 1) {
      if (!json)
        io.stderr.write(
          '\nInterrupted: no new trials; waiting for running ones (Ctrl-C again to quit now)…\n',
        )
      controller.abort()
    } else {
      if (!json)
        io.stderr.write(
          `\nStopped.${dirForResume ? ` Resume with: naskit search --out ${dirForResume}` : ''}\n`,
        )
      process.exit(130)
    }
  }
  io.signal?.addEventListener('abort', onSignal, { once: true })
  if (io.handleSignals) {
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  }
  try {
    const result = await runExperiment({
      config,
      baseDir,
      onMismatch: flags.new === true ? 'new' : 'error',
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'start') dirForResume = e.dir
        report(e)
      },
    })
    if (result.status === 'interrupted') return 130
    if (result.status === 'failed') return 1
    return 0
  } finally {
    if (io.handleSignals) {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
}

async function workerCommand(flags: Flags, io: CliIo): Promise<number> {
  const url = str(flags.executor) ?? process.env.NASKIT_EXECUTOR
  if (url === undefined || !isRedisUrl(url)) {
    throw new NaskitError(
      'E_BAD_CONFIG',
      `naskit worker needs --executor redis://host:port (or NASKIT_EXECUTOR), got ${url === undefined ? 'nothing' : JSON.stringify(url)}.`,
    )
  }
  const concurrency = num(flags.concurrency, 'concurrency')
  const lockMs = num(flags.lockMs, 'lock-ms')
  const queue = str(flags.queue)
  const name = str(flags.name)
  const controller = new AbortController()
  let interrupts = 0
  const onSignal = () => {
    interrupts++
    if (interrupts === 1) {
      io.stderr.write(
        '\nStopping: no new trials; finishing the running ones (Ctrl-C again to quit now; their trials go to other workers)…\n',
      )
      controller.abort()
    } else process.exit(130)
  }
  io.signal?.addEventListener('abort', onSignal, { once: true })
  if (io.handleSignals) {
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  }
  const stamp = () => new Date().toISOString().slice(11, 19)
  try {
    const result = await runWorker({
      url,
      cwd: io.cwd ?? process.cwd(),
      signal: controller.signal,
      ...(queue !== undefined ? { queue } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(lockMs !== undefined ? { lockMs } : {}),
      ...(name !== undefined ? { name } : {}),
      log: {
        info: (m) => io.stderr.write(`${stamp()} ${m}\n`),
        warn: (m) => io.stderr.write(`${stamp()} warning: ${m}\n`),
      },
      onTrial: (t) =>
        io.stderr.write(
          `${stamp()} trial ${t.trialId} ${t.ok ? 'done' : 'failed'} in ${(t.ms / 1000).toFixed(1)} s\n`,
        ),
    })
    if (result.reason === 'refused') {
      io.stderr.write(
        `error ${result.message}\nThis worker stopped; its job went back to the queue.\n`,
      )
      return 3
    }
    io.stderr.write(`${result.message}\n`)
    return interrupts > 0 ? 130 : 0
  } finally {
    if (io.handleSignals) {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
}

async function strategiesCommand(flags: Flags, io: CliIo): Promise<number> {
  const list = await listStrategies(io.cwd ?? process.cwd())
  if (flags.json === true) {
    io.stdout.write(
      `${JSON.stringify(
        list.map((s) => ({ ...s, options: describeOptions(s.options) })),
        null,
        2,
      )}\n`,
    )
    return 0
  }
  for (const s of list) {
    io.stdout.write(
      `${s.use}  (${s.use === s.name ? '' : `strategy ${s.name} of `}${s.packageName}${s.version ? `@${s.version}` : ''}, ${s.kind})\n`,
    )
    if (s.error) {
      io.stdout.write(`  cannot be loaded: ${s.error}\n\n`)
      continue
    }
    io.stdout.write(`  ${s.description}\n`)
    const rows = describeOptions(s.options)
    if (rows.length > 0) {
      io.stdout.write('  options:\n')
      const w = Math.max(...rows.map((r) => r.name.length))
      for (const r of rows)
        io.stdout.write(
          `    ${r.name.padEnd(w)}  ${r.type}, default ${r.default}: ${r.description}\n`,
        )
    }
    io.stdout.write('\n')
  }
  io.stdout.write(
    'Use one with: naskit search --strategy <name>, the name in the first column. Third-party strategies are packages named naskit-strategy-*.\n',
  )
  return 0
}

/** `naskit bench …`: delegates to `@naskit/benchmarks`' `runBenchCli(argv)`. */
async function benchCommand(argv: string[], io: CliIo): Promise<number> {
  const cwd = io.cwd ?? process.cwd()
  const pkg = findPackage('@naskit/benchmarks', lookupDirs(cwd))
  if (pkg && !existsSync(pkg.entry)) {
    throw new NaskitError(
      'E_UNKNOWN_COMMAND',
      `naskit bench: ${pkg.name} is installed but its entry ${pkg.entry} is missing; build it (pnpm build).`,
    )
  }
  if (!pkg) {
    throw new NaskitError(
      'E_UNKNOWN_COMMAND',
      `naskit bench needs the benchmarks package. Install it with:\n  ${installCommand('@naskit/benchmarks', cwd)}`,
    )
  }
  const mod = await importFile(pkg.entry)
  if (typeof mod.runBenchCli !== 'function') {
    throw new NaskitError(
      'E_BAD_PLUGIN',
      `${pkg.name}@${pkg.version ?? '?'} does not export runBenchCli(argv); upgrade it.`,
    )
  }
  // strategies are looked up from the project, then beside the runner, as for naskit search
  return await (
    mod.runBenchCli as (
      argv: string[],
      io: { cwd: string; lookupDirs: string[] },
    ) => Promise<number>
  )(argv, { cwd, lookupDirs: lookupDirs(cwd) })
}

function printError(error: unknown, io: CliIo): number {
  if (isNaskitError(error)) {
    io.stderr.write(`error ${error.code}: ${error.message}\n`)
    return 1
  }
  const e = error as { name?: string; message?: string }
  if (e?.name === 'CACError') {
    io.stderr.write(`${e.message}\nRun naskit --help for usage.\n`)
    return 2
  }
  io.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`)
  return 1
}

/** Builds the command-line parser; `run` receives each matched command's work. */
export function buildCli(io: CliIo, run: (fn: () => Promise<number>) => void) {
  const cli = cac('naskit')

  cli
    .command('search', 'Run a search, or resume the experiment in --out')
    .option(
      '--config <file>',
      'Config file (default: naskit.config.{ts,js,json} in the working directory)',
    )
    .option('--space <name>', `Search space: ${BUILT_IN_SPACE_NAMES.join(', ')}`)
    .option('--strategy <name>', 'Strategy: random, evolution, rl, a package name or a path')
    .option('--strategy-options <json>', 'Strategy options as JSON')
    .option('--evaluator <name>', 'Evaluator: nb201, mnist, fashion-mnist, tfjs, or a module path')
    .option('--evaluator-options <json>', 'Evaluator options as JSON')
    .option('--budget <trials>', 'Number of trials')
    .option('--time <duration>', 'Wall-time budget (90s, 30m, 2h)')
    .option('--target <objective>', 'Stop when a trial reaches this objective')
    .option('--workers <n>', 'Evaluations in flight (worker threads for expensive evaluators)')
    .option('--seed <n>', 'Seed of every random choice')
    .option('--out <dir>', 'Experiment folder (an existing one is resumed)')
    .option('--max-failures <n>', 'End the search after this many failed trials')
    .option(
      '--executor <kind>',
      'auto, threads, inline, or redis://host:port to queue trials for naskit worker processes',
    )
    .option('--queue <name>', 'Redis queue name, with a redis:// executor (default trials)')
    .option('--grace <seconds>', 'Time running trials get to finish after Ctrl-C (default 30)')
    .option(
      '--new',
      'If --out holds an experiment with another configuration, start a new one next to it',
    )
    .option('--json', 'Print NDJSON events on stdout')
    .option('--quiet', 'Only the start and end lines (when not on a terminal)')
    .example(
      'naskit search --space nb201 --strategy evolution --evaluator nb201 --budget 200 --out runs/nb201',
    )
    .action((flags: Flags) => run(() => searchCommand(flags, io)))

  cli
    .command('report <dir>', 'Write the self-contained HTML report of an experiment')
    .option('--file <file>', 'Output file (default: DIR/report.html)')
    .option('--top <k>', 'Architectures in the top-k table (default 10)')
    .action((dir: string, flags: Flags) =>
      run(async () => {
        const top = num(flags.top, 'top')
        const file = str(flags.file)
        const path = await writeReport(resolvePath(io.cwd ?? process.cwd(), String(dir)), {
          ...(top !== undefined ? { top } : {}),
          ...(file !== undefined ? { file: resolvePath(io.cwd ?? process.cwd(), file) } : {}),
        })
        io.stdout.write(`Report written to ${path}\n`)
        return 0
      }),
    )

  cli
    .command('export <dir>', 'Export the best trials: architectures and metrics, or trained models')
    .option('--top <k>', 'Number of best trials (default 10; 1 for --format tfjs)')
    .option(
      '--format <format>',
      'json, csv, or tfjs (train and save the best models; default json)',
    )
    .option('--failed', 'Also list failed trials with their errors')
    .option('--file <file>', 'Write to a file instead of stdout (json, csv)')
    .option('--dir <folder>', 'Where --format tfjs writes the models (default DIR/models)')
    .action((dir: string, flags: Flags) =>
      run(async () => {
        const top = num(flags.top, 'top')
        const file = str(flags.file)
        const format = str(flags.format) ?? 'json'
        const cwd = io.cwd ?? process.cwd()
        const experimentDir = resolvePath(cwd, String(dir))
        if (format === 'tfjs') {
          const outDir = str(flags.dir)
          const stamp = () => new Date().toISOString().slice(11, 19)
          let last = 0
          const { outDir: written, models } = await exportModels(experimentDir, {
            format,
            baseDir: cwd,
            ...(top !== undefined ? { top } : {}),
            ...(outDir !== undefined ? { outDir: resolvePath(cwd, outDir) } : {}),
            log: {
              info: (m) => io.stderr.write(`${stamp()} ${m}\n`),
              warn: (m) => io.stderr.write(`${stamp()} warning: ${m}\n`),
            },
            onProgress: (id, p) => {
              const now = Date.now()
              if (now - last < 2000 && p.fraction < 1) return
              last = now
              io.stderr.write(
                `${stamp()} trial ${id}: ${Math.round(p.fraction * 100)}%${p.message ? ` ${p.message}` : ''}\n`,
              )
            },
          })
          for (const m of models) {
            const shown = Object.entries(m.metrics)
              .filter(([k, v]) => typeof v === 'number' && /accuracy|objective/.test(k))
              .map(([k, v]) => `${k} ${(v as number).toFixed(4)}`)
              .join(', ')
            io.stdout.write(
              `#${m.rank} trial ${m.trialId} → ${m.dir} (${m.files.join(', ')})${shown ? `; ${shown}` : ''}\n`,
            )
          }
          io.stderr.write(`Exported ${models.length} model(s) to ${written} (index: export.json)\n`)
          return 0
        }
        const text = await exportTrials(experimentDir, {
          ...(top !== undefined ? { top } : {}),
          format,
          includeFailed: flags.failed === true,
          ...(file !== undefined ? { file: resolvePath(cwd, file) } : {}),
        })
        if (file === undefined) io.stdout.write(text)
        else io.stderr.write(`Exported to ${file}\n`)
        return 0
      }),
    )

  cli
    .command('strategies', 'List installed strategy plugins with their options')
    .option('--json', 'As JSON')
    .action((flags: Flags) => run(() => strategiesCommand(flags, io)))

  cli
    .command('bench [...args]', 'Run the benchmark suite (from @naskit/benchmarks)')
    .allowUnknownOptions()

  cli
    .command('worker', 'Take trials from a Redis queue and evaluate them (see --executor)')
    .option('--executor <url>', 'Queue URL: redis://[:password@]host:port or rediss://…')
    .option('--queue <name>', 'Queue name (default trials; the search must use the same)')
    .option('--concurrency <n>', 'Trials at once in this process (default 1)')
    .option(
      '--lock-ms <ms>',
      'A trial whose worker is silent this long is given to another worker (default 30000)',
    )
    .option('--name <name>', 'Name in trial records (default host:pid)')
    .example('naskit worker --executor redis://127.0.0.1:6379')
    .action((flags: Flags) => run(() => workerCommand(flags, io)))

  return cli
}

/**
 * Runs the `naskit` command line with `argv` (without `node` and the script) and returns the
 * exit code. `search` returns 130 when interrupted, 1 when it ends on --max-failures.
 */
export async function runCli(argv: readonly string[], ioInput?: Partial<CliIo>): Promise<number> {
  const io: CliIo = { ...processIo(), handleSignals: false, ...ioInput }
  if (argv[0] === 'bench') {
    try {
      return await benchCommand(argv.slice(1), io)
    } catch (error) {
      return printError(error, io)
    }
  }
  let pending: Promise<number> | null = null
  const cli = buildCli(io, (fn) => {
    pending = fn()
  })
  cli.help()
  const version = runnerVersion()
  if (version) cli.version(version)

  try {
    cli.parse(['node', 'naskit', ...argv], { run: false })
    if (!cli.matchedCommand) {
      if (cli.options.help || cli.options.version) return 0
      if (cli.args.length > 0) {
        io.stderr.write(
          `Unknown command "${cli.args[0]}". Commands: search, report, export, strategies, bench, worker.\n`,
        )
        return 2
      }
      cli.outputHelp()
      return 0
    }
    if (cli.options.help) return 0
    cli.runMatchedCommand()
    if (pending === null) return 0
    return await (pending as Promise<number>)
  } catch (error) {
    return printError(error, io)
  }
}
