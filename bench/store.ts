/**
 * Store benchmark (issue "Core"): for each codec and corpus, one thread,
 *  - ceiling: the raw native per-page codec loop (one native call over all pages),
 *  - zstash store throughput with 64 KiB folios, as a ratio of that ceiling,
 *  - compression ratio (original bytes / pool_total_size),
 *  - metadata bytes per stored page (entry table + allocator tables),
 *  - pool bytes / Σ object sizes, after storing, after churn (2/3 invalidated) and after compaction.
 *
 * Usage: node dist/bench/store.js [--codecs lz4,zstd] [--corpora node-64m,py-64m] [--pages N] [--folio 16] [--json FILE]
 */
import { parseArgs } from 'node:util'
import { writeFileSync } from 'node:fs'
import { PageStore, PAGE_SIZE, loadNative } from '../src/internals.js'
import { readCorpusPages, corpusAvailable, type CorpusName } from './lib/corpus.js'
import { printTable, fmt } from './lib/table.js'
import { bestOf, bestOfAsync } from './lib/stats.js'

const { values } = parseArgs({
  options: {
    codecs: { type: 'string', default: 'lz4,zstd,deflate,deflate-4k,lzo' },
    corpora: { type: 'string', default: 'node-64m,py-64m' },
    pages: { type: 'string', default: 'Infinity' },
    folio: { type: 'string', default: '16' },
    repeat: { type: 'string', default: '3' },
    json: { type: 'string' },
  },
})

const codecs = values.codecs!.split(',')
const corpora = values.corpora!.split(',') as CorpusName[]
const maxPages = Number(values.pages)
const folioPages = Number(values.folio)
const repeat = Number(values.repeat)

const native = loadNative()
const rows: (string | number)[][] = []
const results: Record<string, unknown>[] = []

for (const corpus of corpora) {
  if (!corpusAvailable(corpus)) {
    console.log(`corpus ${corpus} not found; skipped`)
    continue
  }
  const pages = readCorpusPages(corpus, maxPages)
  const n = pages.length / PAGE_SIZE
  const mb = pages.length / 1e6
  for (const compressor of codecs) {
    // Ceiling: the codec alone, one native call for every page, no store around it.
    const codec = new native.Codec(compressor, 1)
    const out = new Uint8Array(pages.length)
    const status = new Int32Array(n)
    const ceilingMs = bestOf(repeat, () => codec.compressBatch(pages, 0, n, out, 0, status, 0, PAGE_SIZE - 1, true))

    let store: PageStore | undefined
    const storeMs = await bestOfAsync(repeat, async () => {
      await store?.close()
      store = await PageStore.open({ compressor, workers: 0 })
      for (let first = 0; first < n; first += folioPages) {
        await store.storeFolio(first, pages.subarray(first * PAGE_SIZE, Math.min(n, first + folioPages) * PAGE_SIZE))
      }
    })
    const s = store!
    const stored = s.stats()
    // Churn: drop two pages in three (a pseudo-random pattern), then compact.
    let x = 1
    for (let k = 0; k < n; k++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff
      if (x % 3 !== 0) s.invalidate(k)
    }
    const churned = s.stats()
    s.compact()
    const compacted = s.stats()
    // Verify what is left, so the numbers describe a store that works.
    const back = new Uint8Array(PAGE_SIZE)
    for (let k = 0; k < n; k++) {
      if (!s.has(k)) continue
      s.loadSync(k, { into: back })
      if (Buffer.compare(back, pages.subarray(k * PAGE_SIZE, (k + 1) * PAGE_SIZE)) !== 0) throw new Error(`${compressor}: page ${k} differs`)
    }
    await s.close()

    const ceilingMBs = mb / (ceilingMs / 1000)
    const storeMBs = mb / (storeMs / 1000)
    const r = {
      corpus, compressor, pages: n,
      ceiling_MBps: ceilingMBs, store_MBps: storeMBs, ratio_to_ceiling: storeMBs / ceilingMBs,
      compression_ratio: pages.length / stored.pool_total_size,
      codec_ratio: pages.length / stored.compressed_bytes,
      same_filled: stored.same_filled_pages, incompressible: stored.stored_incompressible_pages,
      metadata_per_page: stored.metadata_bytes_per_page,
      pool_over_objects_stored: stored.pool_total_size / stored.pool.object_bytes,
      pool_over_objects_churned: churned.pool_total_size / churned.pool.object_bytes,
      pool_over_objects_compacted: compacted.pool_total_size / compacted.pool.object_bytes,
      metadata_per_page_after_churn: compacted.metadata_bytes_per_page,
    }
    results.push(r)
    rows.push([
      `${corpus} ${compressor}`, fmt(ceilingMBs, 0), fmt(storeMBs, 0), fmt(r.ratio_to_ceiling, 2),
      fmt(r.compression_ratio, 2), r.incompressible, fmt(r.metadata_per_page, 1),
      fmt(r.pool_over_objects_stored, 3), fmt(r.pool_over_objects_churned, 3), fmt(r.pool_over_objects_compacted, 3),
    ])
  }
}

console.log(`zstash store benchmark: one thread, ${folioPages}-page folios, best of ${repeat}; ${native.codecLibraries}`)
console.log(printTable(
  ['corpus codec', 'ceiling MB/s', 'store MB/s', 'ratio', 'compr', 'raw pages', 'meta B/page', 'pool/obj', 'churned', 'compacted'],
  rows,
))
console.log('ceiling = native per-page loop (one call over all pages); ratio = store / ceiling; compr = original / pool_total_size;')
console.log('pool/obj = pool_total_size / Σ object sizes, after the store, after invalidating 2/3 of the keys, and after compact().')
if (values.json) writeFileSync(values.json, JSON.stringify(results, null, 2))
