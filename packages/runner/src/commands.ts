import { existsSync } from 'node:fs'
import { resolve as resolvePath } from 'node:path'
import { BUILT_IN_SPACE_NAMES, describeOptions, isNaskitError, NaskitError } from '@naskit/core'
import { findPackage, importFile } from '@naskit/core/node'
import { cac } from 'cac'
import {
  checkConfigFields,
  checkExperimentDir,
  DATA_EVALUATOR,
  findConfigFile,
  loadConfigFile,
  type NaskitConfig,
  normalizeBudget,
  parseDuration,
} from './config'
import { exportTrials } from './export'
import { exportModels } from './export-models'
import { runExperiment } from './experiment'
import { runnerVersion } from './modules'
import { installCommand, listStrategies, lookupDirs } from './plugins'
import { jsonReporter, lineReporter, type ProgressSink, ttyReporter } from './progress'
import { writeReport } from './report'
import { isRedisUrl } from './redis/connection'
import { runWorker } from './redis/worker'
import { Store, storageError } from './store'

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

function flagError(message: string): NaskitError {
  return new NaskitError('E_BAD_CONFIG', message)
}

/** The text of a flag's value, as typed; `E_BAD_CONFIG` for an empty or repeated one. */
function str(v: unknown, flag?: string): string | undefined {
  if (v === undefined || v === null || v === true || v === false) return undefined
  if (Array.isArray(v)) {
    if (flag === undefined) return String(v.at(-1))
    throw flagError(
      `--${flag} is given ${v.length} times (${v.map((x) => JSON.stringify(String(x))).join(', ')}); give it once.`,
    )
  }
  const text = String(v)
  if (flag !== undefined && text.trim() === '')
    throw flagError(`--${flag} needs a value, got an empty string.`)
  return text
}

/** What a numeric flag may hold. */
interface NumberRule {
  integer?: boolean
  min?: number
  /** What it must be, for the message ("a positive integer (a number of trials)"). */
  must: string
}

const POSITIVE_INT: NumberRule = { integer: true, min: 1, must: 'a positive integer' }

/**
 * A numeric flag's value: `E_BAD_CONFIG` naming the flag when it is not a number, or not one
 * the flag takes (`--budget -1`, `--seed 1.5`).
 */
