/** Plain text, laid out like the cover letters: dashed rules, names left, numbers right. */
import type { ReportTable, ReportRow } from './model.js'
import { rowCells, changeHeaders } from './format.js'

export function renderText(t: ReportTable): string {
  const header = ['', ...t.labels, ...changeHeaders(t.labels, t.baseline)]
  const body = (rows: ReportRow[]) => rows.map((r) => [r.name, ...rowCells(r, t.baseline)])
  const sections = [body(t.headline), body(t.counters), body(t.extra), ...(t.tier.length ? [body(t.tier)] : []), ...(t.live.length ? [body(t.live)] : [])]
  const all = [header, ...sections.flat()]
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)))
  const fmt = (r: string[]) => r.map((c, i) => (i === 0 ? (c ?? '').padEnd(widths[i]) : (c ?? '').padStart(widths[i]))).join('   ').trimEnd()
  const rule = '-'.repeat(widths.reduce((s, w) => s + w, 0) + 3 * (widths.length - 1))
  const out = [t.title, '', rule, fmt(header), rule]
  sections.forEach((rows) => {
    for (const r of rows) out.push(fmt(r))
    out.push(rule)
  })
  return out.join('\n')
}
