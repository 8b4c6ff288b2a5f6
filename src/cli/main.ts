#!/usr/bin/env node
/**
 * zstash command line. Subcommands:
 *   main                    the README's main job (usemem lz4 vs zstd, cover-letter table)
 *   usemem [options] SIZE   vm-scalability usemem over a SwapCache
 *   report [options] F...   cover-letter tables from usemem --json results
 *   bench-store [options]   the store benchmark (bench/store.ts)
 *   metrics [options] SIZE  usemem while serving Prometheus metrics (--listen HOST:PORT)
 * Errors with a ZstashError code print their message and exit 1 (2 for bad usage).
 */
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ZstashError, InvalidArgumentError } from '../errors.js'
import { usememCommand } from './usemem-cmd.js'
import { reportCommand } from './report-cmd.js'
import { mainJob } from './main-job.js'
import { metricsCommand } from './metrics-cmd.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const distRoot = path.resolve(here, '..', '..')

function runScript(relative: string, args: string[]): number {
  const r = spawnSync(process.execPath, [path.join(distRoot, relative), ...args], { stdio: 'inherit' })
  return r.status ?? 1
}

const USAGE = 'usage: zstash <main | usemem | metrics | report | bench-store> [options]   (zstash <command> --help)'

async function run(command: string, rest: string[]): Promise<number> {
  switch (command) {
    case 'main':
      return mainJob(rest)
    case 'usemem':
      return usememCommand(rest)
    case 'report':
      return reportCommand(rest)
    case 'metrics':
      return metricsCommand(rest)
    case 'bench-store':
      return runScript('bench/store.js', rest)
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE)
      return 0
    default:
      console.error(USAGE)
      return 2
  }
}

const [command = 'help', ...rest] = process.argv.slice(2)
run(command, rest).then(
  (code) => { process.exitCode = code },
  (err) => {
    if (err instanceof ZstashError) {
      console.error(`zstash ${command}: ${err.message} [${err.code}]`)
      process.exitCode = err instanceof InvalidArgumentError ? 2 : 1
    } else {
      console.error(err)
      process.exitCode = 1
    }
  },
)
