/**
 * Worker-pool benchmark (issue "Software compression in a piscina worker pool").
 * For each codec and corpus, measured in one run:
 *  1. ceilings: the raw native per-page loop on one core, × cores, and measured
 *     with `cores` raw threads at once (no zstash: what the machine can do);
 *  2. zstash store throughput with the worker pool, and its ratio to the ceilings;
 *  3. single-page load latency p50/p99 vs one raw decompress; loadMany throughput
 *     vs the raw decompress loop;
 *  4. what a Node user would write instead: Map<number, Buffer> + lz4-napi
 *     compressSync, and + zlib.deflateRawSync — throughput and bytes per page
 *     beyond the compressed data;
 *  5. with --scale: 4 M usemem-pattern pages (16 GiB logical): RSS, pool bytes, metadata per page.
 *
 * Run: node --expose-gc dist/bench/pool.js [--codecs lz4,zstd] [--corpora node-64m,py-64m] [--workers N] [--scale]
 */
import { parseArgs } from 'node:util'
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { deflateRawSync } from 'node:zlib'
import { createRequire } from 'node:module'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { PageStore, PAGE_SIZE, loadNative } from '../src/internals.js'
import { readCorpusPages, corpusAvailable, type CorpusName } from './lib/corpus.js'
import { printTable, fmt } from './lib/table.js'
import { bestOf, bestOfAsync, gc, heapBytes, percentile } from './lib/stats.js'

const { values } = parseArgs({
  options: {
    codecs: { type: 'string', default: 'lz4,zstd' },
    corpora: { type: 'string', default: 'node-64m,py-64m' },
    workers: { type: 'string', default: String(availableParallelism()) },
    folio: { type: 'string', default: '16' },
    repeat: { type: 'string', default: '3' },
    scale: { type: 'boolean', default: false },
    'scale-pages': { type: 'string', default: String(4 << 20) },
    json: { type: 'string' },
  },
})
const workers = Number(values.workers)
const folioPages = Number(values.folio)
const repeat = Number(values.repeat)
const here = path.dirname(fileURLToPath(import.meta.url))
const native = loadNative()
const require = createRequire(import.meta.url)

async function parallelCeiling(shared: SharedArrayBuffer, n: number, format: string): Promise<number> {
  const per = Math.ceil(n / workers)
  const threads = Array.from({ length: workers }, (_, i) => new Worker(path.join(here, 'lib', 'ceiling-worker.js'), {
    workerData: { pages: shared, first: i * per, count: Math.max(0, Math.min(per, n - i * per)), format, rounds: repeat },
  }))
  await Promise.all(threads.map((w) => new Promise((r) => w.once('online', r))))
  const t0 = performance.now()
  const times = await Promise.all(threads.map((w) => new Promise<number[]>((resolve) => {
    w.once('message', resolve)
    w.postMessage('go')
  })))
  const wall = performance.now() - t0
  await Promise.all(threads.map((w) => w.terminate()))
  // Best round per thread, slowest thread decides (they ran side by side).
  const perRound = Math.max(...times.map((t) => Math.min(...t)))
  return Math.min(perRound, wall / repeat)
}

function singleLoadLatency(store: PageStore, keys: Uint32Array): Float64Array {
  const into = new Uint8Array(PAGE_SIZE)
  const lat = new Float64Array(keys.length)
  for (let i = 0; i < keys.length; i++) {
    const t0 = process.hrtime.bigint()
    store.loadSync(keys[i], { into })
    lat[i] = Number(process.hrtime.bigint() - t0)
  }
  return lat.sort()
}

function rawDecompressLatency(codec: ReturnType<typeof makeCodec>, comp: Uint8Array, lens: Int32Array, keys: Uint32Array): Float64Array {
  const into = new Uint8Array(PAGE_SIZE)
  const lat = new Float64Array(keys.length)
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]
    const t0 = process.hrtime.bigint()
    if (lens[k] > 0) codec.decompress(comp, k * PAGE_SIZE, lens[k], into, 0)
    lat[i] = Number(process.hrtime.bigint() - t0)
  }
  return lat.sort()
}

function makeCodec(format: string) {
  return new native.Codec(format, 1)
}

const results: Record<string, unknown>[] = []
const storeRows: (string | number)[][] = []
const loadRows: (string | number)[][] = []
const naiveRows: (string | number)[][] = []

