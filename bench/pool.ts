/**
 * Store and load benchmark, every row with its thread count and, where a
 * ceiling bounds it, the ratio to a ceiling with the same thread count measured
 * in this run (bench/lib/ceiling.ts: the raw native per-page loop on N worker
 * threads at once over the same pages).
 *
 * For each corpus and codec:
 *   store   zstash on the calling thread (workers: 0, 1 thread) and with the
 *           worker pool (W workers allocate in the native pool; the calling thread stages and publishes),
 *           from ordinary memory and from a SharedArrayBuffer (read in place);
 *   load    a loadSync loop on the calling thread (1 thread); loadMany in batches
 *           of 64..16384 keys with the pool (W threads), next to that loop;
 *           single-page loadSync p50/p99 against one raw decompress call;
 *   memory  bytes per stored page beyond the compressed bytes (fragmentation and
 *           metadata) after the store, after churn, after compaction;
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
import { PageStore, PAGE_SIZE, loadNative, nativeAllocator } from '../src/internals.js'
import { readCorpusPages, corpusAvailable, type CorpusName } from './lib/corpus.js'
import { printTable, fmt } from './lib/table.js'
import { percentile } from './lib/stats.js'
import { Ceiling } from './lib/ceiling.js'
import { NaiveAlternative } from './lib/naive.js'
import { RunRecord, throughput, spread, pairedMedian, type BenchRow } from './lib/run-record.js'

const { values } = parseArgs({
  options: {
    codecs: { type: 'string', default: 'lz4,zstd' },
    corpora: { type: 'string', default: 'node-64m,py-64m' },
    workers: { type: 'string', default: String(availableParallelism()) },
    folio: { type: 'string', default: '16' },
    repeat: { type: 'string', default: '7' },
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
const allocator = nativeAllocator()
const rec = new RunRecord('pool', { codecs: values.codecs, corpora, workers: W, folio_pages: folioPages, repeat: R, batches, scale: values.scale }, native.codecLibraries)

const storeRows: string[][] = []
const loadRows: string[][] = []
const latencyRows: string[][] = []
const naiveRows: string[][] = []
const memoryRows: string[][] = []
const cpuRows: string[][] = []
const loadCpuRows: string[][] = []
const r2 = (x: number | undefined) => (x === undefined ? '—' : fmt(x, 2))

async function storeAll(store: PageStore, source: Uint8Array, n: number): Promise<void> {
  const pending: Promise<void>[] = []
  for (let f = 0; f < n; f += folioPages) pending.push(store.storeFolio(f, source.subarray(f * PAGE_SIZE, Math.min(n, f + folioPages) * PAGE_SIZE)))
  await Promise.all(pending)
}

function invalidateAll(store: PageStore, n: number): void {
  for (let k = 0; k < n; k++) store.invalidate(k)
}

/** Millisecond samples by name, collected across interleaved rounds. */
class Samples {
  private readonly map = new Map<string, number[]>()
  push(key: string, ms: number): void {
    const list = this.map.get(key)
    if (list) list.push(ms)
    else this.map.set(key, [ms])
  }
  get(key: string): number[] {
    const list = this.map.get(key)
    if (!list) throw new Error(`no samples for ${key}`)
    return list
  }
}

