import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ErrorCodes } from '../src/index'

const root = join(import.meta.dirname, '..', '..', '..')
const SOURCE = /\.[cm]?[jt]sx?$/
/** A code written as a string literal: 'E_…', "E_…" or `E_…`. */
const CODE = /(['"`])(E_[A-Z][A-Z0-9_]*)\1/g

function sourceFiles(dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...sourceFiles(path))
    else if (SOURCE.test(entry.name)) out.push(path)
  }
  return out
}

/** Every `src` folder of the workspace's packages and examples. */
function sourceFolders(): string[] {
  const out: string[] = []
  for (const group of ['packages', 'examples']) {
    for (const entry of readdirSync(join(root, group), { withFileTypes: true })) {
      if (!entry.isDirectory()) continue
      const src = join(root, group, entry.name, 'src')
      try {
        readdirSync(src)
        out.push(src)
      } catch {
        // no src folder
      }
    }
  }
  return out
}

describe('ErrorCodes', () => {
  it('lists every code used in the sources of the packages and examples', () => {
    const folders = sourceFolders()
    expect(folders).toContain(join(root, 'packages', 'core', 'src'))
    const listed = new Set<string>(Object.values(ErrorCodes))
    const missing = new Map<string, string[]>()
    for (const file of folders.flatMap(sourceFiles)) {
      const lines = readFileSync(file, 'utf8').split('\n')
      lines.forEach((line, i) => {
        for (const [, , code] of line.matchAll(CODE)) {
          if (listed.has(code as string)) continue
          const where = missing.get(code as string) ?? []
          where.push(`${relative(root, file)}:${i + 1}`)
          missing.set(code as string, where)
        }
      })
    }
    const report = [...missing].map(([code, where]) => `${code} (${where.join(', ')})`)
    expect(report, 'codes used but missing from ErrorCodes in src/errors.ts').toEqual([])
  })

  it('names each code after its key and documents it in one line', () => {
    for (const [key, code] of Object.entries(ErrorCodes)) expect(code).toBe(`E_${key}`)
    const lines = readFileSync(join(import.meta.dirname, '..', 'src', 'errors.ts'), 'utf8').split(
      '\n',
    )
    const undocumented = Object.keys(ErrorCodes).filter((key) => {
      const at = lines.findIndex((l) => l.trim().startsWith(`${key}: `))
      return !/^\s*\/\*\*.+\*\/$/.test(lines[at - 1] ?? '')
    })
    expect(undocumented).toEqual([])
  })
})