for (const corpus of values.corpora!.split(',') as CorpusName[]) {
  if (!corpusAvailable(corpus)) continue
  const pages = readCorpusPages(corpus, Infinity)
  const n = pages.length / PAGE_SIZE
  const mb = pages.length / 1e6
  const shared = new SharedArrayBuffer(pages.length)
  new Uint8Array(shared).set(pages)
  for (const format of values.codecs!.split(',')) {
    // 1. Ceilings.
    const codec = makeCodec(format)
    const comp = new Uint8Array(pages.length)
    const lens = new Int32Array(n)
    const oneCoreMs = bestOf(repeat, () => codec.compressBatch(pages, 0, n, comp, 0, lens, 0, PAGE_SIZE - 1, true))
    const oneCore = mb / (oneCoreMs / 1000)
    const timesCores = oneCore * workers
    const measured = mb / ((await parallelCeiling(shared, n, format)) / 1000)

    // 2. zstash store with the pool. Warm the workers once, then best of `repeat`.
    const store = await PageStore.open({ compressor: format, workers })
    // From ordinary memory (copied once into the staging ring), and from shared
    // memory, read in place (how SwapCache's frames reach the store).
    const sharedPages = new Uint8Array(shared)
    const storeAll = (source: Uint8Array) => async () => {
      for (let k = 0; k < n; k++) store.invalidate(k)
      const pending: Promise<void>[] = []
      for (let f = 0; f < n; f += folioPages) pending.push(store.storeFolio(f, source.subarray(f * PAGE_SIZE, Math.min(n, f + folioPages) * PAGE_SIZE)))
      await Promise.all(pending)
    }
    await storeAll(pages)()
    const storeMs = await bestOfAsync(repeat, storeAll(pages))
    const storeMBs = mb / (storeMs / 1000)
    const sharedMBs = mb / ((await bestOfAsync(repeat, storeAll(sharedPages))) / 1000)
    const st = store.stats()

    // 3. Loads.
    const keys = new Uint32Array(20000)
    let x = 7
    for (let i = 0; i < keys.length; i++) { x = (x * 1103515245 + 12345) & 0x7fffffff; keys[i] = x % n }
    singleLoadLatency(store, keys.subarray(0, 2000)) // warm-up
    const lat = singleLoadLatency(store, keys)
    const raw = rawDecompressLatency(codec, comp, lens, keys)
    const rawLoopMs = bestOf(repeat, () => {
      const into = new Uint8Array(PAGE_SIZE)
      for (let k = 0; k < n; k++) if (lens[k] > 0) codec.decompress(comp, k * PAGE_SIZE, lens[k], into, 0)
    })
    const rawDecompressMBs = mb / (rawLoopMs / 1000)
    const batch = 4096
    const manyKeys = Array.from({ length: n }, (_, i) => i)
    const into = new Uint8Array(new SharedArrayBuffer(batch * PAGE_SIZE))
    const loadManyMs = await bestOfAsync(repeat, async () => {
      for (let first = 0; first < n; first += batch) await store.loadMany(manyKeys.slice(first, first + batch), { into })
    })
    const loadManyMBs = mb / (loadManyMs / 1000)
    await store.close()

    // 4. The naive store a Node user would write.
    const naive = (compress: (p: Uint8Array) => Uint8Array) => {
      gc()
      const before = heapBytes()
      const map = new Map<number, Uint8Array>()
      let compressed = 0
      const t0 = performance.now()
      for (let k = 0; k < n; k++) {
        const c = compress(pages.subarray(k * PAGE_SIZE, (k + 1) * PAGE_SIZE))
        map.set(k, c)
        compressed += c.length
      }
      const ms = performance.now() - t0
      gc()
      const overhead = (heapBytes() - before - compressed) / n
      if (map.size !== n) throw new Error('naive store lost pages')
      return { MBs: mb / (ms / 1000), overhead }
    }
    const lz4napi = require('lz4-napi') as { compressSync: (b: Uint8Array) => Buffer }
    const naiveLz4 = naive((p) => lz4napi.compressSync(p))
    const naiveZlib = naive((p) => deflateRawSync(p, { level: 1 }))

    const r = {
      corpus, format, workers, pages: n,
      ceiling_1core_MBps: oneCore, ceiling_x_cores_MBps: timesCores, ceiling_measured_parallel_MBps: measured,
      store_MBps: storeMBs, ratio_x_cores: storeMBs / timesCores, ratio_measured: storeMBs / measured,
      store_shared_MBps: sharedMBs, shared_ratio_measured: sharedMBs / measured,
      load_p50_us: percentile(lat, 50) / 1000, load_p99_us: percentile(lat, 99) / 1000,
      raw_decompress_p50_us: percentile(raw, 50) / 1000, load_p50_ratio: percentile(lat, 50) / percentile(raw, 50),
      raw_decompress_MBps: rawDecompressMBs, loadMany_MBps: loadManyMBs, loadMany_ratio_1core: loadManyMBs / rawDecompressMBs,
      naive_lz4napi_MBps: naiveLz4.MBs, naive_lz4napi_overhead_B: naiveLz4.overhead,
      naive_zlib_MBps: naiveZlib.MBs, naive_zlib_overhead_B: naiveZlib.overhead,
      zstash_vs_naive_lz4napi: storeMBs / naiveLz4.MBs, zstash_metadata_B: st.metadata_bytes_per_page,
      pool_counters: st.backend.counters,
    }
    results.push(r)
    storeRows.push([`${corpus} ${format}`, fmt(oneCore, 0), fmt(timesCores, 0), fmt(measured, 0), fmt(storeMBs, 0), fmt(r.ratio_x_cores, 2), fmt(r.ratio_measured, 2), fmt(sharedMBs, 0), fmt(r.shared_ratio_measured, 2)])
    loadRows.push([`${corpus} ${format}`, fmt(r.load_p50_us, 2), fmt(r.load_p99_us, 2), fmt(r.raw_decompress_p50_us, 2), fmt(r.load_p50_ratio, 2), fmt(rawDecompressMBs, 0), fmt(loadManyMBs, 0), fmt(r.loadMany_ratio_1core, 2)])
    naiveRows.push([`${corpus} ${format}`, fmt(storeMBs, 0), fmt(st.metadata_bytes_per_page, 1), fmt(naiveLz4.MBs, 0), fmt(naiveLz4.overhead, 0), fmt(naiveZlib.MBs, 0), fmt(naiveZlib.overhead, 0), fmt(r.zstash_vs_naive_lz4napi, 2)])
  }
}