const threadCounts = [...new Set([1, W])]
type Op = 'compress' | 'decompress' | 'decompress-one'

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
  const S = new Samples()
  const naive = new Map<number, NaiveAlternative>()
  for (const t of threadCounts) naive.set(t, await NaiveAlternative.start(shared, t))
  // Rows that are compared with the naive alternative once its rounds are all in.
  const againstNaive: { row: BenchRow; kind: 'store' | 'load'; extra?: Record<string, number> }[] = []
  const pairedNaive = new Map<string, number>()
  const tableLater: (() => void)[] = []

  for (const format of values.codecs!.split(',')) {
    const key = `${corpus}/${format}`
    const ceil = new Map<number, Ceiling>()
    for (const t of threadCounts) ceil.set(t, await Ceiling.start(shared, format, t))
    // Every timed round of a zstash row is preceded by one round of the ceiling with
    // the same thread count and followed by one round of the naive alternative with
    // the same thread count: on a host whose load moves, all three see the same moment.
    const paired = async (t: number, op: Op, id: string, fn: () => Promise<void> | void, setup?: () => void) => {
      for (let r = 0; r < R; r++) {
        const c = ceil.get(t)!
        const cms = (op === 'compress' ? await c.compress(1) : op === 'decompress' ? await c.decompress(1) : await c.decompressIntoOne(1))[0]
        S.push(`ceiling/${key}/${op}/t${t}`, cms)
        S.push(`${id}#ceiling`, cms)
        if (setup) setup()
        const t0 = performance.now()
        await fn()
        S.push(id, performance.now() - t0)
        const nms = op === 'compress' ? await naive.get(t)!.store() : await naive.get(t)!.load()
        S.push(`naive/${op === 'compress' ? 'store' : 'load'}/t${t}`, nms)
        S.push(`${id}#naive`, nms)
      }
    }

    // Store on the calling thread.
    const s1 = await PageStore.open({ compressor: format, workers: 0 })
    await storeAll(s1, pages, n)
    await paired(1, 'compress', `${key}/store/t1`, () => storeAll(s1, pages, n), () => invalidateAll(s1, n))
    await s1.close()
    // Store with the pool, from ordinary and from shared memory.
    const store = await PageStore.open({ compressor: format, workers: W })
    await storeAll(store, pages, n)
    await paired(W, 'compress', `${key}/store/t${W}`, () => storeAll(store, pages, n), () => invalidateAll(store, n))
    await paired(W, 'compress', `${key}/store-shared/t${W}`, () => storeAll(store, sharedPages, n), () => invalidateAll(store, n))
    const st = store.stats()

    // CPU time, which the host's load does not inflate the way it does wall time: the raw
    // compress loop on this thread over every page, against the store's total (the calling
    // thread's CPU while it stores, plus the workers' task CPU), medians over R rounds.
    const rawCpu: number[] = []
    const storeCpu: number[] = []
    const ownerCpu: number[] = []
    {
      const codec = new native.Codec(format, 1)
      const scratch = new Uint8Array(64 * PAGE_SIZE)
      const scratchStatus = new Int32Array(64)
      for (let r = 0; r < R; r++) {
        const c0 = allocator.threadCpuMs()
        for (let p = 0; p < n; p += 64) codec.compressBatch(pages, p, Math.min(64, n - p), scratch, 0, scratchStatus, 0, PAGE_SIZE - 1, true)
        rawCpu.push(allocator.threadCpuMs() - c0)
        invalidateAll(store, n)
        const w0 = store.stats().backend.counters.workers_cpu_ms
        const o0 = allocator.threadCpuMs()
        await storeAll(store, pages, n)
        const owner = allocator.threadCpuMs() - o0
        ownerCpu.push(owner)
        storeCpu.push(owner + store.stats().backend.counters.workers_cpu_ms - w0)
      }
    }
    const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]
    const cpuRatio = med(rawCpu) / med(storeCpu)
    rec.add({ id: `pool/cpu/${key}/store/t${W}`, label: `${key} raw compress CPU / zstash store CPU (${W} workers + calling thread)`, threads: W, unit: 'x', value: cpuRatio,
      note: `raw ${fmt(med(rawCpu), 1)} ms, zstash ${fmt(med(storeCpu), 1)} ms of which the calling thread ${fmt(med(ownerCpu), 1)} ms (medians of ${R})` })
    cpuRows.push([key, fmt(med(rawCpu), 1), fmt(med(storeCpu), 1), fmt(med(ownerCpu), 1), fmt(cpuRatio, 2)])

    // Loads. Everything stored, in key order.
    const into = new Uint8Array(PAGE_SIZE)
    const loadLoop = () => { for (let k = 0; k < n; k++) store.loadSync(k, { into }) }
    loadLoop()
    await paired(1, 'decompress-one', `${key}/loadSync-loop/t1`, loadLoop)
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
      await paired(W, 'decompress', `${key}/loadMany-${b}/t${W}`, many)
      if (b === batches[batches.length - 1]) {
        // CPU time of the largest batches against the raw decode of the same objects on one thread.
        const codec = new native.Codec(format, 1)
        const comp = new Uint8Array(n * PAGE_SIZE)
        const lens = new Int32Array(n)
        codec.compressBatch(pages, 0, n, comp, 0, lens, 0, PAGE_SIZE - 1, true)
        const jobs = new Int32Array(n * 4)
        let m = 0
        for (let k = 0, at = 0; k < n; k++) {
          if (lens[k] <= 0) continue
          comp.copyWithin(at, k * PAGE_SIZE, k * PAGE_SIZE + lens[k]) // packed, as the pool holds them
          jobs.set([0, at, lens[k], k], m * 4)
          at += lens[k]
          m++
        }
        const out = new Uint8Array(n * PAGE_SIZE)
        const st2 = new Int32Array(m)
        const raw: number[] = []
        const mine: number[] = []
        for (let r = 0; r < R; r++) {
          const c0 = allocator.threadCpuMs()
          codec.decompressBatch([comp], jobs, m, out, st2)
          raw.push(allocator.threadCpuMs() - c0)
          const w0 = store.stats().backend.counters.workers_cpu_ms
          const o0 = allocator.threadCpuMs()
          await many()
          mine.push(allocator.threadCpuMs() - o0 + store.stats().backend.counters.workers_cpu_ms - w0)
        }
        const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]
        rec.add({ id: `pool/cpu/${key}/loadMany-${b}/t${W}`, label: `${key} raw decompress CPU / zstash loadMany(${b}) CPU`, threads: W, unit: 'x', value: med(raw) / med(mine),
          note: `raw ${fmt(med(raw), 1)} ms (compressed pages only), zstash ${fmt(med(mine), 1)} ms (workers + calling thread), medians of ${R}` })
        loadCpuRows.push([key, String(b), fmt(med(raw), 1), fmt(med(mine), 1), fmt(med(raw) / med(mine), 2)])
      }
    }
    for (const c of ceil.values()) await c.close()

    // Rows: ceilings first (all their interleaved rounds), then what they bound.
    const ceilingRow = (t: number, op: Op) => rec.get(`pool/ceiling/${key}/${op}/t${t}`) ?? rec.add({
      id: `pool/ceiling/${key}/${op}/t${t}`, label: `${key} raw ${op === 'decompress-one' ? 'decompress loop into one page' : `${op} loop`}`, threads: t, unit: 'MB/s', ...throughput(bytes, S.get(`ceiling/${key}/${op}/t${t}`)),
      note: `${t} worker thread(s) at once; one round before each round of every row it bounds`,
    })
    ceilingRow(1, 'compress')
    ceilingRow(W, 'compress')
    ceilingRow(1, 'decompress-one')
    ceilingRow(W, 'decompress')
    // A bounded row: best / best, plus the median of the per-round paired ratios to its
    // ceiling and to the naive alternative with the same threads.
    const bounded = (row: Omit<BenchRow, 'ceiling' | 'ceiling_id' | 'ratio' | 'value' | 'samples'>, sampleKey: string, ceiling: BenchRow) => {
      const r = rec.addBounded({ ...row, ...throughput(bytes, S.get(sampleKey)) }, ceiling)
      r.ratio_paired_median = pairedMedian(S.get(`${sampleKey}#ceiling`), S.get(sampleKey))
      pairedNaive.set(r.id, pairedMedian(S.get(`${sampleKey}#naive`), S.get(sampleKey)))
      return r
    }
    const st1 = bounded({ id: `pool/store/${key}/zstash/t1`, label: `${key} zstash store, workers 0`, threads: 1, unit: 'MB/s', note: 'calling thread' }, `${key}/store/t1`, ceilingRow(1, 'compress'))
    const stW = bounded({ id: `pool/store/${key}/zstash/t${W}`, label: `${key} zstash store, ${W} workers`, threads: W, unit: 'MB/s', note: `${W} workers (compress into the pool) + the calling thread (staging copy, publish)` }, `${key}/store/t${W}`, ceilingRow(W, 'compress'))
    const stShared = bounded({ id: `pool/store/${key}/zstash-shared/t${W}`, label: `${key} zstash store from a SharedArrayBuffer, ${W} workers`, threads: W, unit: 'MB/s', note: 'folios read in place by the workers' }, `${key}/store-shared/t${W}`, ceilingRow(W, 'compress'))
    rec.add({ id: `pool/store/${key}/metadata`, label: `${key} zstash metadata`, threads: W, unit: 'B/page', value: st.metadata_bytes_per_page })
    rec.add({ id: `pool/store/${key}/compression`, label: `${key} original / pool_total_size`, threads: W, unit: 'x', value: bytes / st.pool_total_size })
    againstNaive.push({ row: st1, kind: 'store' }, { row: stW, kind: 'store' }, { row: stShared, kind: 'store' })
    const loop = bounded({ id: `pool/load/${key}/loadSync-loop/t1`, label: `${key} loadSync loop on the calling thread`, threads: 1, unit: 'MB/s' }, `${key}/loadSync-loop/t1`, ceilingRow(1, 'decompress-one'))
    againstNaive.push({ row: loop, kind: 'load' })
    const manyRows = batches.map((b) => {
      const row = bounded({ id: `pool/load/${key}/loadMany-${b}/t${W}`, label: `${key} loadMany, batches of ${b}`, threads: W, unit: 'MB/s', note: `${W} workers + the calling thread` }, `${key}/loadMany-${b}/t${W}`, ceilingRow(W, 'decompress'))
      againstNaive.push({ row, kind: 'load', extra: { vs_loadSync_loop: row.value / loop.value } })
      return { b, row }
    })
    tableLater.push(() => {
      for (const t of threadCounts) {
        const row = t === 1 ? st1 : stW
        storeRows.push([key, String(t), spread(rec.get(row.ceiling_id!)!), spread(row), `${r2(row.ratio)} / ${r2(row.ratio_paired_median)}`, t === W ? spread(stShared) : '—', t === W ? `${r2(stShared.ratio)} / ${r2(stShared.ratio_paired_median)}` : '—',
          `${r2(row.vs?.[`vs_naive_t${t}`])} / ${r2(row.vs?.vs_naive_same_threads_paired_median)}`, t === W ? `${r2(stShared.vs?.[`vs_naive_t${t}`])} / ${r2(stShared.vs?.vs_naive_same_threads_paired_median)}` : '—'])
      }
      loadRows.push([key, 'loadSync loop', '1', spread(loop), spread(rec.get(loop.ceiling_id!)!), `${r2(loop.ratio)} / ${r2(loop.ratio_paired_median)}`, '—', r2(loop.vs?.vs_naive_t1), r2(loop.vs?.[`vs_naive_t${W}`])])
      for (const { b, row } of manyRows) {
        loadRows.push([key, `loadMany ${b}`, String(W), spread(row), spread(rec.get(row.ceiling_id!)!), `${r2(row.ratio)} / ${r2(row.ratio_paired_median)}`, r2(row.vs?.vs_loadSync_loop), r2(row.vs?.vs_naive_t1), r2(row.vs?.[`vs_naive_t${W}`])])
      }
    })

    // Single-page latency against one raw decompress call (same codec kind, this thread).
    const codec = new native.Codec(format, 1)
    const comp = new Uint8Array(bytes)
    const lens = new Int32Array(n)
    codec.compressBatch(pages, 0, n, comp, 0, lens, 0, PAGE_SIZE - 1, true)
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

    // Bytes per stored page beyond the compressed bytes, fragmentation included
    // ((pool_total_size − Σ objects + metadata) / stored pages): after the full store,
    // after churn (a random half invalidated and stored again from other corpus pages),
    // and after compaction.
    const overhead = (label: string) => {
      const s = store.stats()
      rec.add({ id: `pool/memory/${key}/${label}`, label: `${key} bytes/page beyond compressed, ${label}`, threads: W, unit: 'B/page', value: s.overhead_bytes_per_page,
        note: `pool ${fmt(s.pool_total_size / 2 ** 20, 1)} MiB, objects ${fmt(s.pool.object_bytes / 2 ** 20, 1)} MiB, metadata ${fmt(s.metadata_bytes_per_page, 1)} B/page` })
      return s
    }
    const full = overhead('after store')
    let seed = 12345
    const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x80000000 }
    const churned: number[] = []
    for (let k = 0; k < n; k++) if (rnd() < 0.5) { store.invalidate(k); churned.push(k) }
    const one = new Uint8Array(PAGE_SIZE)
    for (const k of churned) {
      const from = Math.floor(rnd() * n)
      one.set(pages.subarray(from * PAGE_SIZE, (from + 1) * PAGE_SIZE))
      await store.storeFolio(k, one)
    }
    const churn = overhead('after churn')
    store.compact()
    const compacted = overhead('after churn + compact')
    memoryRows.push([key, fmt(full.overhead_bytes_per_page, 1), fmt(churn.overhead_bytes_per_page, 1), fmt(compacted.overhead_bytes_per_page, 1), fmt(compacted.metadata_bytes_per_page, 1)])
    await store.close()
  }

  // The naive alternative's rows, from all its rounds, and every comparison with them.
  const naiveRow = new Map<string, BenchRow>()
  for (const t of threadCounts) {
    const nv = naive.get(t)!
    const note = t === 1 ? 'calling thread' : `${t} worker threads, one Map each`
    const store = rec.add({ id: `pool/naive/${corpus}/store/t${t}`, label: `${corpus} Map+lz4-napi store`, threads: t, unit: 'MB/s', ...throughput(bytes, S.get(`naive/store/t${t}`)), note })
    const load = rec.add({ id: `pool/naive/${corpus}/load/t${t}`, label: `${corpus} Map+lz4-napi load`, threads: t, unit: 'MB/s', ...throughput(bytes, S.get(`naive/load/t${t}`)), note })
    naiveRow.set(`store/${t}`, store)
    naiveRow.set(`load/${t}`, load)
    const overhead = nv.overheadPerPage()
    if (overhead !== undefined) rec.add({ id: `pool/naive/${corpus}/overhead`, label: `${corpus} Map+lz4-napi bytes/page beyond the compressed bytes`, threads: 1, unit: 'B/page', value: overhead })
    naiveRows.push([corpus, String(t), spread(store), spread(load), fmt(bytes / nv.compressedBytes, 2), overhead === undefined ? '—' : fmt(overhead, 0)])
    await nv.close()
  }
  for (const { row, kind, extra } of againstNaive) {
    row.vs = { ...extra }
    for (const t of threadCounts) row.vs[`vs_naive_t${t}`] = row.value / naiveRow.get(`${kind}/${t}`)!.value
    row.vs.vs_naive_same_threads_paired_median = pairedNaive.get(row.id)!
  }
  for (const f of tableLater) f()
}

