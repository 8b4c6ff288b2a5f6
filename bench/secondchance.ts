/**
 * Second chance vs no second chance under a pool limit of 25 % of the data set
 * (issue 10): usemem writes the data set once through a SwapCache whose store
 * has a file backing store, then re-reads it skewed (80 % of the reads to a
 * fixed 20 % of the pages); the number is swap-ins from the backing store
 * (pswpin) per 1,000 page reads during the re-read. Every page is checked.
 *
 * "No second chance" is the same CLOCK hand with the referenced bit ignored:
 * it writes back pool entries in key order whatever their use — what a
 * writeback without reference information does (zswap's LRU before its second
 * chance was an insertion-order list rotated only on store). The pool limit is
 * 25 % of the data set's compressed size, measured by a first run without a
 * limit. 4 KiB folios, so one read is one page (no readahead of a folio).
 *
 * Usage: node dist/bench/secondchance.js [--size 32m] [--tasks 1] [--passes 2] [--repeat 3] [--data usemem|mix]
 */
import { parseArgs } from 'node:util'
import { resolveUsemem } from '../src/usemem/options.js'
import { runUsemem, silentIo } from '../src/usemem/run.js'
import { parseSize } from '../src/usemem/size.js'
import type { DataKind } from '../src/usemem/pattern.js'
import { printTable, fmt } from './lib/table.js'

const { values } = parseArgs({ options: {
  size: { type: 'string', default: '32m' }, tasks: { type: 'string', default: '1' }, passes: { type: 'string', default: '2' },
  repeat: { type: 'string', default: '3' }, data: { type: 'string', default: 'mix' }, workers: { type: 'string', default: '0' },
} })
const size = parseSize(values.size!)
const tasks = Number(values.tasks)
const passes = Number(values.passes)
const repeat = Number(values.repeat)
const data = values.data as DataKind
const workers = Number(values.workers)
// The resident limit: an eighth of the data set, so the re-read goes through the store.
const limit = Math.max(1 << 20, Math.floor(size / 8))
const base = { size, tasks, limit, folio: '4k' as const, data, workers, verify: false }

const unlimited = await runUsemem(resolveUsemem(base), silentIo)
const compressed = unlimited.store.pool_total_size
const poolLimit = Math.max(64 << 10, Math.floor(compressed / 4))
console.log(`# ${tasks} × ${values.size} (${data}), resident limit ${limit >> 20} MiB, data set in the pool ${fmt(compressed / 2 ** 20, 1)} MiB -> pool limit ${fmt(poolLimit / 2 ** 20, 2)} MiB (25 %), skewed re-read 80/20 × ${passes}, ${repeat} runs each, file backing store`)

interface Run { pswpinPer1000: number; zswpinPer1000: number; writtenBack: number; kbps: number }
const runs: Record<'on' | 'off', Run[]> = { on: [], off: [] }
for (let r = 0; r < repeat; r++) {
  for (const mode of (r % 2 === 0 ? ['on', 'off'] : ['off', 'on']) as ('on' | 'off')[]) {
    const res = await runUsemem(resolveUsemem({
      ...base, verify: true, poolLimit, backing: { type: 'file' }, secondChance: mode === 'on', reread: passes, rereadPattern: 'skew', seed: 7,
    }), silentIo)
    if (!res.verify?.ok) throw new Error('verify failed')
    const rr = res.reread!
    runs[mode].push({ pswpinPer1000: rr.pswpin_per_1000_reads, zswpinPer1000: rr.zswpin_per_1000_reads, writtenBack: rr.pswpout, kbps: rr.total_kbps })
  }
}
const span = (v: number[], d = 1) => { const lo = Math.min(...v), hi = Math.max(...v); return lo === hi ? fmt(lo, d) : `${fmt(lo, d)}–${fmt(hi, d)}` }
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]
const row = (name: string, rs: Run[]) => [name, span(rs.map((x) => x.pswpinPer1000)), span(rs.map((x) => x.zswpinPer1000)), span(rs.map((x) => x.writtenBack), 0), span(rs.map((x) => x.kbps), 0)]
console.log(printTable(['writeback policy', 'pswpin / 1,000 reads', 'zswpin / 1,000 reads', 'written back during re-read', 're-read KB/s'],
  [row('CLOCK, second chance', runs.on), row('no second chance', runs.off)]))
const on = median(runs.on.map((x) => x.pswpinPer1000))
const off = median(runs.off.map((x) => x.pswpinPer1000))
console.log(`ratio (medians): second chance reads ${fmt(on, 1)} / ${fmt(off, 1)} = ${fmt(on / off, 2)}× the backing-store swap-ins of no second chance (${fmt((on / off - 1) * 100, 0)} %; zswap reported -64 % on its workloads)`)
