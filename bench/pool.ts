/**
 * Store and load benchmark, every row with its thread count and, where a
 * ceiling bounds it, the ratio to a ceiling with the same thread count measured
 * in this run (bench/lib/ceiling.ts: the raw native per-page loop on N worker
 * threads at once over the same pages).
 *
 * For each corpus and codec:
 *   store   zstash on the calling thread (workers: 0, 1 thread) and with the
 *           worker pool (W workers; the calling thread allocates and publishes),
 *           from ordinary memory and from a SharedArrayBuffer (read in place);
 *   load    a loadSync loop on the calling thread (1 thread); loadMany in batches
 *           of 64..16384 keys with the pool (W threads), next to that loop;
 *           single-page loadSync p50/p99 against one raw decompress call;
 *   naive   what a Node user writes instead: Map + lz4-napi compressSync /
 *           uncompressSync on the calling thread, and on W worker threads each
 *           with its own Map; zstash is compared with both.
 * With --scale: 4 M usemem-pattern pages (16 GiB logical): time, RSS, B/page.
 *
 * Run: node --expose-gc dist/bench/pool.js [--codecs lz4,zstd] [--corpora node-64m,py-64m]
 *        [--workers 2] [--repeat 5] [--batches 64,256,1024,4096,16384] [--scale] [--json FILE]
 * Writes artifacts/pool-<time>.json (compare two with `zstash report --compare`).
 */
import { parseArgs } from 'node:util'
import { availableParallelism } from 'node:os'
import { PageStore, PAGE_SIZE, loadNative } from '../src/internals.js'
import { readCorpusPages, corpusAvailable, type CorpusName } from './lib/corpus.js'
import { printTable, fmt } from './lib/table.js'
import { percentile, timeRounds } from './lib/stats.js'
import { Ceiling } from './lib/ceiling.js'
import { measureNaive, type NaiveTimes } from './lib/naive.js'
import { RunRecord, throughput, spread, type BenchRow } from './lib/run-record.js'

const { values } = parseArgs({
  options: {
    codecs: { type: 'string', default: 'lz4,zstd' },
    corpora: { type: 'string', default: 'node-64m,py-64m' },
    workers: { type: 'string', default: String(availableParallelism()) },
    folio: { type: 'string', default: '16' },
    repeat: { type: 'string', default: '5' },
    batches: { type: 'string', default: '64,256,1024,4096,16384' },
    scale: { type: 'boolean', default: false },
    'scale-pages': { type: 'string', default: String(4 << 20) },
    json: { type: 'string' },
  },
})
const W = Number(values.workers)
const folioPages = Number(values.folio)
const R = Number(values.repeat)
const batches = values.batches!.split(',').map(Number)
const corpora = values.corpora === 'none' ? [] : values.corpora!.split(',') as CorpusName[]
const native = loadNative()
const rec = new RunRecord('pool', { codecs: values.codecs, corpora, workers: W, folio_pages: folioPages, repeat: R, batches, scale: values.scale }, native.codecLibraries)

const storeRows: string[][] = []
const loadRows: string[][] = []
const latencyRows: string[][] = []
const naiveRows: string[][] = []
const r2 = (x: number | undefined) => (x === undefined ? '—' : fmt(x, 2))

function naiveRowsFor(corpus: string, t: NaiveTimes, bytes: number): { store: BenchRow; load: BenchRow } {
  const store = rec.add({ id: `pool/naive/${corpus}/store/t${t.threads}`, label: `${corpus} Map+lz4-napi store`, threads: t.threads, unit: 'MB/s', ...throughput(bytes, t.storeMs), note: t.threads === 1 ? 'calling thread' : `${t.threads} worker threads, one Map each` })
  const load = rec.add({ id: `pool/naive/${corpus}/load/t${t.threads}`, label: `${corpus} Map+lz4-napi load`, threads: t.threads, unit: 'MB/s', ...throughput(bytes, t.loadMs) })
  naiveRows.push([corpus, String(t.threads), spread(store), spread(load), fmt(bytes / t.compressedBytes, 2), t.overheadPerPage === undefined ? '—' : fmt(t.overheadPerPage, 0)])
  if (t.overheadPerPage !== undefined) rec.add({ id: `pool/naive/${corpus}/overhead`, label: `${corpus} Map+lz4-napi bytes/page beyond the compressed bytes`, threads: 1, unit: 'B/page', value: t.overheadPerPage })
  return { store, load }
}

async function storeAll(store: PageStore, source: Uint8Array, n: number): Promise<void> {
  const pending: Promise<void>[] = []
  for (let f = 0; f < n; f += folioPages) pending.push(store.storeFolio(f, source.subarray(f * PAGE_SIZE, Math.min(n, f + folioPages) * PAGE_SIZE)))
  await Promise.all(pending)
}

