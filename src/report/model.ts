/**
 * The cover-letter table as data: one column per usemem result, rows in the
 * letters' order (headline rows, then counters), and a "% change" column per
 * non-baseline result when a baseline is given. Every output format renders
 * this one model, so they cannot disagree.
 */
import { readFileSync } from 'node:fs'
import { InvalidArgumentError } from '../errors.js'
import { USEMEM_SCHEMA, type UsememResult } from '../usemem/result.js'

export type RowKind = 'kbps' | 'sec' | 'count' | 'ratio' | 'text'

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
  if (results.some((r) => r.read_again.length > 0)) extra.push(row('read again total (KB/s)', 'kbps', (r) => r.read_again_total_kbps || null, true))
  const c = results[0].config
  const title = options.title ??
    `usemem${c.tasks}: ${c.tasks} × ${mib(c.size)} MiB, limit ${mib(c.limit)} MiB, ${c.folio} folios, ${c.data_description}`
  return { title, labels: results.map((r) => r.label), baseline, headline, counters, extra, results }
}

function mib(n: number): string {
  return (n / 2 ** 20).toLocaleString('en-US', { maximumFractionDigits: 1 })
}
