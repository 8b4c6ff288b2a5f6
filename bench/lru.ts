/**
 * The entry table's CLOCK (typed arrays, one referenced bit per entry) against
 * lru-cache 11 (isaacs) at 1 M entries, same thread, same key sequence
 * (docs/writeback.md, "Why the entry table keeps its typed-array CLOCK"):
 *
 *   - bytes per entry: heap + array buffers and RSS growth from an empty
 *     structure to 1 M entries, after a full GC (node --expose-gc);
 *   - ops/s: insert 1 M keys; 1 M lookups of random present keys (a hit marks
 *     the entry used: touch() / LRU move-to-front); eviction of 1 M keys
 *     (CLOCK: coldest() in writeback batches of 64 then erase; lru-cache: a
 *     set past `max` evicts its tail).
 *
 * The entry table stores what the store needs per page (handle, length,
 * checksum, kind/slot/flags: 14 bytes); lru-cache is given the same value as a
 * number (the handle), its best case: a value object per page would cost more.
 *
 * Usage: node --expose-gc dist/bench/lru.js [--entries 1000000] [--repeat 3]
 */
import { parseArgs } from 'node:util'
import { LRUCache } from 'lru-cache'
import { EntryTable, EntryKind } from '../src/internals.js'
import { printTable, fmt } from './lib/table.js'

const { values } = parseArgs({ options: { entries: { type: 'string', default: '1000000' }, repeat: { type: 'string', default: '3' } } })
const N = Number(values.entries)
const REPEAT = Number(values.repeat)
const gc = (globalThis as { gc?: () => void }).gc
if (!gc) console.log('# run with node --expose-gc for the memory rows (without it they are not measured)')

function memory(): { heap: number; rss: number } {
  gc?.()
  gc?.()
  const m = process.memoryUsage()
  return { heap: m.heapUsed + m.arrayBuffers, rss: m.rss }
}

function randomKeys(n: number, range: number, seed: number): Uint32Array {
  const out = new Uint32Array(n)
  let x = seed >>> 0 || 1
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5; x >>>= 0
    out[i] = x % range
  }
  return out
}

interface Result { name: string; heapPerEntry: number; rssPerEntry: number; insert: number; lookup: number; evict: number }

const lookups = randomKeys(N, N, 12345)
let sink = 0

function clock(): Result {
  const before = memory()
  let t = new EntryTable()
  let t0 = performance.now()
  for (let k = 0; k < N; k++) t.set(k, EntryKind.Compressed, 0, k + 1, 1200, k)
  const insert = N / ((performance.now() - t0) / 1000)
  const after = memory()
  t0 = performance.now()
  for (let i = 0; i < N; i++) if (t.find(lookups[i]) !== EntryKind.Empty) { t.touch(); sink += t.lo }
  const lookup = N / ((performance.now() - t0) / 1000)
  const batch = new Uint32Array(64)
  t0 = performance.now()
  let evicted = 0
  while (evicted < N) {
    const n = t.coldest(64, batch, true)
    if (n === 0) break
    for (let j = 0; j < n; j++) t.erase(batch[j])
    evicted += n
  }
  const evict = evicted / ((performance.now() - t0) / 1000)
  if (evicted !== N) throw new Error(`CLOCK evicted ${evicted} of ${N}`)
  t = undefined as unknown as EntryTable
  return { name: 'entry table CLOCK (typed arrays)', heapPerEntry: (after.heap - before.heap) / N, rssPerEntry: (after.rss - before.rss) / N, insert, lookup, evict }
}

function lru(): Result {
  const before = memory()
  let c = new LRUCache<number, number>({ max: N })
  let t0 = performance.now()
  for (let k = 0; k < N; k++) c.set(k, k + 1)
  const insert = N / ((performance.now() - t0) / 1000)
  const after = memory()
  t0 = performance.now()
  for (let i = 0; i < N; i++) sink += c.get(lookups[i]) ?? 0
  const lookup = N / ((performance.now() - t0) / 1000)
  t0 = performance.now()
  // Each set past max evicts the least recently used entry: N evictions.
  for (let k = N; k < 2 * N; k++) c.set(k, k + 1)
  const evict = N / ((performance.now() - t0) / 1000)
  if (c.size !== N) throw new Error('lru-cache size')
  c = undefined as unknown as LRUCache<number, number>
  return { name: 'lru-cache 11 (max 1 M, number values)', heapPerEntry: (after.heap - before.heap) / N, rssPerEntry: (after.rss - before.rss) / N, insert, lookup, evict }
}

const runs: Result[][] = []
for (let r = 0; r < REPEAT; r++) runs.push(r % 2 === 0 ? [clock(), lru()] : [lru(), clock()].reverse())
const range = (pick: (x: Result) => number, which: number, digits = 0) => {
  const v = runs.map((run) => pick(run[which]))
  const lo = Math.min(...v)
  const hi = Math.max(...v)
  return lo === hi || REPEAT === 1 ? fmt(lo, digits) : `${fmt(lo, digits)}–${fmt(hi, digits)}`
}
console.log(`# ${N.toLocaleString('en-US')} entries, ${REPEAT} runs (ranges over runs), one thread, node ${process.version}`)
const rows = [0, 1].map((w) => [
  runs[0][w].name,
  gc ? range((x) => x.heapPerEntry, w, 1) : 'n/a',
  gc ? range((x) => x.rssPerEntry, w, 1) : 'n/a',
  range((x) => x.insert / 1e6, w, 2),
  range((x) => x.lookup / 1e6, w, 2),
  range((x) => x.evict / 1e6, w, 2),
])
console.log(printTable(['structure', 'heap B/entry', 'RSS B/entry', 'insert M/s', 'lookup+mark M/s', 'evict M/s'], rows))
const med = (pick: (x: Result) => number, w: number) => { const v = runs.map((run) => pick(run[w])).sort((a, b) => a - b); return v[Math.floor(v.length / 2)] }
console.log(`ratio CLOCK / lru-cache (medians): memory ${fmt(med((x) => x.heapPerEntry, 1) / Math.max(1e-9, med((x) => x.heapPerEntry, 0)), 1)}× less, ` +
  `insert ${fmt(med((x) => x.insert, 0) / med((x) => x.insert, 1), 2)}×, lookup ${fmt(med((x) => x.lookup, 0) / med((x) => x.lookup, 1), 2)}×, evict ${fmt(med((x) => x.evict, 0) / med((x) => x.evict, 1), 2)}×`)
if (sink === -1) console.log(sink)