function num(v: unknown, flag: string, rule?: NumberRule): number | undefined {
  const text = str(v, flag)
  if (text === undefined) return undefined
  const n = Number(text)
  if (!Number.isFinite(n))
    throw flagError(`--${flag} must be a number, got ${JSON.stringify(text)}.`)
  if (
    rule &&
    ((rule.integer === true && !Number.isSafeInteger(n)) ||
      (rule.min !== undefined && n < rule.min))
  )
    throw flagError(`--${flag} must be ${rule.must}, got ${text}.`)
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
  const nameFlag = str(flags[kind], kind)
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
  const space = str(flags.space, 'space')
  if (space !== undefined) c.space = space
  const strategy = mergePluginFlags(base, flags, 'strategy')
  if (strategy !== undefined) c.strategy = strategy
  // with data (a --data flag or the config's), the evaluator is the images one unless named
  const data = str(flags.data, 'data')
  if (data !== undefined && data.trim() === '')
    throw flagError('--data must be a folder of class subfolders.')
  const prevEvaluator =
    typeof base.evaluator === 'string'
      ? base.evaluator
      : base.evaluator && typeof base.evaluator === 'object' && 'name' in base.evaluator
        ? base.evaluator.name
        : undefined
  const withData = data !== undefined || base.data !== undefined
  const evBase =
    withData && flags.evaluator === undefined && prevEvaluator !== DATA_EVALUATOR
      ? { ...base, evaluator: DATA_EVALUATOR }
      : base
  const evaluator = mergePluginFlags(evBase, flags, 'evaluator')
  if (evaluator !== undefined) c.evaluator = evaluator
  else if (evBase !== base) c.evaluator = DATA_EVALUATOR
  if (data !== undefined) {
    const prev = base.data
    c.data =
      prev !== null && typeof prev === 'object' && !Array.isArray(prev)
        ? { ...prev, dir: data }
        : data
  }
  const trials = num(flags.budget, 'budget', {
    ...POSITIVE_INT,
    must: 'a positive integer (a number of trials)',
  })
  const time = str(flags.time, 'time')
  if (time !== undefined) {
    if (/^\s*-/.test(time))
      throw flagError(`--time must be a positive duration such as 90s, 30m, 2h, got ${time}.`)
    parseDuration(/^\d+(\.\d+)?$/.test(time) ? `${time}s` : time, '--time')
  }
  const target = num(flags.target, 'target')
  const epochs = num(flags.budgetEpochs, 'budget-epochs', {
    min: Number.MIN_VALUE,
    must: 'a positive number of training epochs',
  })
  if (trials !== undefined || time !== undefined || target !== undefined || epochs !== undefined) {
    const prev = typeof base.budget === 'number' ? { trials: base.budget } : (base.budget ?? {})
    c.budget = {
      ...prev,
      ...(trials !== undefined ? { trials } : {}),
      ...(time !== undefined ? { time: /^\d+(\.\d+)?$/.test(time) ? `${time}s` : time } : {}),
      ...(target !== undefined ? { target } : {}),
      ...(epochs !== undefined ? { epochs } : {}),
    }
  }
  const workers = num(flags.workers, 'workers', POSITIVE_INT)
  if (workers !== undefined) c.workers = workers
  // any integer, negative ones too (a seed names a random stream); fractions are refused
  const seed = num(flags.seed, 'seed', { integer: true, must: 'an integer' })
  if (seed !== undefined) c.seed = seed
  const out = str(flags.out, 'out')
  if (out !== undefined) c.out = out
  const maxFailures = num(flags.maxFailures, 'max-failures', POSITIVE_INT)
  if (maxFailures !== undefined) c.maxFailures = maxFailures
  const executor = str(flags.executor, 'executor')
  if (executor !== undefined) c.executor = executor as NaskitConfig['executor']
  const queue = str(flags.queue, 'queue')
  if (queue !== undefined) c.queue = queue
  const grace = num(flags.grace, 'grace', { min: 0, must: 'a number of seconds ≥ 0' })
  if (grace !== undefined) c.graceMs = grace * 1000
  const trialTimeout = str(flags.trialTimeout, 'trial-timeout')
  if (trialTimeout !== undefined)
    c.trialTimeout = /^\d+(\.\d+)?$/.test(trialTimeout) ? `${trialTimeout}s` : trialTimeout
  return c
}

