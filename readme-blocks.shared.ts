import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import ts from 'typescript'
import { afterAll, describe, expect, it } from 'vitest'

/**
 * README code blocks are programs. Every ```ts / ```js block (also `typescript`, `javascript`,
 * `mts`, `mjs`) of a README is written to a scratch folder inside the package whose README it
 * is (so its imports of `@naskit/*` resolve as they would for a user of that package) and run
 * by vitest, with `@naskit/*` read from source. HTML comments on the lines just above a block
 * change that:
 *
 * - `<!-- fragment: why -->`: the block is not run (a config fragment, a signature, code
 *   that needs a GPU). The reason is required and shows up as a skipped test.
 * - `<!-- file: path -->`: the block is written as `path` in the scratch folder (default
 *   `block-<line>.ts`), so other blocks can import it (`import plugin from '../src/index'`)
 *   or load it by path (`evaluator: './my-evaluator.ts'`). Every file is written before
 *   the first block runs.
 * - `<!-- run-with: {"text": "replacement", …} -->`: the test runs the block with each text
 *   replaced (a smaller budget for a long training run). Each text must occur in the block.
 *
 * A block whose file ends in `.test.ts` is a test file: its suites (such as the contract kit's)
 * are registered in the calling test file. Any other block is one test: it is imported, with
 * the scratch folder as the working directory, and passes when it runs to its end. Blocks run
 * in the order of the README. One more test type-checks every TypeScript block, fragments
 * included, with the package's tsconfig (a snippet that cannot compile takes another fence
 * language, such as `text`).
 */

/** A fenced code block of a README, with its markers. */
export interface ReadmeBlock {
  /** Line of the opening fence, from 1. */
  line: number
  lang: string
  code: string
  /** `<!-- fragment: … -->`: why the block is not run. */
  fragment?: string
  /** `<!-- file: … -->`: its path in the scratch folder. */
  file?: string
  /** `<!-- run-with: … -->`: replacements applied before it runs. */
  runWith?: Record<string, string>
}

/** Languages whose blocks are run. */
export const RUNNABLE_LANGS = ['ts', 'typescript', 'mts', 'js', 'javascript', 'mjs']

const MARKERS = ['fragment', 'file', 'run-with']

/** Every fenced code block of a markdown text, with its markers. */
export function readmeBlocks(markdown: string, source = 'README.md'): ReadmeBlock[] {
  const lines = markdown.split('\n')
  const blocks: ReadmeBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i] as string)
    if (!open) continue
    const fence = open[1] as string
    const start = i
    const body: string[] = []
    for (i++; i < lines.length && !(lines[i] as string).startsWith(fence); i++)
      body.push(lines[i] as string)
    const block: ReadmeBlock = {
      line: start + 1,
      lang: open[2] ?? '',
      code: `${body.join('\n')}\n`,
    }
    for (let j = start - 1; j >= 0; j--) {
      const text = (lines[j] as string).trim()
      if (text === '') continue
      const marker = /^<!--\s*([\w-]+):\s*([\s\S]*?)\s*-->$/.exec(text)
      if (!marker) break
      const [, name, value] = marker as unknown as [string, string, string]
      const where = `${source}:${j + 1}`
      if (!MARKERS.includes(name))
        throw new Error(`${where}: unknown marker "${name}" (known: ${MARKERS.join(', ')})`)
      if (value === '') throw new Error(`${where}: the ${name} marker needs a value`)
      if (name === 'fragment') block.fragment = value
      else if (name === 'file') block.file = value
      else {
        try {
          block.runWith = JSON.parse(value) as Record<string, string>
        } catch (error) {
          throw new Error(`${where}: run-with takes a JSON object: ${(error as Error).message}`)
        }
      }
    }
    blocks.push(block)
  }
  return blocks
}

/** The blocks that are run or written: those of a runnable language. */
export function runnableBlocks(markdown: string, source?: string): ReadmeBlock[] {
  return readmeBlocks(markdown, source).filter((b) => RUNNABLE_LANGS.includes(b.lang))
}

/** Options of {@link testReadme}. */
export interface TestReadmeOptions {
  /** Package folder the scratch folder goes in. @default the README's folder */
  packageDir?: string
  /** Environment variables set while blocks run (variables already set are kept). */
  env?: Record<string, string>
  /** Per-block timeout in ms. @default 60000 */
  timeout?: number
  /** Extra checks after a named file's block ran, by file name; given the scratch folder. */
  after?: Record<string, (dir: string) => unknown | Promise<unknown>>
  /** Type-check the TypeScript blocks with the package's tsconfig. @default true */
  typecheck?: boolean
}