const lines: string[] = []
const say = (s = '') => { lines.push(s); console.log(s) }
say(`zstash store/load benchmark: W = ${W} workers, ${folioPages}-page folios, best of ${R} (min–max over the rounds); ${native.codecLibraries}`)
if (storeRows.length) {
  say('\nStore, MB/s of original pages. threads: 1 = the calling thread (workers: 0); W = W pool workers, which allocate in the native pool (the calling thread stages and publishes).')
  say(printTable(['corpus/codec', 'threads', 'ceiling', 'zstash', 'ratio best/paired', 'zstash SAB', 'ratio best/paired', '/ naive same t best/paired', 'SAB / naive best/paired'], storeRows))
  say('  ceiling = raw native compress loop on that many threads at once, one round before each zstash round; naive = Map + lz4-napi')
  say('  compressSync on that many threads, one round after each zstash round (the naive table below has its MB/s)')
  say('  (1: the calling thread; W: W worker threads, one Map each); zstash SAB = folios from a SharedArrayBuffer, read in place.')
  say('  best/paired: best / best over the rounds, and the median over rounds of the ratio within a round (row vs the ceiling or naive')
  say('  round next to it): read the paired median when the host is loaded.')
  say('\nLoads, MB/s')
  say(printTable(['corpus/codec', 'what', 'threads', 'MB/s', 'ceiling', 'ratio best/paired', '/ loadSync loop', '/ naive 1t', `/ naive ${W}t`], loadRows))
  say('  ceiling = raw native decompress loop (decompressBatch + raw copies + fills) on that many threads at once, one round before each')
  say('  round of the row: into one reused page for the loadSync loop (as it loads into one page), into a page per key for loadMany.')
  say('\nSingle-page load latency, µs (random compressed pages, calling thread)')
  say(printTable(['corpus/codec', 'loadSync p50', 'p99', 'raw p50', 'raw p99', 'p50 / raw'], latencyRows))
  say(`\nStore CPU time, ms per corpus (medians): raw compress loop on one thread vs zstash with ${W} workers (workers' task CPU + the calling thread's)`)
  say(printTable(['corpus/codec', 'raw CPU', 'zstash CPU', 'of which calling thread', 'raw / zstash'], cpuRows))
  say('\nloadMany CPU time, ms per corpus (medians): raw decode of the compressed pages on one thread vs zstash (workers + calling thread)')
  say(printTable(['corpus/codec', 'batch', 'raw CPU', 'zstash CPU', 'raw / zstash'], loadCpuRows))
  say('\nBytes per stored page beyond the compressed bytes, fragmentation included ((pool_total_size − Σ objects + metadata) / pages)')
  say(printTable(['corpus/codec', 'after store', 'after churn', 'churn + compact', 'of which metadata'], memoryRows))
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
