/**
 * A self-contained HTML page: the table plus charts of throughput, elapsed and
 * sys time, compression ratio and every non-zero counter, all inline SVG.
 */
import type { ReportTable, ReportRow } from './model.js'
import { rowCells, changeHeaders, formatValue } from './format.js'
import { barChart, escapeXml } from './charts.js'

const CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; background: #fff; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
table { border-collapse: collapse; margin: 12px 0; }
th, td { padding: 3px 10px; border-bottom: 1px solid #ddd; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.section td { background: #f3f3f3; font-weight: 600; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
.chart { border: 1px solid #e3e3e3; background: #fcfcfc; }
.chart-title { font-size: 13px; font-weight: 600; }
.bar-value, .category, .legend { font-size: 11px; fill: #333; }
.meta { color: #666; font-size: 12px; }
`

function tableHtml(t: ReportTable): string {
  const header = ['', ...t.labels, ...changeHeaders(t.labels, t.baseline)]
  const rows: string[] = []
  const add = (title: string | null, list: ReportRow[]) => {
    if (title) rows.push(`<tr class="section"><td colspan="${header.length}">${escapeXml(title)}</td></tr>`)
    for (const r of list) rows.push(`<tr><td>${escapeXml(r.name)}</td>${rowCells(r, t.baseline).map((c) => `<td class="num">${escapeXml(c)}</td>`).join('')}</tr>`)
  }
  add(null, t.headline)
  add('counters', t.counters)
  add('zstash', t.extra)
  if (t.tier.length) add('tier below the pool', t.tier)
  if (t.live.length) add('recompress (before / after)', t.live)
  return `<table id="report-table"><thead><tr>${header.map((h, i) => `<th${i ? ' class="num"' : ''}>${escapeXml(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`
}

const num = (v: number | string | null) => (typeof v === 'number' ? v : NaN)

export function renderHtml(t: ReportTable): string {
  const find = (name: string) => [...t.headline, ...t.counters, ...t.extra, ...t.tier, ...t.live].find((r) => r.name === name)
  const series = (rows: ReportRow[]) => t.labels.map((label, i) => ({ label, values: rows.map((r) => num(r.values[i])) }))
  const charts: string[] = []
  const throughput = [find('Total throughput (KB/s)')!, find('Avg throughput (KB/s)')!]
  charts.push(barChart({ id: 'chart-throughput', title: 'Throughput (KB/s)', categories: ['total', 'avg per task'], series: series(throughput), format: (n) => formatValue(n, 'kbps') }))
  const times = [find('elapsed time (sec)')!, find('sys time (sec)')!, find('user time (sec)')!]
  charts.push(barChart({ id: 'chart-time', title: 'Elapsed / sys / user time (sec)', categories: ['elapsed', 'sys', 'user'], series: series(times), format: (n) => formatValue(n, 'sec') }))
  charts.push(barChart({ id: 'chart-ratio', title: 'Compression ratio (stored bytes / pool bytes)', categories: ['ratio'], series: series([find('compression ratio')!]), format: (n) => n.toFixed(2) }))
  const latency = ['swap-in µs p50, pool', 'swap-in µs p99, pool', 'swap-in µs p50, backing store', 'swap-in µs p99, backing store'].map(find)
  if (latency.every((r) => r !== undefined)) {
    charts.push(barChart({ id: 'chart-swapin-latency', title: 'Swap-in latency per tier (µs per call)', categories: ['pool p50', 'pool p99', 'backing p50', 'backing p99'], series: series(latency as ReportRow[]), format: (n) => formatValue(n, 'us') }))
  }
  const perReads = ['reread zswpin per 1,000 reads', 'reread pswpin per 1,000 reads'].map(find)
  if (perReads.every((r) => r !== undefined)) {
    charts.push(barChart({ id: 'chart-swapins-per-1000', title: 'Swap-ins per 1,000 re-reads', categories: ['from the pool', 'from the backing store'], series: series(perReads as ReportRow[]), format: (n) => n.toFixed(1) }))
  }
  // One small chart per counter that is non-zero somewhere: counters differ by orders of magnitude.
  const counterCharts = t.counters
    .filter((r) => r.values.some((v) => typeof v === 'number' && v !== 0))
    .map((r, k) => barChart({ id: `chart-counter-${k}`, title: r.name, categories: [''], series: series([r]), format: (n) => formatValue(n, 'count'), width: 250, height: 200 }))
  const cfg = t.results[0]
  const meta = t.results.map((r) => `${escapeXml(r.label)}: ${escapeXml(r.command || `${r.config.tasks} × ${r.config.size} bytes`)} — node ${escapeXml(r.host.node)}, ${r.host.cpus} CPUs ${escapeXml(r.host.cpu_model)}, ${escapeXml(r.started_at)}`).join('<br>')
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(t.title)}</title><style>${CSS}</style></head>
<body>
<h1>${escapeXml(t.title)}</h1>
<p class="meta">${meta}</p>
${tableHtml(t)}
<h2>Throughput and time</h2>
<div class="charts">${charts.join('\n')}</div>
<h2>Counters</h2>
<div class="charts" id="counter-charts">${counterCharts.join('\n') || '<p>No counter is non-zero.</p>'}</div>
<p class="meta">zstash ${escapeXml(cfg.config.folio)} folios; pswpout/pswpin are the pages written to and read from the backing store (0 without one); SWPOUT is 0 by construction (writeback moves single pages).</p>
</body></html>
`
}