/** Type errors in `files` (those of the files they import are not reported). */
export function typeErrors(files: string[], tsconfig: string): string[] {
  const read = ts.readConfigFile(tsconfig, ts.sys.readFile)
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, dirname(tsconfig))
  const program = ts.createProgram(files, { ...parsed.options, noEmit: true })
  const host = {
    getCanonicalFileName: (f: string) => f,
    getCurrentDirectory: () => dirname(tsconfig),
    getNewLine: () => '\n',
  }
  return files.flatMap((file) => {
    const source = program.getSourceFile(file)
    if (!source) return [`${file}: not found`]
    const diagnostics = [
      ...program.getSyntacticDiagnostics(source),
      ...program.getSemanticDiagnostics(source),
    ]
    return diagnostics.length === 0 ? [] : [ts.formatDiagnostics(diagnostics, host)]
  })
}

const extensionOf = (lang: string) =>
  ({ typescript: 'ts', javascript: 'js', mjs: 'mjs', mts: 'mts', js: 'js' })[lang] ?? 'ts'

/**
 * Registers one test per runnable block of a README (and the suites of its `*.test.ts`
 * blocks). Call it with top-level `await` in a test file.
 */
export async function testReadme(readme: string, options: TestReadmeOptions = {}): Promise<void> {
  const path = resolve(readme)
  const packageDir = resolve(options.packageDir ?? dirname(path))
  const name = relative(resolve(packageDir, '..', '..'), path)
  const blocks = runnableBlocks(readFileSync(path, 'utf8'), name)
  for (const file of Object.keys(options.after ?? {}))
    if (!blocks.some((b) => b.file === file && b.fragment === undefined))
      throw new Error(`${name} has no runnable block written to ${file} (see its file markers)`)
  const scratchRoot = join(packageDir, '.readme-blocks')
  const scratch = () => {
    mkdirSync(scratchRoot, { recursive: true })
    return mkdtempSync(join(scratchRoot, `${basename(dirname(path))}-`))
  }
  let dir: string
  try {
    dir = scratch()
  } catch {
    dir = scratch() // another run removed the empty scratch root meanwhile
  }
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true })
    if (readdirSync(scratchRoot).length === 0) rmSync(scratchRoot, { recursive: true, force: true })
  })

  const planned = blocks.map((block) => {
    let code = block.code
    for (const [from, to] of Object.entries(block.runWith ?? {})) {
      if (!code.includes(from))
        throw new Error(
          `${name}:${block.line}: run-with text ${JSON.stringify(from)} is not in the block`,
        )
      code = code.split(from).join(to)
    }
    // fragments are only type-checked, in a folder of their own
    const file = join(
      dir,
      block.fragment === undefined ? '' : 'fragments',
      block.file ?? `block-${block.line}.${extensionOf(block.lang)}`,
    )
    return { block, code, file }
  })
  const seen = new Set<string>()
  for (const { block, code, file } of planned) {
    if (seen.has(file))
      throw new Error(`${name}:${block.line}: two blocks are written to ${block.file}`)
    seen.add(file)
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, code)
  }
  const typed = planned.filter(({ file }) => /\.m?ts$/.test(file)).map(({ file }) => file)

  const timeout = options.timeout ?? 60_000
  const label = (b: ReadmeBlock) => `${name}:${b.line} (${b.file ?? `\`\`\`${b.lang}`})`
  // a README with shell blocks only has nothing to run
  if (blocks.length === 0) return
  describe(`${name} code blocks`, () => {
    for (const { block, file } of planned) {
      if (block.fragment !== undefined) {
        it.skip(`${label(block)} is a fragment: ${block.fragment}`, () => {})
      } else if (!file.endsWith('.test.ts')) {
        it(
          `${label(block)} runs`,
          async () => {
            const cwd = process.cwd()
            const saved: Record<string, string | undefined> = {}
            for (const [k, v] of Object.entries(options.env ?? {})) {
              saved[k] = process.env[k]
              process.env[k] ??= v
            }
            process.chdir(dir)
            try {
              await import(pathToFileURL(file).href)
              const check = block.file === undefined ? undefined : options.after?.[block.file]
              if (check) await check(dir)
            } finally {
              process.chdir(cwd)
              for (const [k, v] of Object.entries(saved)) {
                if (v === undefined) delete process.env[k]
                else process.env[k] = v
              }
            }
          },
          timeout,
        )
      }
    }
    if (options.typecheck !== false && typed.length > 0) {
      it(
        `${name}: the TypeScript blocks type-check`,
        () => expect(typeErrors(typed, join(packageDir, 'tsconfig.json')).join('\n')).toBe(''),
        timeout,
      )
    }
  })
  // test blocks register their own suites, next to the blocks above
  for (const { block, file } of planned)
    if (block.fragment === undefined && file.endsWith('.test.ts'))
      await import(pathToFileURL(file).href)
}
