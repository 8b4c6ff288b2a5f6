/**
 * The cover-letter table as data: one column per usemem result, rows in the
 * letters' order (headline rows, then counters), and a "% change" column per
 * non-baseline result when a baseline is given. Every output format renders
 * this one model, so they cannot disagree.
 */
import { readFileSync } from 'node:fs'
import { InvalidArgumentError } from '../errors.js'
import { USEMEM_SCHEMA, type UsememResult } from '../usemem/result.js'

export type RowKind = 'kbps' | 'sec' | 'count' | 'ratio' | 'us' | 'text'

export interface ReportRow {
  name: string
  kind: RowKind
  values: (number | string | null)[]
  /** Percent change of each non-baseline column against the baseline, or null. */
  change: (number | null)[]
}

export interface ReportTable {
  title: string
  labels: string[]
  /** Index of the baseline column, or -1. */
  baseline: number
  headline: ReportRow[]
  counters: ReportRow[]
  extra: ReportRow[]
  /** The tier below the pool and the --reread phase (empty when no result has them). */
  tier: ReportRow[]
  /** --recompress / --dictionary: the pool before and after (empty when no result has them). */
  live: ReportRow[]
  results: UsememResult[]
}

export function readResult(file: string): UsememResult {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new InvalidArgumentError(`cannot read usemem result ${JSON.stringify(file)}: ${(err as Error).message}`)
  }
  return checkResult(parsed, file)
}

export function checkResult(value: unknown, where = 'result'): UsememResult {
  const r = value as Partial<UsememResult>
  if (typeof r !== 'object' || r === null || r.schema !== USEMEM_SCHEMA) {
    throw new InvalidArgumentError(`${where} is not a ${USEMEM_SCHEMA} result (written by zstash usemem --json)`, 'ERR_ZSTASH_BAD_RESULT')
  }
  return r as UsememResult
}

/** Signed percent change; null when the baseline is 0 (the letters leave those cells empty). */
export function percentChange(base: number, value: number): number | null {
  if (!Number.isFinite(base) || base === 0) return null
  return ((value - base) / base) * 100
}

export function buildTable(results: UsememResult[], options: { baseline?: number; title?: string } = {}): ReportTable {
  if (results.length === 0) throw new InvalidArgumentError('report needs at least one usemem result')
  const baseline = options.baseline ?? -1
  if (baseline >= results.length) throw new InvalidArgumentError(`baseline ${baseline} is not one of the ${results.length} results`, 'ERR_ZSTASH_OUT_OF_RANGE')
  const row = (name: string, kind: RowKind, pick: (r: UsememResult) => number | string | null, withChange: boolean): ReportRow => {
    const values = results.map(pick)
    const change = results.map((_, i) => {
      if (!withChange || baseline < 0 || i === baseline) return null
      const b = values[baseline]
      const v = values[i]
      return typeof b === 'number' && typeof v === 'number' ? percentChange(b, v) : null
    })
    return { name, kind, values, change }
  }
  const headline = [
    row('zswap compressor', 'text', (r) => r.store.compressor, false),
    row('Total throughput (KB/s)', 'kbps', (r) => r.total_throughput_kbps, true),
    row('Avg throughput (KB/s)', 'kbps', (r) => r.avg_throughput_kbps, true),
    row('elapsed time (sec)', 'sec', (r) => r.elapsed_sec, true),
    row('sys time (sec)', 'sec', (r) => r.sys_sec, true),
  ]
  // Union of counter names, in first-seen order (results may differ in folio size).
  const names: string[] = []
  for (const r of results) for (const k of Object.keys(r.counters)) if (!names.includes(k)) names.push(k)
  const counters = names.map((k) => row(k, 'count', (r) => r.counters[k] ?? null, false))
  const extra = [
    row('user time (sec)', 'sec', (r) => r.user_sec, true),
    row('compression ratio', 'ratio', (r) => r.store.compression_ratio, true),
    row('pool_total_size (bytes)', 'count', (r) => r.store.pool_total_size, true),
  ]
  // Results from before --charge-pool have no chargePool: they bounded frames only.
  if (results.some((r) => r.config.chargePool)) extra.push(row('pool charged to the limit', 'text', (r) => (r.config.chargePool ? 'yes' : 'no'), false))
  if (results.some((r) => r.read_again.length > 0)) extra.push(row('read again total (KB/s)', 'kbps', (r) => r.read_again_total_kbps || null, true))
  const tier = tierRows(results, row)
  const live = liveRows(results, row)
  const c = results[0].config
  const title = options.title ??
    `usemem${c.tasks}: ${c.tasks} × ${mib(c.size)} MiB, limit ${mib(c.limit)} MiB${c.chargePool ? ' (frames + pool)' : ''}, ${c.folio} folios, ${c.data_description}`
  return { title, labels: results.map((r) => r.label), baseline, headline, counters, extra, tier, live, results }
}