console.log(`zstash worker-pool benchmark: ${workers} workers, ${folioPages}-page folios, best of ${repeat}; ${native.codecLibraries}`)
console.log('\nStore (MB/s of original pages)')
console.log(printTable(['corpus codec', '1 core', '× cores', 'measured ∥', 'zstash', 'ratio ×cores', 'ratio ∥', 'zstash shared', 'ratio ∥'], storeRows))
console.log('  1 core = raw native loop on one thread; × cores = that × workers; measured ∥ = that many raw threads at once;')
console.log('  zstash shared = the same folios from a SharedArrayBuffer, read in place by the workers (no staging copy).')
console.log('\nLoads')
console.log(printTable(['corpus codec', 'load p50 µs', 'p99 µs', 'raw p50 µs', 'p50 ratio', 'raw loop MB/s', 'loadMany MB/s', 'ratio'], loadRows))
console.log('  raw = one native decompress call; loadMany = 4096-key batches through the pool; ratio vs the 1-core raw loop.')
console.log('\nAgainst a Map<number, Buffer> with per-page compression (one thread)')
console.log(printTable(['corpus codec', 'zstash MB/s', 'zstash B/page', 'lz4-napi MB/s', 'B/page', 'zlib MB/s', 'B/page', 'zstash / lz4-napi'], naiveRows))
console.log('  B/page = memory beyond the compressed bytes (zstash: entry table + allocator metadata).')

if (values.scale) {
  const total = Number(values['scale-pages'])
  const store = await PageStore.open({ compressor: 'lz4', workers })
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
  console.log(`\nScale: ${fmt(total, 0)} pages (${fmt(total * PAGE_SIZE / 2 ** 30, 1)} GiB logical) in ${fmt(sec, 1)} s`)
  console.log(`  RSS ${fmt(rss / 2 ** 20, 0)} MiB, pool_total_size ${fmt(s.pool_total_size / 2 ** 20, 0)} MiB, ` +
    `metadata ${fmt(s.metadata_bytes_per_page, 2)} B/page, compression ${fmt(total * PAGE_SIZE / s.pool_total_size, 2)}`)
  results.push({ scale_pages: total, seconds: sec, rss, pool_total_size: s.pool_total_size, metadata_per_page: s.metadata_bytes_per_page })
  await store.close()
}
if (values.json) writeFileSync(values.json, JSON.stringify(results, null, 2))
