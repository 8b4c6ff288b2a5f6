export { buildTable, readResult, checkResult, percentChange } from './model.js'
export type { ReportTable, ReportRow, RowKind } from './model.js'
export { formatValue, formatChange } from './format.js'
export { renderText } from './text.js'
export { renderMarkdown } from './markdown.js'
export { renderJson } from './json.js'
export { renderHtml } from './html.js'

import type { ReportTable } from './model.js'
import { renderText } from './text.js'
import { renderMarkdown } from './markdown.js'
import { renderJson } from './json.js'
import { renderHtml } from './html.js'

export type ReportFormat = 'text' | 'md' | 'json' | 'html'
export const REPORT_FORMATS: ReportFormat[] = ['text', 'md', 'json', 'html']

export function render(t: ReportTable, format: ReportFormat): string {
  switch (format) {
    case 'text': return renderText(t)
    case 'md': return renderMarkdown(t)
    case 'json': return renderJson(t)
    case 'html': return renderHtml(t)
  }
}
export { compareRuns, renderCompare, COMPARE_FORMATS } from './compare.js'
export type { CompareTable, CompareRow, CompareFormat } from './compare.js'
export { readBenchRun, checkBenchRun, BENCH_SCHEMA } from './bench-run.js'
export type { BenchRun, BenchRow } from './bench-run.js'