function invalidateAll(store: PageStore, n: number): void {
  for (let k = 0; k < n; k++) store.invalidate(k)
}

for (const corpus of corpora) {
  if (!corpusAvailable(corpus)) {
    console.log(`corpus ${corpus} not found; skipped`)
    continue
  }
  const pages = readCorpusPages(corpus, Infinity)
  const n = pages.length / PAGE_SIZE
  const bytes = pages.length
  const shared = new SharedArrayBuffer(bytes)
  const sharedPages = new Uint8Array(shared)
  sharedPages.set(pages)

  const naive1 = naiveRowsFor(corpus, await measureNaive(shared, 1, R), bytes)
  const naiveW = naiveRowsFor(corpus, await measureNaive(shared, W, R), bytes)
  const naiveStore: Record<number, BenchRow> = { 1: naive1.store, [W]: naiveW.store }
  const naiveLoad: Record<number, BenchRow> = { 1: naive1.load, [W]: naiveW.load }
  const vsNaive = (v: number, kind: 'store' | 'load') => {
    const t = kind === 'store' ? naiveStore : naiveLoad
    return { vs_naive_t1: v / t[1].value, [`vs_naive_t${W}`]: v / t[W].value }
  }

  for (const format of values.codecs!.split(',')) {
    const key = `${corpus}/${format}`
    // Ceilings, 1 and W threads.
    const ceilings: Record<number, { compress: BenchRow; decompress: BenchRow }> = {}
    for (const t of [...new Set([1, W])]) {
      const c = await Ceiling.start(shared, format, t)
      ceilings[t] = {
        compress: rec.add({ id: `pool/ceiling/${key}/compress/t${t}`, label: `${key} raw compress loop`, threads: t, unit: 'MB/s', ...throughput(bytes, await c.compress(R)) }),
        decompress: rec.add({ id: `pool/ceiling/${key}/decompress/t${t}`, label: `${key} raw decompress loop`, threads: t, unit: 'MB/s', ...throughput(bytes, await c.decompress(R)) }),
      }
      await c.close()
    }

    // Store on the calling thread.
    const s1 = await PageStore.open({ compressor: format, workers: 0 })
    await storeAll(s1, pages, n)
    const st1 = rec.addBounded({
      id: `pool/store/${key}/zstash/t1`, label: `${key} zstash store, workers 0`, threads: 1, unit: 'MB/s',
      ...throughput(bytes, await timeRounds(R, () => storeAll(s1, pages, n), () => invalidateAll(s1, n))), note: 'calling thread',
    }, ceilings[1].compress)
    st1.vs = vsNaive(st1.value, 'store')
    await s1.close()

    // Store with the pool, from ordinary and from shared memory.
    const store = await PageStore.open({ compressor: format, workers: W })
    await storeAll(store, pages, n)
    const stW = rec.addBounded({
      id: `pool/store/${key}/zstash/t${W}`, label: `${key} zstash store, ${W} workers`, threads: W, unit: 'MB/s',
      ...throughput(bytes, await timeRounds(R, () => storeAll(store, pages, n), () => invalidateAll(store, n))), note: `${W} workers + the calling thread (allocation, publish)`,
    }, ceilings[W].compress)
    stW.vs = vsNaive(stW.value, 'store')
    const stShared = rec.addBounded({
      id: `pool/store/${key}/zstash-shared/t${W}`, label: `${key} zstash store from a SharedArrayBuffer, ${W} workers`, threads: W, unit: 'MB/s',
      ...throughput(bytes, await timeRounds(R, () => storeAll(store, sharedPages, n), () => invalidateAll(store, n))), note: 'folios read in place by the workers',
    }, ceilings[W].compress)
    stShared.vs = vsNaive(stShared.value, 'store')
    const st = store.stats()
    rec.add({ id: `pool/store/${key}/metadata`, label: `${key} zstash metadata`, threads: W, unit: 'B/page', value: st.metadata_bytes_per_page })
    rec.add({ id: `pool/store/${key}/compression`, label: `${key} original / pool_total_size`, threads: W, unit: 'x', value: bytes / st.pool_total_size })
    for (const t of [...new Set([1, W])]) {
      const row = t === 1 ? st1 : stW
      storeRows.push([key, String(t), spread(ceilings[t].compress), spread(row), r2(row.ratio), t === W ? spread(stShared) : '—', t === W ? r2(stShared.ratio) : '—', spread(naiveStore[t]), r2(row.value / naiveStore[t].value)])
    }

    // Loads. Everything stored, in key order.
    const into = new Uint8Array(PAGE_SIZE)
    const loadLoop = () => { for (let k = 0; k < n; k++) store.loadSync(k, { into }) }
    loadLoop()
    const loop = rec.addBounded({
      id: `pool/load/${key}/loadSync-loop/t1`, label: `${key} loadSync loop on the calling thread`, threads: 1, unit: 'MB/s',
      ...throughput(bytes, await timeRounds(R, loadLoop)),
    }, ceilings[1].decompress)
    loop.vs = vsNaive(loop.value, 'load')
    loadRows.push([key, 'loadSync loop', '1', spread(loop), spread(ceilings[1].decompress), r2(loop.ratio), '—', r2(loop.vs.vs_naive_t1), r2(loop.vs[`vs_naive_t${W}`])])
    const keys = new Uint32Array(n).map((_, i) => i)
    for (const b of batches) {
      const dst = new Uint8Array(new SharedArrayBuffer(Math.min(b, n) * PAGE_SIZE))
      const many = async () => {
        for (let first = 0; first < n; first += b) {
          const r = await store.loadMany(keys.subarray(first, Math.min(n, first + b)), { into: dst })
          if (r.count !== Math.min(n, first + b) - first) throw new Error(`loadMany lost pages at ${first}`)
        }
      }
      await many()
      // Check one batch's bytes, so the row describes loads that work.
      await store.loadMany(keys.subarray(0, Math.min(b, n)), { into: dst })
      if (Buffer.compare(dst.subarray(0, Math.min(b, n) * PAGE_SIZE), pages.subarray(0, Math.min(b, n) * PAGE_SIZE)) !== 0) throw new Error(`${key}: loadMany(${b}) returned wrong bytes`)
      const row = rec.addBounded({
        id: `pool/load/${key}/loadMany-${b}/t${W}`, label: `${key} loadMany, batches of ${b}`, threads: W, unit: 'MB/s',
        ...throughput(bytes, await timeRounds(R, many)), note: `${W} workers + the calling thread`,
      }, ceilings[W].decompress)
      row.vs = { vs_loadSync_loop: row.value / loop.value, ...vsNaive(row.value, 'load') }
      loadRows.push([key, `loadMany ${b}`, String(W), spread(row), spread(ceilings[W].decompress), r2(row.ratio), r2(row.vs.vs_loadSync_loop), r2(row.vs.vs_naive_t1), r2(row.vs[`vs_naive_t${W}`])])
    }

    // Single-page latency against one raw decompress call (same codec object kind, this thread).
    const codec = new native.Codec(format, 1)
    const comp = new Uint8Array(bytes)
    const lens = new Int32Array(n)
    codec.compressBatch(pages, 0, n, comp, 0, lens, 0, PAGE_SIZE - 1, true, -1)
    const sample = new Uint32Array(20000)
    let x = 7
    let m = 0
    while (m < sample.length) { x = (x * 1103515245 + 12345) & 0x7fffffff; if (lens[x % n] > 0) sample[m++] = x % n }
    const lat = (fn: (k: number) => void) => {
      const out = new Float64Array(sample.length)
      for (let i = 0; i < sample.length; i++) {
        const t0 = process.hrtime.bigint()
        fn(sample[i])
        out[i] = Number(process.hrtime.bigint() - t0) / 1000
      }
      return out.sort()
    }
    const viaStore = (k: number) => { store.loadSync(k, { into }) }
    const viaCodec = (k: number) => { codec.decompress(comp, k * PAGE_SIZE, lens[k], into, 0) }
    lat(viaStore); lat(viaCodec) // warm-up
    const lStore = lat(viaStore)
    const lRaw = lat(viaCodec)
    const rawP50 = rec.add({ id: `pool/latency/${key}/raw-decompress-p50/t1`, label: `${key} one raw decompress call, p50`, threads: 1, unit: 'µs', value: percentile(lRaw, 50), note: 'compressed pages only' })
    const p50 = rec.addBounded({ id: `pool/latency/${key}/loadSync-p50/t1`, label: `${key} loadSync p50`, threads: 1, unit: 'µs', value: percentile(lStore, 50), note: 'ratio: lower is better' }, rawP50)
    const p99 = rec.add({ id: `pool/latency/${key}/loadSync-p99/t1`, label: `${key} loadSync p99`, threads: 1, unit: 'µs', value: percentile(lStore, 99) })
    latencyRows.push([key, fmt(p50.value, 2), fmt(p99.value, 2), fmt(rawP50.value, 2), fmt(percentile(lRaw, 99), 2), r2(p50.ratio)])
    await store.close()
  }
}

