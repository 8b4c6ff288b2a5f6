/**
 * Two bench runs side by side, row by row (rows match by id): both values, the
 * % change, and for bounded rows both ratios to their ceilings — the ratio is
 * the number to read on a noisy host, the absolute values move with the load.
 */
import { InvalidArgumentError } from '../errors.js'
import type { BenchRun } from './bench-run.js'
import { percentChange } from './model.js'
import { formatChange } from './format.js'

export interface CompareRow {
  id: string
  label: string
  unit: string
  threads: [number | null, number | null]
  values: [number | null, number | null]
  /** % change of B against A, null when either is missing or A is 0. */
  change: number | null
  ratios: [number | null, number | null]
  ratioChange: number | null
}

export interface CompareTable {
  title: string
  runs: [BenchRun, BenchRun]
  rows: CompareRow[]
  /** Rows whose thread count differs between the runs (a like-for-like warning). */
  threadMismatches: string[]
}

export type CompareFormat = 'text' | 'md' | 'json'
export const COMPARE_FORMATS: CompareFormat[] = ['text', 'md', 'json']

export function compareRuns(a: BenchRun, b: BenchRun, options: { title?: string } = {}): CompareTable {
  const bRows = withComparisons(b)
  const byId = new Map(bRows.map((r) => [r.id, r]))
  const seen = new Set<string>()
  const rows: CompareRow[] = []
  const mismatches: string[] = []
  const change = (x: number | null | undefined, y: number | null | undefined) => (typeof x === 'number' && typeof y === 'number' ? percentChange(x, y) : null)
  for (const ra of withComparisons(a)) {
    if (seen.has(ra.id)) throw new InvalidArgumentError(`row id ${ra.id} appears twice in run A`, 'ERR_ZSTASH_BAD_RESULT')
    seen.add(ra.id)
    const rb = byId.get(ra.id)
    if (rb && rb.threads !== ra.threads) mismatches.push(ra.id)
    rows.push({
      id: ra.id, label: ra.label, unit: ra.unit,
      threads: [ra.threads, rb?.threads ?? null],
      values: [ra.value, rb?.value ?? null],
      change: change(ra.value, rb?.value),
      ratios: [ra.ratio ?? null, rb?.ratio ?? null],
      ratioChange: change(ra.ratio, rb?.ratio),
    })
  }
  for (const rb of bRows) {
    if (seen.has(rb.id)) continue
    rows.push({ id: rb.id, label: rb.label, unit: rb.unit, threads: [null, rb.threads], values: [null, rb.value], change: null, ratios: [null, rb.ratio ?? null], ratioChange: null })
  }
  const title = options.title ?? `${a.bench === b.bench ? a.bench : `${a.bench} vs ${b.bench}`}: A ${describeRun(a)} → B ${describeRun(b)}`
  return { title, runs: [a, b], rows, threadMismatches: mismatches }
}

/** A row's other comparisons (vs_naive_t1, vs_loadSync_loop, …) become rows of their own, "id:name", so they line up too. */
function withComparisons(run: BenchRun): BenchRun['rows'] {
  return run.rows.flatMap((r) => [
    r,
    ...(r.ratio_paired_median === undefined ? [] : [{ id: `${r.id}:ratio_paired_median`, label: `${r.label} ratio, paired median`, threads: r.threads, unit: '×', value: r.ratio_paired_median }]),
    ...Object.entries(r.vs ?? {}).map(([k, v]) => ({ id: `${r.id}:${k}`, label: `${r.label} ${k}`, threads: r.threads, unit: '×', value: v })),
  ])
}

function describeRun(r: BenchRun): string {
  const commit = r.git?.commit ? r.git.commit.slice(0, 9) + (r.git.dirty ? '+dirty' : '') : 'unknown commit'
  return `${commit} ${r.started_at}`
}

function num(n: number | null, unit: string): string {
  if (n === null) return ''
  const abs = Math.abs(n)
  const digits = Number.isInteger(n) ? 0 : unit === 'µs' || abs < 10 ? 2 : abs < 100 ? 1 : 0
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

function threads(t: [number | null, number | null]): string {
  return t[0] === null || t[1] === null || t[0] === t[1] ? String(t[0] ?? t[1]) : `${t[0]}→${t[1]}`
}

function cells(r: CompareRow): string[] {
  return [r.id, threads(r.threads), r.unit, num(r.values[0], r.unit), num(r.values[1], r.unit), formatChange(r.change),
    r.ratios[0] === null ? '' : r.ratios[0].toFixed(2), r.ratios[1] === null ? '' : r.ratios[1].toFixed(2), formatChange(r.ratioChange)]
}

const HEADER = ['row', 'threads', 'unit', 'A', 'B', '% change', 'ratio A', 'ratio B', 'ratio % change']

export function renderCompare(t: CompareTable, format: CompareFormat): string {
  const body = t.rows.map(cells)
  const notes = [
    `A: ${t.runs[0].command} (${t.runs[0].machine?.cpus ?? '?'} CPUs ${t.runs[0].machine?.cpu_model ?? ''}, load ${fmtLoad(t.runs[0])})`,
    `B: ${t.runs[1].command} (${t.runs[1].machine?.cpus ?? '?'} CPUs ${t.runs[1].machine?.cpu_model ?? ''}, load ${fmtLoad(t.runs[1])})`,
    'ratio = the row divided by its ceiling measured in the same run with the same thread count.',
    ...(t.threadMismatches.length ? [`thread counts differ for: ${t.threadMismatches.join(', ')}`] : []),
  ]
  if (format === 'json') {
    return JSON.stringify({ title: t.title, runs: t.runs.map((r) => ({ bench: r.bench, command: r.command, started_at: r.started_at, git: r.git, machine: r.machine })), rows: t.rows, thread_mismatches: t.threadMismatches }, null, 2)
  }
  if (format === 'md') {
    const esc = (s: string) => s.replace(/\|/g, '\\|')
    return [`### ${esc(t.title)}`, '', `| ${HEADER.join(' | ')} |`, `|:---|${HEADER.slice(1).map(() => '---:').join('|')}|`,
      ...body.map((r) => `| ${r.map(esc).join(' | ')} |`), '', ...notes.map((n) => `- ${esc(n)}`)].join('\n')
  }
  const all = [HEADER, ...body]
  const widths = HEADER.map((_, i) => Math.max(...all.map((r) => r[i].length)))
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd()
  return [t.title, '', line(HEADER), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line), '', ...notes].join('\n')
}

function fmtLoad(r: BenchRun): string {
  const l = r.machine?.loadavg_start
  return Array.isArray(l) && l.length ? l[0].toFixed(2) : '?'
}
