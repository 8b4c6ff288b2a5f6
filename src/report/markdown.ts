/** GitHub-flavoured Markdown: one table, sections separated by a bold row. */
import type { ReportTable, ReportRow } from './model.js'
import { rowCells, changeHeaders } from './format.js'

const esc = (s: string) => s.replace(/\|/g, '\\|')

export function renderMarkdown(t: ReportTable): string {
  const header = ['', ...t.labels, ...changeHeaders(t.labels, t.baseline)]
  const lines = [`### ${esc(t.title)}`, '', `| ${header.map(esc).join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? ':---' : '---:')).join('|')}|`]
  const add = (rows: ReportRow[]) => { for (const r of rows) lines.push(`| ${[r.name, ...rowCells(r, t.baseline)].map(esc).join(' | ')} |`) }
  add(t.headline)
  lines.push(`| **counters** |${header.slice(1).map(() => ' ').join('|')}|`)
  add(t.counters)
  lines.push(`| **zstash** |${header.slice(1).map(() => ' ').join('|')}|`)
  add(t.extra)
  if (t.tier.length) {
    lines.push(`| **tier below the pool** |${header.slice(1).map(() => ' ').join('|')}|`)
    add(t.tier)
  }
  if (t.live.length) {
    lines.push(`| **recompress (before / after)** |${header.slice(1).map(() => ' ').join('|')}|`)
    add(t.live)
  }
  return lines.join('\n')
}
