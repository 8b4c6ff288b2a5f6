/**
 * `zstash main`: the README's main job. usemem with 4 tasks × 256 MiB sharing a
 * 512 MiB resident limit (64K folios), once with lz4 and once with zstd, on the
 * embedded software codecs (compression in the worker pool, one thread per
 * CPU); then the cover-letter table, lz4 as the baseline.
 * Every byte is verified after each run (outside the timed part).
 * The report is also written to artifacts/main-report.{json,md,html}.
 *
 * Then the tier phase (docs/writeback.md): a data set larger than the pool
 * limit, so cold pages are written back to a file backing store, and a
 * skewed re-read (80 % of reads to 20 % of the pages) brings them back; every
 * byte verified, the tier rows in artifacts/main-tier-report.{json,md,html}.
 * The job fails if no page went pool → file → back.
 *
 * --recompress C[:LEVEL] / --dictionary operate each compressor run's store
 * live after its timed phases (docs/recompress.md); the report shows the
 * pool before and after.
 */
import { parseArgs } from 'node:util'
import { availableParallelism } from 'node:os'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { InvalidArgumentError } from '../errors.js'
import { resolveUsemem, parseRecompressSpec, type UsememOptions } from '../usemem/options.js'
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
        recompress: { type: 'string' },
        dictionary: { type: 'boolean' },
        // The tier phase: tasks × size under a resident limit, the store's pool limit well below the compressed data.
        'tier-size': { type: 'string', default: '32m' },
        'tier-tasks': { type: 'string', default: '2' },
        'tier-limit': { type: 'string', default: '16m' },
        'tier-pool-limit': { type: 'string', default: '4m' },
        'tier-reread': { type: 'string', default: 'skew' },
        'no-tier': { type: 'boolean' },
      },
    }))
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message, 'ERR_ZSTASH_UNKNOWN_OPTION')
  }
  const compressors = values.compressors!.split(',').filter(Boolean)
  const recompress = values.recompress !== undefined ? parseRecompressSpec(values.recompress) : undefined
  const live = `${recompress ? ` --recompress ${values.recompress}` : ''}${values.dictionary ? ' --dictionary' : ''}`
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
        recompress, dictionary: values.dictionary ?? false,
      })
      const command = `zstash usemem --init-time --verify -n ${o.tasks} --limit ${values.limit} --folio ${o.folio} --compressor ${compressor} --workers ${o.workers}${live} ${values.size}`
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
  const tierOk = values['no-tier'] ? true : await tierPhase(values, compressors[0] ?? 'lz4', Number(values.workers))
  return verified && tierOk ? 0 : 1
}

/**
 * The tier phase: pages flow pool → file → back. One usemem run whose data
 * set is larger than the pool limit, with a file backing store and a skewed
 * re-read; it passes only if pages were written back, read back from the
 * file, and every byte verified.
 */
async function tierPhase(values: Record<string, string | boolean | undefined>, compressor: string, workers: number): Promise<boolean> {
  const size = String(values['tier-size'])
  const o: UsememOptions = resolveUsemem({
    size: parseSize(size), tasks: Number(values['tier-tasks']), limit: parseSize(String(values['tier-limit'])), folio: '64k',
    compressor, workers, verify: true, progress: process.stderr.isTTY === true,
    poolLimit: parseSize(String(values['tier-pool-limit'])), backing: { type: 'file' },
    reread: 1, rereadPattern: String(values['tier-reread']) as UsememOptions['rereadPattern'],
  })
  const command = `zstash usemem --verify -n ${o.tasks} --limit ${values['tier-limit']} --pool-limit ${values['tier-pool-limit']} --backing file --reread 1 --reread-pattern ${o.rereadPattern} --compressor ${compressor} --workers ${workers} ${size}`
  console.log(`\n# tier phase: ${o.tasks} × ${size} through a ${values['tier-pool-limit']} pool, the rest in a file`)
  console.log(`# ${command}`)
  const result = await runUsemem(o, processIo, command)
  const table = buildTable([result], { title: `tier phase: ${o.tasks} × ${size}, pool limit ${values['tier-pool-limit']}, file backing store, re-read ${o.rereadPattern}` })
  console.log('')
  console.log(render(table, 'text'))
  const t = result.tier!
  const flowed = t.written_back_pages > 0 && t.pswpin > 0
  const ok = flowed && result.verify?.ok === true && t.writeback_fail === 0 && t.backing_load_fail === 0
  console.log(`\ntier: ${t.written_back_pages} pages written back to the file, ${t.pswpin} read back from it (pswpin), ${result.reread?.zswpin ?? 0} re-read from the pool; every byte verified: ${result.verify?.ok ? 'yes' : 'NO'}${flowed ? '' : '; NO page went pool -> file -> back: lower --tier-pool-limit'}`)
  const out = String(values.out)
  for (const format of ['json', 'md', 'html'] as const) writeFileSync(path.join(out, `main-tier-report.${format}`), render(table, format) + '\n')
  writeFileSync(path.join(out, 'main-tier-results.json'), JSON.stringify([result], null, 2) + '\n')
  console.log(`tier report written to ${path.join(out, 'main-tier-report.{json,md,html}')}`)
  return ok
}
