/**
 * `zstash report`: cover-letter tables from usemem --json results, as text,
 * Markdown, JSON or HTML; with --compare, two bench runs (artifacts/*.json) row by row.
 */
import { parseArgs } from 'node:util'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { InvalidArgumentError } from '../errors.js'
import { buildTable, readResult, render, REPORT_FORMATS, type ReportFormat } from '../report/index.js'
import { compareRuns, renderCompare, readBenchRun, COMPARE_FORMATS, type CompareFormat } from '../report/index.js'

export const REPORT_USAGE = `usage: zstash report [options] RESULT.json...
       zstash report --compare A.json B.json [--format text|md|json] [--out FILE]
  --compare           two bench runs (artifacts/<bench>-<time>.json): rows matched by id, both values, % change, ratios
  --baseline FILE     the baseline result (first column; adds "% change" columns); may also be listed among the results
  --format F          text (default) | md | json | html
  --out FILE          write there instead of stdout (format from the extension when --format is absent)
  --title TEXT        table title`

export function reportCommand(argv: string[]): number {
  if (argv.includes('-h') || argv.includes('--help')) {
    console.log(REPORT_USAGE)
    return 0
  }
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { baseline: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' }, title: { type: 'string' }, compare: { type: 'boolean' } },
    })
  } catch (err) {
    const e = err as Error & { code?: string }
    throw new InvalidArgumentError(`${e.message}\n${REPORT_USAGE}`, e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? 'ERR_ZSTASH_UNKNOWN_OPTION' : 'ERR_ZSTASH_INVALID_ARGUMENT')
  }
  const { values: v, positionals } = parsed
  if (v.compare) return compareCommand(positionals, v)
  let files = positionals
  if (v.baseline) files = [v.baseline, ...files.filter((f) => path.resolve(f) !== path.resolve(v.baseline!))]
  if (files.length === 0) throw new InvalidArgumentError(`no result files given\n${REPORT_USAGE}`)
  const format = (v.format ?? formatFromExtension(v.out) ?? 'text') as ReportFormat
  if (!REPORT_FORMATS.includes(format)) {
    throw new InvalidArgumentError(`--format must be one of ${REPORT_FORMATS.join(', ')}, got ${JSON.stringify(v.format)}`, 'ERR_ZSTASH_UNKNOWN_OPTION')
  }
  const table = buildTable(files.map(readResult), { baseline: v.baseline ? 0 : undefined, title: v.title })
  const text = render(table, format)
  if (v.out) writeFileSync(v.out, text.endsWith('\n') ? text : text + '\n')
  else console.log(text)
  return 0
}

function compareCommand(files: string[], v: { format?: string; out?: string; title?: string; baseline?: string }): number {
  if (files.length !== 2) throw new InvalidArgumentError(`--compare takes exactly two bench run files, got ${files.length}\n${REPORT_USAGE}`)
  if (v.baseline) throw new InvalidArgumentError('--baseline does not apply to --compare (the first file is A, the second B)')
  const format = (v.format ?? formatFromExtension(v.out) ?? 'text') as CompareFormat
  if (!COMPARE_FORMATS.includes(format)) {
    throw new InvalidArgumentError(`--format for --compare must be one of ${COMPARE_FORMATS.join(', ')}, got ${JSON.stringify(v.format ?? v.out)}`, 'ERR_ZSTASH_UNKNOWN_OPTION')
  }
  const text = renderCompare(compareRuns(readBenchRun(files[0]), readBenchRun(files[1]), { title: v.title }), format)
  if (v.out) writeFileSync(v.out, text.endsWith('\n') ? text : text + '\n')
  else console.log(text)
  return 0
}

function formatFromExtension(file: string | undefined): ReportFormat | undefined {
  const ext = file ? path.extname(file).toLowerCase() : ''
  return ext === '.html' || ext === '.htm' ? 'html' : ext === '.md' ? 'md' : ext === '.json' ? 'json' : ext === '.txt' ? 'text' : undefined
}
