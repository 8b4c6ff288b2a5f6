/**
 * Store benchmark, one thread: for each codec and corpus, zstash storing 64 KiB
 * folios on the calling thread (workers: 0) against the raw native per-page
 * compress loop on one thread measured in this run, and against the naive
 * alternative (Map + lz4-napi) on 1 thread and on W worker threads. Also the
 * compression ratio, metadata bytes per page, and pool bytes / Σ object sizes
 * after the store, after churn (2/3 invalidated) and after compaction.
 *
 * Usage: node --expose-gc dist/bench/store.js [--codecs lz4,zstd] [--corpora node-64m,py-64m] [--pages N]
 *          [--folio 16] [--repeat 5] [--workers W] [--json FILE]
 * Writes artifacts/store-<time>.json (compare two with `zstash report --compare`).
 */
import { parseArgs } from 'node:util'
import { availableParallelism } from 'node:os'
import { PageStore, PAGE_SIZE, loadNative } from '../src/internals.js'
import { readCorpusPages, corpusAvailable, type CorpusName } from './lib/corpus.js'
import { printTable, fmt } from './lib/table.js'
import { Ceiling } from './lib/ceiling.js'
import { NaiveAlternative } from './lib/naive.js'
import { RunRecord, throughput, spread, pairedMedian, type BenchRow } from './lib/run-record.js'

const { values } = parseArgs({
  options: {
    codecs: { type: 'string', default: 'lz4,zstd,deflate,deflate-4k,lzo' },
    corpora: { type: 'string', default: 'node-64m,py-64m' },
    pages: { type: 'string', default: 'Infinity' },
    folio: { type: 'string', default: '16' },
    repeat: { type: 'string', default: '7' },
    workers: { type: 'string', default: String(availableParallelism()) },
    json: { type: 'string' },
  },
})

const codecs = values.codecs!.split(',')
const corpora = values.corpora!.split(',') as CorpusName[]
const maxPages = Number(values.pages)
const folioPages = Number(values.folio)
const repeat = Number(values.repeat)
const W = Number(values.workers)

const native = loadNative()
const rec = new RunRecord('store', { codecs, corpora, pages: maxPages, folio_pages: folioPages, repeat, naive_threads: [1, W] }, native.codecLibraries)
const rows: string[][] = []
const naiveRows: string[][] = []

