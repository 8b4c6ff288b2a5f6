/** Machine-readable report: the table's rows with raw numbers and their formatted cells. */
import type { ReportTable } from './model.js'
import { rowCells } from './format.js'

export function renderJson(t: ReportTable): string {
  const rows = (section: string, list: typeof t.headline) =>
    list.map((r) => ({ section, name: r.name, values: r.values, change_percent: r.change, cells: rowCells(r, t.baseline) }))
  return JSON.stringify({
    title: t.title,
    labels: t.labels,
    baseline: t.baseline >= 0 ? t.labels[t.baseline] : null,
    rows: [...rows('headline', t.headline), ...rows('counters', t.counters), ...rows('zstash', t.extra), ...rows('tier', t.tier), ...rows('live', t.live)],
  }, null, 2)
}
