#!/usr/bin/env node
// Prints the commands of the README's quick start, one a line, as a user would type them (the
// first shell block under "## Quick start", comments dropped). `.ci/run` runs exactly these.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export function quickStartCommands(readme) {
  const section = readme.split(/^## /m).find((s) => s.startsWith('Quick start'))
  if (!section) throw new Error('README.md has no "## Quick start" section')
  const block = /```sh\n([\s\S]*?)```/.exec(section)
  if (!block) throw new Error('the Quick start section of README.md has no sh code block')
  return block[1]
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = join(import.meta.dirname, '..')
  const commands = quickStartCommands(readFileSync(join(root, 'README.md'), 'utf8'))
  const which = process.argv[2]
  if (which === undefined) console.log(commands.join('\n'))
  else {
    const c = commands[Number(which) - 1]
    if (c === undefined) throw new Error(`the quick start has no command ${which}`)
    console.log(c)
  }
}