async function searchCommand(flags: Flags, io: CliIo): Promise<number> {
  const cwd = io.cwd ?? process.cwd()
  let base: Partial<NaskitConfig> = {}
  let baseDir = cwd
  const configPath = str(flags.config, 'config')
  const out = str(flags.out, 'out')
  if (out !== undefined) checkExperimentDir(resolvePath(cwd, out))
  const resuming = out !== undefined && Store.exists(resolvePath(cwd, out))
  const found = configPath ? resolvePath(cwd, configPath) : resuming ? null : findConfigFile(cwd)
  if (found) {
    const loaded = await loadConfigFile(found)
    base = loaded.config
    baseDir = loaded.dir
    checkConfigFields(base)
  }
  const config = applyFlags(base, flags)
  if (out !== undefined) config.out = resolvePath(cwd, out)
  // --data is a path from where the command runs (the config's own data, from the config file)
  if (flags.data !== undefined && config.data !== undefined) {
    config.data =
      typeof config.data === 'string'
        ? resolvePath(cwd, config.data)
        : { ...config.data, dir: resolvePath(cwd, config.data.dir) }
  }
  if (config.out !== undefined) {
    const dir = resolvePath(baseDir, config.out)
    checkExperimentDir(dir)
    if (config.budget !== undefined) checkResumeBudget(dir, config.budget)
  }
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

/**
 * A budget given to resume an experiment must not be below what it has already spent: the run
 * would end at once and store the lower budget in place of its own. `E_BAD_CONFIG` says so.
 */
function checkResumeBudget(dir: string, input: NonNullable<NaskitConfig['budget']>): void {
  if (!Store.exists(dir)) return
  const budget = normalizeBudget(input)
  let spent: { trials: number; elapsedMs: number; stored: ReturnType<typeof normalizeBudget> }
  try {
    const store = Store.open(dir, { readonly: true })
    try {
      const stored = store.getMeta<{ budget?: ReturnType<typeof normalizeBudget> }>('config')
      if (!stored?.budget) return
      const counts = store.counts()
      spent = {
        trials: counts.ok + counts.failed,
        elapsedMs: store.getMeta<number>('elapsedMs') ?? 0,
        stored: stored.budget,
      }
    } finally {
      store.close()
    }
  } catch {
    return // the search says what is wrong with the store
  }
  const own = [
    spent.stored.trials !== null ? `${spent.stored.trials} trials` : null,
    spent.stored.timeMs !== null ? `${spent.stored.timeMs / 1000} s` : null,
  ]
    .filter(Boolean)
    .join(', ')
  if (budget.trials !== null && budget.trials < spent.trials) {
    throw new NaskitError(
      'E_BAD_CONFIG',
      `A budget of ${budget.trials} trials is below the ${spent.trials} trials the experiment in ${dir} has already finished (its own budget: ${own}); it would stop at once and keep the lower budget. To run more trials give a budget above ${spent.trials} (e.g. --budget ${spent.trials + Math.max(10, budget.trials)}); to continue with its own budget, leave --budget out.`,
      { details: { budget: budget.trials, done: spent.trials } },
    )
  }
  if (budget.timeMs !== null && budget.timeMs < spent.elapsedMs) {
    throw new NaskitError(
      'E_BAD_CONFIG',
      `A time budget of ${budget.timeMs / 1000} s is below the ${Math.round(spent.elapsedMs / 1000)} s the experiment in ${dir} has already run (its own budget: ${own}); it would stop at once and keep the lower budget. Give a longer --time, or leave --time out to continue with its own budget.`,
      { details: { timeMs: budget.timeMs, elapsedMs: spent.elapsedMs } },
    )
  }
}

async function workerCommand(flags: Flags, io: CliIo): Promise<number> {
  const url = str(flags.executor, 'executor') ?? process.env.NASKIT_EXECUTOR
  if (url === undefined || !isRedisUrl(url)) {
    throw new NaskitError(
      'E_BAD_CONFIG',
      `naskit worker needs --executor redis://host:port (or NASKIT_EXECUTOR), got ${url === undefined ? 'nothing' : JSON.stringify(url)}.`,
    )
  }
  const concurrency = num(flags.concurrency, 'concurrency', POSITIVE_INT)
  const lockMs = num(flags.lockMs, 'lock-ms', POSITIVE_INT)
  const queue = str(flags.queue, 'queue')
  const name = str(flags.name, 'name')
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

/**
 * Prints an error as `error E_CODE: message`. A file system error that reached here unnamed
 * (a full disk, a read-only folder) gets its code; anything else is a bug, shown in one line
 * with its stack trace only when `NASKIT_DEBUG` is set.
 */
function printError(error: unknown, io: CliIo): number {
  if (isNaskitError(error)) {
    io.stderr.write(`error ${error.code}: ${error.message}\n`)
    return 1
  }
  const e = error as { name?: string; message?: string; path?: unknown; syscall?: unknown }
  if (e?.name === 'CACError') {
    io.stderr.write(`${e.message}\nRun naskit --help for usage.\n`)
    return 2
  }
  const what = typeof e?.path === 'string' ? `use ${e.path}` : 'finish'
  const coded = storageError(error, what, {
    writing:
      typeof e?.syscall === 'string' && /open|write|mkdir|rename|link|unlink|copy/.test(e.syscall),
  })
  if (coded) {
    io.stderr.write(`error ${coded.code}: ${coded.message}\n`)
    return 1
  }
  const text = typeof e?.message === 'string' ? e.message : String(error)
  io.stderr.write(
    `error E_INTERNAL: ${e?.name && e.name !== 'Error' ? `${e.name}: ` : ''}${text.split('\n')[0]}\nThis is a bug in naskit or in a plugin it loaded. Run again with NASKIT_DEBUG=1 to see the stack trace, and report it.\n`,
  )
  if (process.env.NASKIT_DEBUG) io.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`)
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
    .option(
      '--data <dir>',
      'Your images: a folder with one subfolder of images per class (the images evaluator)',
    )
    .option('--budget <trials>', 'Number of trials')
    .option('--time <duration>', 'Wall-time budget (90s, 30m, 2h)')
    .option('--target <objective>', 'Stop when a trial reaches this objective')
    .option('--budget-epochs <n>', 'Stop after the trials spent this many training epochs')
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
    .option('--trial-timeout <duration>', 'Fail a trial that runs longer (90s, 30m, 2h)')
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
        const top = num(flags.top, 'top', POSITIVE_INT)
        const file = str(flags.file, 'file')
        const path = await writeReport(resolvePath(io.cwd ?? process.cwd(), String(dir)), {
          ...(top !== undefined ? { top } : {}),
          ...(file !== undefined ? { file: resolvePath(io.cwd ?? process.cwd(), file) } : {}),
          onWarning: (m) => io.stderr.write(`warning: ${m}\n`),
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
        const top = num(flags.top, 'top', POSITIVE_INT)
        const file = str(flags.file, 'file')
        const format = str(flags.format, 'format') ?? 'json'
        const cwd = io.cwd ?? process.cwd()
        const experimentDir = resolvePath(cwd, String(dir))
        if (format === 'tfjs') {
          const outDir = str(flags.dir, 'dir')
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
          onWarning: (m) => io.stderr.write(`warning: ${m}\n`),
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

/** Names (as typed, and as cac names them in parsed options) of the options that take a value. */
function valueOptions(cli: ReturnType<typeof cac>): Map<string, string> {
  const out = new Map<string, string>()
  for (const command of [cli.globalCommand, ...cli.commands]) {
    for (const option of command.options) {
      if (option.isBoolean) continue
      for (const raw of option.rawName.split(/[ ,]+/)) {
        if (raw.startsWith('--')) out.set(raw.slice(2), option.name)
      }
    }
  }
  return out
}

const PLACEHOLDER = '\u0000naskit-value-'

/**
 * Takes the values of options that take one out of `argv`, so that the parser sees neither a
 * negative number as an option (`--budget -1`) nor turns text into numbers (`--out ""` into 0,
 * `--seed 1.5` into 1.5 without a word): each value is replaced by a placeholder that
 * {@link restoreValues} swaps back for the text as typed.
 */
function protectValues(
  argv: readonly string[],
  options: Map<string, string>,
): { argv: string[]; values: string[] } {
  const out: string[] = []
  const values: string[] = []
  const keep = (value: string) => {
    values.push(value)
    return `${PLACEHOLDER}${values.length - 1}`
  }
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string
    if (token === '--') {
      out.push(...argv.slice(i))
      break
    }
    const eq = token.indexOf('=')
    const name = token.startsWith('--') ? token.slice(2, eq < 0 ? undefined : eq) : ''
    if (name === '' || !options.has(name)) {
      out.push(token)
      continue
    }
    if (eq >= 0) {
      out.push(`--${name}=${keep(token.slice(eq + 1))}`)
      continue
    }
    const next = argv[i + 1]
    // a value, unless it is the next option (a negative number is a value)
    if (next !== undefined && (!next.startsWith('-') || /^-(\d|\.\d)/.test(next))) {
      out.push(`--${name}=${keep(next)}`)
      i++
    } else out.push(token)
  }
  return { argv: out, values }
}

/** Puts back the values {@link protectValues} took out, in the parsed options. */
function restoreValues(parsed: Record<string, unknown>, values: readonly string[]): void {
  const restore = (v: unknown): unknown =>
    typeof v === 'string' && v.startsWith(PLACEHOLDER)
      ? values[Number(v.slice(PLACEHOLDER.length))]
      : v
  for (const [key, v] of Object.entries(parsed))
    parsed[key] = Array.isArray(v) ? v.map(restore) : restore(v)
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
    const { argv: safe, values } = protectValues(argv, valueOptions(cli))
    cli.parse(['node', 'naskit', ...safe], { run: false })
    restoreValues(cli.options, values)
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