for (const corpus of corpora) {
  if (!corpusAvailable(corpus)) {
    console.log(`corpus ${corpus} not found; skipped`)
    continue
  }
  const pages = readCorpusPages(corpus, maxPages)
  const n = pages.length / PAGE_SIZE
  const shared = new SharedArrayBuffer(pages.length)
  new Uint8Array(shared).set(pages)
  const threadCounts = [...new Set([1, W])]
  const naive = new Map<number, NaiveAlternative>()
  for (const t of threadCounts) naive.set(t, await NaiveAlternative.start(shared, t))
  const naiveMs = new Map<number, number[]>(threadCounts.map((t) => [t, []]))
  const zstashRows: BenchRow[] = []
  const pairedNaive = new Map<string, Record<string, number>>()
  const tableLater: (() => void)[] = []
  for (const compressor of codecs) {
    const key = `${corpus}/${compressor}`
    // Timed: one store, warmed by a first pass, every key invalidated (untimed) between rounds,
    // so the rows compare steady-state storing with a warmed-up ceiling loop. Each round is
    // preceded by a round of the 1-thread ceiling and followed by a round of the naive
    // alternative on 1 and on W threads, so all of them see the same moment of a noisy host.
    const storeAll = async (st: PageStore) => {
      for (let first = 0; first < n; first += folioPages) {
        await st.storeFolio(first, pages.subarray(first * PAGE_SIZE, Math.min(n, first + folioPages) * PAGE_SIZE))
      }
    }
    const c = await Ceiling.start(shared, compressor, 1)
    const warm = await PageStore.open({ compressor, workers: 0 })
    await storeAll(warm)
    const ceilingMs: number[] = []
    const storeMs: number[] = []
    const naiveHere = new Map<number, number[]>(threadCounts.map((t) => [t, []]))
    for (let r = 0; r < repeat; r++) {
      ceilingMs.push((await c.compress(1))[0])
      for (let k = 0; k < n; k++) warm.invalidate(k)
      const t0 = performance.now()
      await storeAll(warm)
      storeMs.push(performance.now() - t0)
      for (const t of threadCounts) {
        const ms = await naive.get(t)!.store()
        naiveMs.get(t)!.push(ms)
        naiveHere.get(t)!.push(ms)
      }
    }
    await c.close()
    await warm.close()
    const ceiling = rec.add({ id: `store/ceiling/${key}/compress/t1`, label: `${key} raw compress loop`, threads: 1, unit: 'MB/s', ...throughput(pages.length, ceilingMs), note: '1 worker thread; one round before each store round' })
    const row = rec.addBounded({ id: `store/store/${key}/zstash/t1`, label: `${key} zstash store, workers 0`, threads: 1, unit: 'MB/s', ...throughput(pages.length, storeMs), note: 'calling thread' }, ceiling)
    row.ratio_paired_median = pairedMedian(ceilingMs, storeMs)
    zstashRows.push(row)
    pairedNaive.set(row.id, Object.fromEntries(threadCounts.map((t) => [`vs_naive_t${t}_paired_median`, pairedMedian(naiveHere.get(t)!, storeMs)])))
    // Untimed: a fresh store for the space numbers.
    const s = await PageStore.open({ compressor, workers: 0 })
    await storeAll(s)
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

    const facts: [string, string, number][] = [
      ['compression', 'x', pages.length / stored.pool_total_size],
      ['codec-ratio', 'x', pages.length / stored.compressed_bytes],
      ['incompressible', 'pages', stored.stored_incompressible_pages],
      ['same-filled', 'pages', stored.same_filled_pages],
      ['metadata', 'B/page', stored.metadata_bytes_per_page],
      ['pool-over-objects/stored', 'x', stored.pool_total_size / stored.pool.object_bytes],
      ['pool-over-objects/churned', 'x', churned.pool_total_size / churned.pool.object_bytes],
      ['pool-over-objects/compacted', 'x', compacted.pool_total_size / compacted.pool.object_bytes],
    ]
    for (const [what, unit, value] of facts) rec.add({ id: `store/facts/${key}/${what}`, label: `${key} ${what}`, threads: 1, unit, value })
    tableLater.push(() => rows.push([
      key, '1', spread(ceiling), spread(row), `${fmt(row.ratio!, 2)} / ${fmt(row.ratio_paired_median!, 2)}`,
      `${fmt(row.vs!.vs_naive_t1, 2)} / ${fmt(row.vs!.vs_naive_t1_paired_median, 2)}`, `${fmt(row.vs![`vs_naive_t${W}`], 2)} / ${fmt(row.vs![`vs_naive_t${W}_paired_median`], 2)}`,
      fmt(facts[0][2], 2), String(facts[2][2]), fmt(facts[4][2], 1), fmt(facts[5][2], 3), fmt(facts[6][2], 3), fmt(facts[7][2], 3),
    ]))
  }
  // The naive alternative's rows, from all its interleaved rounds, and the comparisons with them.
  const naiveValue = new Map<number, number>()
  for (const t of threadCounts) {
    const nrow = rec.add({ id: `store/naive/${corpus}/store/t${t}`, label: `${corpus} Map+lz4-napi store`, threads: t, unit: 'MB/s', ...throughput(pages.length, naiveMs.get(t)!), note: t === 1 ? 'calling thread' : `${t} worker threads, one Map each` })
    naiveValue.set(t, nrow.value)
    naiveRows.push([corpus, String(t), spread(nrow)])
    await naive.get(t)!.close()
  }
  for (const r of zstashRows) r.vs = { ...Object.fromEntries(threadCounts.map((t) => [`vs_naive_t${t}`, r.value / naiveValue.get(t)!])), ...pairedNaive.get(r.id) }
  for (const f of tableLater) f()
}

const lines = [
  `zstash store benchmark: 1 thread (workers: 0), ${folioPages}-page folios, best of ${repeat} (min–max over the rounds); ${native.codecLibraries}`,
  printTable(
    ['corpus/codec', 'threads', 'ceiling MB/s', 'store MB/s', 'ratio best/paired', '/ naive 1t best/paired', `/ naive ${W}t best/paired`, 'compr', 'raw pages', 'meta B/page', 'pool/obj', 'churned', 'compacted'],
    rows,
  ),
  'ceiling = raw native compress loop on 1 thread, this run; ratio = store / ceiling; naive = Map + lz4-napi compressSync on 1 thread',
  `(the calling thread) and on ${W} worker threads with a Map each; compr = original / pool_total_size;`,
  'pool/obj = pool_total_size / Σ object sizes, after the store, after invalidating 2/3 of the keys, and after compact().',
  'best/paired: best / best over the rounds, and the median of the within-round ratios (each store round sits between a ceiling',
  'round and a naive round): read the paired median when the host is loaded.',
  '',
  'Naive alternative, store MB/s',
  printTable(['corpus', 'threads', 'MB/s'], naiveRows),
]
for (const l of lines) console.log(l)
rec.notes.push(...lines)
console.log(`\nresults: ${rec.write(values.json)}`)