const lines: string[] = []
const say = (s = '') => { lines.push(s); console.log(s) }
say(`zstash store/load benchmark: W = ${W} workers, ${folioPages}-page folios, best of ${R} (min–max over the rounds); ${native.codecLibraries}`)
if (storeRows.length) {
  say('\nStore, MB/s of original pages. threads: 1 = the calling thread (workers: 0); W = W pool workers (the calling thread allocates and publishes).')
  say(printTable(['corpus/codec', 'threads', 'ceiling', 'zstash', 'ratio', 'zstash SAB', 'ratio', 'naive', 'zstash/naive'], storeRows))
  say('  ceiling = raw native compress loop on that many threads at once, this run; naive = Map + lz4-napi compressSync on that many threads')
  say('  (1: the calling thread; W: W worker threads, one Map each); zstash SAB = folios from a SharedArrayBuffer, read in place.')
  say('\nLoads, MB/s')
  say(printTable(['corpus/codec', 'what', 'threads', 'MB/s', 'ceiling', 'ratio', '/ loadSync loop', '/ naive 1t', `/ naive ${W}t`], loadRows))
  say('  ceiling = raw native decompress loop (decompressBatch + raw copies + fills) on that many threads at once, this run.')
  say('\nSingle-page load latency, µs (random compressed pages, calling thread)')
  say(printTable(['corpus/codec', 'loadSync p50', 'p99', 'raw p50', 'raw p99', 'p50 / raw'], latencyRows))
  say('\nNaive alternative (Map<number, Buffer> + lz4-napi)')
  say(printTable(['corpus', 'threads', 'store MB/s', 'load MB/s', 'ratio', 'B/page beyond data'], naiveRows))
}

