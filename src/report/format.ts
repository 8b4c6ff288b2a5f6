/** Cell formatting shared by every output: thousands separators, the letters' percent style. */
import type { ReportRow, RowKind } from './model.js'

export function formatValue(value: number | string | null, kind: RowKind): string {
  if (value === null) return ''
  if (typeof value === 'string') return value
  switch (kind) {
    case 'sec':
      return value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })
    case 'ratio':
      return value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })
    case 'us':
      return value.toLocaleString('en-US', { maximumFractionDigits: value < 100 ? 1 : 0 })
    default:
      return Math.round(value).toLocaleString('en-US')
  }
}

/** "49%", "-25%", "0.2%": one decimal below 2%, whole percents above, as the letters print them. */
export function formatChange(change: number | null): string {
  if (change === null) return ''
  const digits = Math.abs(change) < 1.95 ? 1 : 0
  const text = change.toFixed(digits)
  return `${text === '-0.0' || text === '-0' ? text.slice(1) : text}%`
}

/** Columns of a row: the values, then one % change per non-baseline column. */
export function rowCells(row: ReportRow, baseline: number): string[] {
  const cells = row.values.map((v) => formatValue(v, row.kind))
  if (baseline >= 0) row.change.forEach((c, i) => { if (i !== baseline) cells.push(formatChange(c)) })
  return cells
}

export function changeHeaders(labels: string[], baseline: number): string[] {
  if (baseline < 0) return []
  return labels.flatMap((l, i) => (i === baseline ? [] : [labels.length > 2 ? `% change ${l}` : '% change']))
}
