/**
 * One JSON file per bench run (artifacts/<bench>-<time>.json), so two runs can be
 * compared row by row with `zstash report --compare a.json b.json`.
 *
 * A row is one measured number with its thread count. A row that is bounded by a
 * ceiling names that ceiling's row and carries the ratio, so a reader never has
 * to guess which ceiling (how many threads, which run) a ratio divides by.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, totalmem, loadavg, release, hostname } from 'node:os'
import path from 'node:path'
import { repoRoot } from './corpus.js'
import { BENCH_SCHEMA, type BenchRow, type BenchRun } from '../../src/report/bench-run.js'

export { BENCH_SCHEMA }
export type { BenchRow, BenchRun }

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return ''
  }
}

export class RunRecord {
  readonly rows: BenchRow[] = []
  readonly notes: string[] = []
  private readonly started = new Date()
  private readonly loadStart = loadavg()

  constructor(readonly bench: string, readonly params: Record<string, unknown>, readonly libraries: string) {}

  add(row: BenchRow): BenchRow {
    if (this.rows.some((r) => r.id === row.id)) throw new Error(`duplicate bench row id ${row.id}`)
    this.rows.push(row)
    return row
  }

  /** A row divided by a ceiling row; refuses a ceiling with another thread count. */
  addBounded(row: Omit<BenchRow, 'ceiling' | 'ceiling_id' | 'ratio'>, ceiling: BenchRow): BenchRow {
    if (ceiling.threads !== row.threads) throw new Error(`${row.id}: ${row.threads} threads divided by a ${ceiling.threads}-thread ceiling`)
    return this.add({ ...row, ceiling_id: ceiling.id, ceiling: ceiling.value, ratio: row.value / ceiling.value })
  }

  get(id: string): BenchRow | undefined {
    return this.rows.find((r) => r.id === id)
  }

  toJSON(): BenchRun {
    const commit = git(['rev-parse', 'HEAD'])
    return {
      schema: BENCH_SCHEMA,
      bench: this.bench,
      command: process.argv.slice(1).map((a) => path.relative(repoRoot, a).startsWith('..') ? a : path.relative(repoRoot, a) || a).join(' '),
      started_at: this.started.toISOString(),
      finished_at: new Date().toISOString(),
      git: { commit, dirty: git(['status', '--porcelain', '--untracked-files=no']) !== '', branch: git(['rev-parse', '--abbrev-ref', 'HEAD']) },
      machine: {
        hostname: hostname(), cpus: cpus().length, cpu_model: cpus()[0]?.model ?? 'unknown', memory_bytes: totalmem(),
        kernel: release(), node: process.version, loadavg_start: this.loadStart, loadavg_end: loadavg(),
      },
      libraries: this.libraries,
      params: this.params,
      rows: this.rows,
      notes: this.notes,
    }
  }

  /** Writes artifacts/<bench>-<time>.json (or `file`) and returns the path. */
  write(file?: string): string {
    const out = file ?? path.join(repoRoot, 'artifacts', `${this.bench}-${this.started.toISOString().replace(/[:.]/g, '-')}.json`)
    mkdirSync(path.dirname(out), { recursive: true })
    writeFileSync(out, JSON.stringify(this.toJSON(), null, 2) + '\n')
    return out
  }
}

/** Timing samples in ms -> the row fields for a throughput in MB/s of `bytes`. */
export function throughput(bytes: number, samplesMs: number[]): { value: number; samples: number[] } {
  const rates = samplesMs.map((ms) => bytes / 1e6 / (ms / 1000))
  return { value: Math.max(...rates), samples: rates.map((r) => Math.round(r * 10) / 10) }
}

/** Median of a / b over paired samples (e.g. ceiling ms / row ms of the same round). */
export function pairedMedian(a: number[], b: number[]): number {
  if (a.length !== b.length || a.length === 0) throw new Error(`paired samples differ in length: ${a.length} vs ${b.length}`)
  const r = a.map((x, i) => x / b[i]).sort((x, y) => x - y)
  const m = r.length >> 1
  return r.length % 2 ? r[m] : (r[m - 1] + r[m]) / 2
}

/** "best (min–max)" for tables. */
export function spread(row: BenchRow, digits = 0): string {
  const f = (n: number) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
  if (!row.samples || row.samples.length < 2) return f(row.value)
  return `${f(row.value)} (${f(Math.min(...row.samples))}–${f(Math.max(...row.samples))})`
}
