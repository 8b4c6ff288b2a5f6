/**
 * `zstash main`: the README's main job. usemem with 4 tasks × 256 MiB sharing a
 * 512 MiB resident limit (64K folios), once with lz4 and once with zstd, on the
 * embedded software codecs (compression in the worker pool, one thread per
 * CPU); then the cover-letter table, lz4 as the baseline.
 * Every byte is verified after each run (outside the timed part).
 * The report is also written to artifacts/main-report.{json,md,html}.
 */
import { parseArgs } from 'node:util'
import { availableParallelism } from 'node:os'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { InvalidArgumentError } from '../errors.js'
import { resolveUsemem } from '../usemem/options.js'
import { parseSize } from '../usemem/size.js'
import { runUsemem, processIo } from '../usemem/run.js'
import type { UsememResult } from '../usemem/result.js'
import { buildTable, render } from '../report/index.js'
import type { FolioSize } from '../swapcache/options.js'
import client from 'prom-client'
import { createMetrics, type StoreMetrics } from '../metrics/metrics.js'
import { serveMetrics, type MetricsServer } from '../metrics/server.js'

export async function mainJob(argv: string[]): Promise<number> {
  let values
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        size: { type: 'string', default: '256m' },
        tasks: { type: 'string', default: '4' },
        limit: { type: 'string', default: '512m' },
        folio: { type: 'string', default: '64k' },
        compressors: { type: 'string', default: 'lz4,zstd' },
        workers: { type: 'string', default: String(availableParallelism()) },
        out: { type: 'string', default: 'artifacts' },
        // Serve each run's store metrics at http://HOST:PORT/metrics while it runs (loopback).
        'metrics-listen': { type: 'string' },
      },
    }))
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message, 'ERR_ZSTASH_UNKNOWN_OPTION')
  }
  const compressors = values.compressors!.split(',').filter(Boolean)
  const results: UsememResult[] = []
  const registry = new client.Registry()
  let server: MetricsServer | undefined
  let metrics: StoreMetrics | undefined
  if (values['metrics-listen']) {
    server = await serveMetrics({ listen: values['metrics-listen'], registry })
    console.log(`# metrics: ${server.url}`)
  }
  try {
    for (const compressor of compressors) {
      const o = resolveUsemem({
        size: parseSize(values.size!), tasks: Number(values.tasks), limit: parseSize(values.limit!), folio: values.folio as FolioSize,
        compressor, workers: Number(values.workers), initTime: true, verify: true, progress: process.stderr.isTTY === true,
      })
      const command = `zstash usemem --init-time --verify -n ${o.tasks} --limit ${values.limit} --folio ${o.folio} --compressor ${compressor} --workers ${o.workers} ${values.size}`
      console.log(`# ${command}`)
      results.push(await runUsemem(o, processIo, command, server && ((store, cache) => {
        metrics?.unregister()
        metrics = createMetrics({ registry, source: store, swapCache: cache })
      })))
      console.log('')
    }
  } finally {
    metrics?.unregister()
    await server?.close()
  }
  const table = buildTable(results, { baseline: results.length > 1 ? 0 : undefined })
  console.log(render(table, 'text'))
  const verified = results.every((r) => r.verify?.ok)
  console.log(`\nverify: every byte of every task read back and correct: ${verified ? 'yes' : 'NO'}`)
  mkdirSync(values.out!, { recursive: true })
  for (const format of ['json', 'md', 'html'] as const) writeFileSync(path.join(values.out!, `main-report.${format}`), render(table, format) + '\n')
  writeFileSync(path.join(values.out!, 'main-results.json'), JSON.stringify(results, null, 2) + '\n')
  console.log(`report written to ${path.join(values.out!, 'main-report.{json,md,html}')}`)
  return verified ? 0 : 1
}
