/** `zstash usemem`: parse, run, print usemem's lines and a summary; exit 1 on wrong data. */
import { parseUsememArgs, USEMEM_USAGE } from '../usemem/options.js'
import { runUsemem, processIo } from '../usemem/run.js'
import { formatBytes } from '../usemem/size.js'
import { buildTable } from '../report/model.js'
import { renderText } from '../report/text.js'

export async function usememCommand(argv: string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    console.log(USEMEM_USAGE)
    return 0
  }
  const o = parseUsememArgs(argv)
  const result = await runUsemem(o, processIo, `zstash usemem ${redactPassword(argv).join(' ')}`)
  if (!o.quiet) {
    console.log('')
    console.log(renderText(buildTable([result])))
    if (result.verify) console.log(`verify: ${formatBytes(result.verify.checked_bytes)} read back, all correct`)
    if (o.json) console.log(`result written to ${o.json}`)
  }
  return 0
}

/** The command line as a result records it: a --backing-password value is not written anywhere. */
export function redactPassword(argv: string[]): string[] {
  return argv.map((a, i) => (argv[i - 1] === '--backing-password' ? '***' : a.startsWith('--backing-password=') ? '--backing-password=***' : a))
}