type RowMaker = (name: string, kind: RowKind, pick: (r: UsememResult) => number | string | null, withChange: boolean) => ReportRow

/**
 * Rows of the tier below the pool (writeback, swap-ins per tier, swap-in
 * latency per tier) and of the --reread phase, when any result has them.
 */
function tierRows(results: UsememResult[], row: RowMaker): ReportRow[] {
  const rows: ReportRow[] = []
  if (results.some((r) => r.tier)) {
    const t = (pick: (x: NonNullable<UsememResult['tier']>) => number | string) => (r: UsememResult) => (r.tier ? pick(r.tier) : null)
    rows.push(
      row('backing store', 'text', t((x) => `${x.backing} (${x.sealing})`), false),
      row('pool limit (bytes)', 'count', t((x) => x.pool_limit), false),
      row('second chance', 'text', t((x) => (x.second_chance ? 'yes' : 'no')), false),
      row('written_back_pages', 'count', t((x) => x.written_back_pages), true),
      row('writeback_batches', 'count', t((x) => x.writeback_batches), true),
      row('tier_pages (at the end)', 'count', t((x) => x.tier_pages), true),
      row('backing store bytes', 'count', t((x) => x.backing_bytes), true),
      row('writeback_fail', 'count', t((x) => x.writeback_fail), false),
      row('backing_load_fail', 'count', t((x) => x.backing_load_fail), false),
      row('reject_reclaim_fail', 'count', t((x) => x.reject_reclaim_fail), false),
      row('swap-in µs p50, pool', 'us', t((x) => x.load_latency_us.pool.p50), true),
      row('swap-in µs p99, pool', 'us', t((x) => x.load_latency_us.pool.p99), true),
      row('swap-in µs p50, backing store', 'us', t((x) => x.load_latency_us.backing.p50), true),
      row('swap-in µs p99, backing store', 'us', t((x) => x.load_latency_us.backing.p99), true),
    )
  }
  if (results.some((r) => r.reread)) {
    const rr = (pick: (x: NonNullable<UsememResult['reread']>) => number | string) => (r: UsememResult) => (r.reread ? pick(r.reread) : null)
    rows.push(
      row('reread pattern × passes', 'text', rr((x) => `${x.pattern} × ${x.passes}`), false),
      row('reread page reads', 'count', rr((x) => x.reads), false),
      row('reread throughput (KB/s)', 'kbps', rr((x) => x.total_kbps), true),
      row('reread zswpin (pool)', 'count', rr((x) => x.zswpin), true),
      row('reread pswpin (backing store)', 'count', rr((x) => x.pswpin), true),
      row('reread zswpin per 1,000 reads', 'ratio', rr((x) => x.zswpin_per_1000_reads), true),
      row('reread pswpin per 1,000 reads', 'ratio', rr((x) => x.pswpin_per_1000_reads), true),
    )
  }
  return rows
}

/** Rows of --recompress / --dictionary: the pool before and after, and what the rewrite saved. */
function liveRows(results: UsememResult[], row: RowMaker): ReportRow[] {
  if (!results.some((r) => r.recompress)) return []
  const rc = (pick: (x: NonNullable<UsememResult['recompress']>) => number | string) => (r: UsememResult) => (r.recompress ? pick(r.recompress) : null)
  return [
    row('recompress target', 'text', rc((x) => x.target), false),
    row('pool bytes before', 'count', rc((x) => x.before.pool_total_size), true),
    row('pool bytes after', 'count', rc((x) => x.after.pool_total_size), true),
    row('compressed bytes before', 'count', rc((x) => x.before.compressed_bytes), true),
    row('compressed bytes after', 'count', rc((x) => x.after.compressed_bytes), true),
    row('compression ratio before', 'ratio', rc((x) => x.before.compression_ratio), true),
    row('compression ratio after', 'ratio', rc((x) => x.after.compression_ratio), true),
    row('pages recompressed', 'count', rc((x) => x.pages), true),
    row('pages kept (did not shrink)', 'count', rc((x) => x.kept), false),
    row('bytes saved', 'count', rc((x) => x.saved_bytes), true),
    row('recompress time (sec)', 'sec', rc((x) => x.elapsed_sec), true),
  ]
}

function mib(n: number): string {
  return (n / 2 ** 20).toLocaleString('en-US', { maximumFractionDigits: 1 })
}