if (values.scale) {
  const total = Number(values['scale-pages'])
  const store = await PageStore.open({ compressor: 'lz4', workers: W })
  const buf = new Uint8Array(new SharedArrayBuffer(64 * PAGE_SIZE))
  const words = new Uint32Array(buf.buffer)
  const t0 = performance.now()
  const inflight: Promise<void>[] = []
  for (let first = 0; first < total; first += 16) {
    // usemem's pattern: each 8-byte word holds its index (low half; the high half is 0 below 2^32 words).
    const slot = (first / 16) % 4
    const base = slot * 16 * 512
    for (let w = 0; w < 16 * 512; w++) words[(base + w) * 2] = first * 512 + w
    inflight.push(store.storeFolio(first, buf.slice(slot * 16 * PAGE_SIZE, (slot + 1) * 16 * PAGE_SIZE)))
    if (inflight.length >= 4) await inflight.shift()
  }
  await Promise.all(inflight)
  const sec = (performance.now() - t0) / 1000
  const s = store.stats()
  const rss = process.memoryUsage().rss
  // Spot-check: a few pages across the range read back exactly.
  const back = new Uint8Array(PAGE_SIZE)
  const bw = new Uint32Array(back.buffer)
  for (let k = 0; k < total; k += Math.max(1, Math.floor(total / 97))) {
    store.loadSync(k, { into: back })
    if (bw[0] !== k * 512 || bw[1022] !== k * 512 + 511) throw new Error(`scale: page ${k} read back wrong`)
  }
  say(`\nScale: ${fmt(total, 0)} pages (${fmt(total * PAGE_SIZE / 2 ** 30, 1)} GiB logical), lz4, ${W} workers, in ${fmt(sec, 1)} s (pattern generated in JS on the calling thread)`)
  say(`  stored_pages ${fmt(s.stored_pages, 0)}, RSS ${fmt(rss / 2 ** 20, 0)} MiB, pool_total_size ${fmt(s.pool_total_size / 2 ** 20, 0)} MiB, ` +
    `metadata ${fmt(s.metadata_bytes_per_page, 2)} B/page, RSS ${fmt(rss / total, 1)} B/page, compression ${fmt(total * PAGE_SIZE / s.pool_total_size, 2)}`)
  rec.add({ id: 'pool/scale/lz4/seconds', label: `${total} usemem pages stored`, threads: W, unit: 's', value: sec })
  rec.add({ id: 'pool/scale/lz4/rss', label: 'RSS after the scale store', threads: W, unit: 'MiB', value: rss / 2 ** 20 })
  rec.add({ id: 'pool/scale/lz4/rss-per-page', label: 'RSS per stored page', threads: W, unit: 'B/page', value: rss / total })
  rec.add({ id: 'pool/scale/lz4/metadata', label: 'metadata per stored page', threads: W, unit: 'B/page', value: s.metadata_bytes_per_page })
  rec.add({ id: 'pool/scale/lz4/pool', label: 'pool_total_size', threads: W, unit: 'MiB', value: s.pool_total_size / 2 ** 20 })
  await store.close()
}
rec.notes.push(...lines)
console.log(`\nresults: ${rec.write(values.json)}`)
