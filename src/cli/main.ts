#!/usr/bin/env node
/**
 * zstash command line. Subcommands:
 *   main                    the README's main job
 *   bench-store [options]   the store benchmark (bench/store.ts)
 */
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const distRoot = path.resolve(here, '..', '..')

function runScript(relative: string, args: string[]): number {
  const r = spawnSync(process.execPath, [path.join(distRoot, relative), ...args], { stdio: 'inherit' })
  return r.status ?? 1
}

const [command = 'help', ...rest] = process.argv.slice(2)
switch (command) {
  case 'main':
    // The store benchmark on the node corpus: lz4 vs zstd (until the usemem job lands).
    process.exitCode = runScript('bench/store.js', ['--codecs', 'lz4,zstd', ...rest])
    break
  case 'bench-store':
    process.exitCode = runScript('bench/store.js', rest)
    break
  default:
    console.log('usage: zstash <main | bench-store> [options]')
    process.exitCode = command === 'help' || command === '--help' ? 0 : 2
}
