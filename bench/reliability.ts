/**
 * What the reliability guarantees cost (docs/reliability.md), measured against
 * the store itself in the same run:
 *  - the input copy: storeFolio() takes the caller's bytes into the store's
 *    staging memory before it returns. Its cost is timed alone (the same
 *    folios copied the same way) and divided by the time the store takes;
 *  - the checksum: stores and loads with `checksum: true` against `false`,
 *    interleaved, best of N, on the calling thread (workers: 0, where nothing
 *    else hides it) and with the worker pool.
 *
 * Usage: node dist/bench/reliability.js [--codecs lz4,zstd] [--corpora node-64m,py-64m] [--folio 16] [--repeat 5] [--json FILE]
 */
import { parseArgs } from 'node:util'
import { mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { PageStore, PAGE_SIZE, loadNative, nativeAllocator, CHECKSUMS } from '../src/internals.js'
import { Staging } from '../src/folio/staging.js'
import { benchCorpus, readCorpusPages, type SharedCorpus } from './lib/corpus.js'
import { printTable } from './lib/table.js'
import { bestOf, bestOfAsync } from './lib/stats.js'

const { values } = parseArgs({
  options: {
    codecs: { type: 'string', default: 'lz4,zstd' },
    corpora: { type: 'string', default: 'node-64m,py-64m' },
    folio: { type: 'string', default: '16' },
    pages: { type: 'string', default: '16384' },
    repeat: { type: 'string', default: '5' },
    json: { type: 'string', default: 'artifacts/bench-reliability.json' },
  },
})
const codecs = values.codecs!.split(',')
const folioPages = Number(values.folio)
const repeat = Number(values.repeat)
const workers = Math.min(2, availableParallelism())

async function storeAll(store: PageStore, pages: Uint8Array, n: number): Promise<void> {
  const pending: Promise<void>[] = []
  for (let first = 0; first < n; first += folioPages) {
    pending.push(store.storeFolio(first, pages.subarray(first * PAGE_SIZE, Math.min(n, first + folioPages) * PAGE_SIZE)))
    // Keep a bounded number in flight, as a swap cache's reclaim does.
    if (pending.length >= 64) await pending.shift()
  }
  await Promise.all(pending)
}

/** Best store time (ms) for fresh stores with these options; the store is closed after each round. */
async function storeMs(options: Parameters<typeof PageStore.open>[0], pages: Uint8Array, n: number): Promise<number> {
  const store = await PageStore.open(options)
  try {
    return await bestOfAsync(repeat, async () => {
      for (let k = 0; k < n; k++) store.invalidate(k)
      await storeAll(store, pages, n)
    })
  } finally {
    await store.close()
  }
}

async function loadMs(options: Parameters<typeof PageStore.open>[0], pages: Uint8Array, n: number): Promise<number> {
  const store = await PageStore.open(options)
  try {
    await storeAll(store, pages, n)
    const into = new Uint8Array(PAGE_SIZE)
    return bestOf(repeat, () => { for (let k = 0; k < n; k++) store.loadSync(k, { into }) })
  } finally {
    await store.close()
  }
}

const rows: (string | number)[][] = []
const micro: (string | number)[][] = []
const results: Record<string, unknown>[] = []
const native = loadNative()
const allocator = nativeAllocator()

for (const name of values.corpora!.split(',') as SharedCorpus[]) {
  const corpus = benchCorpus(name)
  const pages = readCorpusPages(corpus, Number(values.pages))
  const n = pages.length / PAGE_SIZE
  const mb = pages.length / 1e6
  // The copy alone: the same folios into the same staging ring, released as they go.
  const staging = new Staging(4096)
  const copyMs = bestOf(repeat, () => {
    for (let first = 0; first < n; first += folioPages) {
      const count = Math.min(folioPages, n - first)
      staging.copy(pages.subarray(first * PAGE_SIZE, (first + count) * PAGE_SIZE), count).release()
    }
  })
  for (const compressor of codecs) {
    // In isolation, one thread, interleaved: the codec over every page vs the checksum over every object it made.
    const codec = new native.Codec(compressor, 1)
    const out = new Uint8Array(pages.length)
    const status = new Int32Array(n)
    let codecMs = Infinity
    let sumMs = Infinity
    let copyOnlyMs = Infinity
    const scratch = new Uint8Array(PAGE_SIZE * folioPages)
    // The objects packed back to back, as they lie in the pool's slots, summed one by one in a
    // single native call (the store computes each sum inside the call that writes the object, so a
    // JS call per object would time Node-API, not the CRC).
    codec.compressBatch(pages, 0, n, out, 0, status, 0, PAGE_SIZE - 1, true)
    const objectLengths = Uint32Array.from(status.filter((x) => x !== 0), (x) => (x > 0 ? x : PAGE_SIZE))
    const packed = new Uint8Array(objectLengths.reduce((a, b) => a + b, 0))
    for (let i = 0, at = 0; i < n; i++) {
      if (status[i] === 0) continue
      const len = status[i] > 0 ? status[i] : PAGE_SIZE
      packed.set((status[i] > 0 ? out : pages).subarray(i * PAGE_SIZE, i * PAGE_SIZE + len), at)
      at += len
    }
    for (let r = 0; r < repeat * 3; r++) {
      codecMs = Math.min(codecMs, bestOf(1, () => codec.compressBatch(pages, 0, n, out, 0, status, 0, PAGE_SIZE - 1, true)))
      sumMs = Math.min(sumMs, bestOf(1, () => allocator.checksumBytes(CHECKSUMS.crc32c, packed, 0, packed.length, objectLengths)))
      copyOnlyMs = Math.min(copyOnlyMs, bestOf(1, () => {
        for (let first = 0; first < n; first += folioPages) scratch.set(pages.subarray(first * PAGE_SIZE, Math.min(n, first + folioPages) * PAGE_SIZE))
      }))
    }
    micro.push([corpus, compressor, n / (codecMs / 1e3), `${((sumMs / codecMs) * 100).toFixed(2)} %`, `${((copyOnlyMs / codecMs) * 100).toFixed(2)} %`])
    results.push({ corpus, compressor, micro: true, codec_ms: codecMs, checksum_ms: sumMs, copy_ms: copyOnlyMs })
    for (const threads of [0, workers]) {
      const base = { compressor, workers: threads }
      const on = await storeMs({ ...base, checksum: true }, pages, n)
      const off = await storeMs({ ...base, checksum: false }, pages, n)
      const loadOn = await loadMs({ ...base, checksum: true }, pages, n)
      const loadOff = await loadMs({ ...base, checksum: false }, pages, n)
      const row = {
        corpus, compressor, threads: threads === 0 ? 1 : threads + 1,
        store_mb_s: mb / (off / 1e3),
        copy_over_store: threads === 0 ? NaN : copyMs / off,
        // The isolated CRC32C time (one N-API call per object, so an overestimate: the store computes it
        // inside the copy call) over the whole store's time on the same single thread.
        checksum_over_store: threads === 0 ? sumMs / off : NaN,
        checksum_store_ratio: off / on,
        checksum_load_ratio: loadOff / loadOn,
        load_mb_s: mb / (loadOff / 1e3),
      }
      results.push(row)
      rows.push([
        corpus, compressor, threads === 0 ? 'calling thread' : `${threads} workers + owner`,
        row.store_mb_s, threads === 0 ? 'none (sync)' : `${(row.copy_over_store * 100).toFixed(1)} %`,
        threads === 0 ? `${(row.checksum_over_store * 100).toFixed(2)} %` : '',
        row.checksum_store_ratio.toFixed(3), row.checksum_load_ratio.toFixed(3),
      ])
    }
  }
}

console.log('In isolation (one thread, interleaved, best of 3 × repeat): cost relative to compressing the same pages')
console.log(printTable(['corpus', 'codec', 'codec pages/s', 'CRC32C of every object', 'copy of every folio'], micro))
console.log('')
console.log(`zstash reliability costs: ${folioPages * 4} KiB folios, best of ${repeat}; ratios > 1 would mean faster with the feature`)
console.log(printTable(
  ['corpus', 'codec', 'threads', 'store MB/s (no checksum)', 'input copy / store time', 'CRC32C time / store time', 'store: checksum on/off', 'loadSync: checksum on/off'],
  rows,
))
console.log(`checksum: CRC32C (ISA-L crc32_iscsi); copy: ${native.codecLibraries.split(';')[0]}`)
mkdirSync('artifacts', { recursive: true })
writeFileSync(values.json!, JSON.stringify({ bench: 'reliability', date: new Date().toISOString(), folioPages, repeat, rows: results }, null, 2))
