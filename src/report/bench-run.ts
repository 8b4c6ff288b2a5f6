/**
 * The JSON one bench run writes (bench/lib/run-record.ts, under artifacts/) and
 * `zstash report --compare` reads: rows with stable ids, each with its thread
 * count, and for a bounded row the ceiling it was divided by.
 */
import { readFileSync } from 'node:fs'
import { InvalidArgumentError } from '../errors.js'

export const BENCH_SCHEMA = 'zstash-bench/1'

export interface BenchRow {
  /** Stable across runs: what is measured, on what, with how many threads (e.g. pool/store/node-64m/lz4/zstash/t2). */
  id: string
  label: string
  /** Threads doing the work. */
  threads: number
  unit: string
  /** Best of the samples: the number tables print. */
  value: number
  samples?: number[]
  /** The ceiling row this one is divided by (same run, same thread count). */
  ceiling_id?: string
  ceiling?: number
  ratio?: number
  /**
   * Median over rounds of (ceiling round time / this row's round time), each row round
   * paired with the ceiling round run just before it: steadier than best/best when the
   * host's load moves during a run.
   */
  ratio_paired_median?: number
  /** Other comparisons: name -> ratio (e.g. vs_naive_t1). */
  vs?: Record<string, number>
  note?: string
}

export interface BenchRun {
  schema: typeof BENCH_SCHEMA
  bench: string
  command: string
  started_at: string
  finished_at: string
  git: { commit: string; dirty: boolean; branch: string }
  machine: { hostname: string; cpus: number; cpu_model: string; memory_bytes: number; kernel: string; node: string; loadavg_start: number[]; loadavg_end: number[] }
  libraries: string
  params: Record<string, unknown>
  rows: BenchRow[]
  notes: string[]
}

export function checkBenchRun(value: unknown, where = 'bench run'): BenchRun {
  const r = value as Partial<BenchRun>
  if (typeof r !== 'object' || r === null || r.schema !== BENCH_SCHEMA || !Array.isArray(r.rows)) {
    throw new InvalidArgumentError(`${where} is not a ${BENCH_SCHEMA} file (written by the benchmarks under artifacts/)`, 'ERR_ZSTASH_BAD_RESULT')
  }
  for (const [i, row] of r.rows.entries()) {
    if (typeof row?.id !== 'string' || typeof row.value !== 'number' || typeof row.threads !== 'number') {
      throw new InvalidArgumentError(`${where}: row ${i} lacks an id, a numeric value or a thread count`, 'ERR_ZSTASH_BAD_RESULT')
    }
  }
  return r as BenchRun
}

export function readBenchRun(file: string): BenchRun {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new InvalidArgumentError(`cannot read bench run ${JSON.stringify(file)}: ${(err as Error).message}`, 'ERR_ZSTASH_BAD_RESULT')
  }
  return checkBenchRun(parsed, file)
}
