/**
 * Allocator benchmark (issue 13): what moving allocation into native code,
 * onto the worker threads, buys. Measured in one run:
 *  1. alloc+free rates, 1 thread: the native pool (per-call batches of 1, 16,
 *     256) (the TypeScript ZsPool it replaced measured 17.7 M/s alloc, 1.5–9.9 M/s
 *     free: docs/allocator.md);
 *  2. the key number: 2 worker threads each running compressBatchToPool over
 *     its half of the corpus, against the raw 2-thread codec loop (same
 *     threads, same pages, compress into scratch, nothing kept), alternating
 *     rounds; the same with 1 thread; lock-per-chunk vs lock-per-page; the cost
 *     of checksums; and what a user gets (PageStore, piscina workers writing
 *     into the pool);
 *  3. bytes per stored page beyond the compressed bytes, fragmentation included
 *     ((pool_total_size + metadata − Σ compressed) / objects), after a full
 *     store, after churn (a random half freed and stored again) and after
 *     compaction, sweeping the size-class step; a Map<number, Buffer> (what a
 *     Node user would write);
 *  4. checksum throughput (crc32c via ISA-L, xxh3 via libxxhash).
 *
 * Run: node --expose-gc dist/bench/allocator.js [--codecs lz4,zstd] [--corpora node-64m,py-64m]
 *        [--rounds 5] [--batches 16,64,256] [--steps 8,16,32,64] [--json artifacts/allocator.json]
 */
import { parseArgs } from 'node:util'
import { Worker } from 'node:worker_threads'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  PageStore, PAGE_SIZE, PageStatus, loadNative, createNativePool, nativeAllocator, CompressToPool, CHECKSUMS,
  type NativePool, type ChecksumName,
} from '../src/internals.js'
import { benchCorpus, readCorpusPages, repoRoot, type CorpusName, type SharedCorpus } from './lib/corpus.js'
import { printTable, fmt } from './lib/table.js'
import { gc, heapBytes, percentile } from './lib/stats.js'
import type { RoundRequest } from './lib/pool-bench-worker.js'

const { values } = parseArgs({
  options: {
    codecs: { type: 'string', default: 'lz4,zstd' },
    corpora: { type: 'string', default: 'node-64m,py-64m' },
    rounds: { type: 'string', default: '7' },
    batches: { type: 'string', default: '16,64,256' },
    steps: { type: 'string', default: '8,16,32' },
    'slab-pages': { type: 'string', default: '4,8,16,32' },
    json: { type: 'string', default: path.join(repoRoot, 'artifacts', 'allocator.json') },
    sections: { type: 'string', default: 'rates,speed,memory,checksums' },
  },
})
const codecs = values.codecs.split(',')
const corpora = values.corpora.split(',') as SharedCorpus[]
const rounds = Number(values.rounds)
const batches = values.batches.split(',').map(Number)
const steps = values.steps.split(',').map(Number) as (8 | 16 | 32 | 64)[]
const sections = new Set(values.sections.split(','))
const slabPages = values['slab-pages'].split(',').map(Number)
const here = path.dirname(fileURLToPath(import.meta.url))
const native = loadNative()
const A = nativeAllocator()
const FLAGS = CompressToPool.SameFilled | CompressToPool.StoreRaw
const results: Record<string, unknown> = { date: new Date().toISOString(), rounds }

const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50)
const range = (xs: number[], d = 3) => `${fmt(Math.min(...xs), d)}..${fmt(Math.max(...xs), d)}`

function loadShared(name: CorpusName): SharedArrayBuffer {
  const pages = readCorpusPages(name, Infinity)
  const shared = new SharedArrayBuffer(pages.length)
  new Uint8Array(shared).set(pages)
  return shared
}

/** Compressed lengths of every page (0 for same-filled, 4096 for incompressible): the objects a pool must hold. */
function objectLengths(pages: Uint8Array, format: string): Uint32Array {
  const n = pages.length / PAGE_SIZE
  const codec = new native.Codec(format, 1)
  const out = new Uint8Array(256 * PAGE_SIZE)
  const status = new Int32Array(n)
  for (let p = 0; p < n; p += 256) codec.compressBatch(pages, p, Math.min(256, n - p), out, 0, status, p, PAGE_SIZE - 1, true)
  return Uint32Array.from(status, (s) => (s > 0 ? s : s === PageStatus.Incompressible ? PAGE_SIZE : 0))
}

// --- 1. alloc + free rates ---------------------------------------------------

function allocFreeRates(lengths: Uint32Array) {
  const objs = lengths.filter((l) => l > 0)
  const n = objs.length
  const rows: (string | number)[][] = []
  const out: Record<string, { allocMops: number; freeMops: number }> = {}
  const reps = 5
  // Both pools are warmed by a first round: this VM charges 20-60 µs for the first touch
  // of a page, which would otherwise be all that is measured.
  for (const batch of [1, 16, 256]) {
    let bestAlloc = Infinity
    let bestFree = Infinity
    const pool = createNativePool()
    for (let r = 0; r <= reps; r++) {
      const handles = new Uint32Array(n)
      const t0 = performance.now()
      for (let i = 0; i < n; i += batch) pool.allocMany(objs.subarray(i, i + batch), Math.min(batch, n - i), handles.subarray(i, i + batch))
      const t1 = performance.now()
      for (let i = 0; i < n; i += batch) A.freeMany(pool, handles, Math.min(batch, n - i), i)
      const t2 = performance.now()
      if (pool.stats().objects !== 0) throw new Error('native pool kept objects')
      if (r === 0) continue
      bestAlloc = Math.min(bestAlloc, t1 - t0)
      bestFree = Math.min(bestFree, t2 - t1)
    }
    pool.close()
    out[`native batch ${batch}`] = { allocMops: n / bestAlloc / 1e3, freeMops: n / bestFree / 1e3 }
    rows.push([`native pool, ${batch} per call`, n / bestAlloc / 1e3, n / bestFree / 1e3, (bestAlloc + bestFree) * 1e6 / n])
  }
  console.log(`\n## alloc + free, 1 thread, ${n} objects (lz4 lengths of the first corpus), best of ${reps}\n`)
  console.log(printTable(['allocator', 'alloc M/s', 'free M/s', 'ns per alloc+free'], rows))
  return out
}

// --- 2. compress into the pool vs the raw codec loop ------------------------------

class Threads {
  readonly workers: Worker[]
  readonly status: Int32Array
  readonly lo: Uint32Array
  readonly n: number
  constructor(shared: SharedArrayBuffer, format: string, slices: [number, number][]) {
    this.n = shared.byteLength / PAGE_SIZE
    // Two row sets: a round stores into one while the other still names the previous round's objects.
    const rowBufs = [0, 1, 2, 3].map(() => new SharedArrayBuffer(4 * 2 * this.n))
    this.status = new Int32Array(rowBufs[0])
    this.lo = new Uint32Array(rowBufs[1])
    this.workers = slices.map(([first, count]) => new Worker(path.join(here, 'lib', 'pool-bench-worker.js'), {
      workerData: { pages: shared, first, count, format, level: 1, status: rowBufs[0], lo: rowBufs[1], hi: rowBufs[2], sums: rowBufs[3] },
    }))
  }
  /**
   * One round on every thread at once: the slowest thread's wall time (they ran side by side)
   * and the threads' summed CPU time.
   */
  async round(req: RoundRequest): Promise<{ wall: number; cpu: number }> {
    const times = await Promise.all(this.workers.map((w) => new Promise<{ wall: number; cpu: number }>((resolve) => {
      w.once('message', resolve)
      w.postMessage(req)
    })))
    return { wall: Math.max(...times.map((t) => t.wall)), cpu: times.reduce((a, t) => a + t.cpu, 0) }
  }
  /** Frees what a pool round stored into row set `set` (the owner's side, not timed). */
  free(pool: NativePool, set: number) {
    const handles = new Uint32Array(this.n)
    for (let i = 0; i < this.n; i++) {
      const row = set * this.n + i
      if (this.status[row] !== PageStatus.SameFilled) handles[i] = this.lo[row]
      this.lo[row] = 0
      this.status[row] = PageStatus.SameFilled
    }
    A.freeMany(pool, handles, this.n)
  }
  close() { return Promise.all(this.workers.map((w) => w.terminate())) }
}

interface PairResult {
  rawMs: number[]; poolMs: number[]
  /** Median over rounds of (raw time / pool time) of the raw and pool rounds run back to back. */
  ratio: number
  /** Best pool round against best raw round. */
  bestRatio: number
  /** Median over rounds of raw/pool thread CPU time: the pool's cost, without the host's steal time. */
  cpuRatio: number
  ratioRange: string
  pagesPerSec: number; rawPagesPerSec: number
}

/**
 * Alternating raw and pool rounds on the same threads. The ratio is the pool's throughput as a
 * share of the raw loop's: the median over rounds of raw/pool of rounds run back to back (this VM's
 * speed drifts by ±30 % within a minute, so pairs compare like with like), with the range.
 *   steady: the pool holds the previous round's objects while a round stores, and the owner
 *           frees them after it (untimed): a swap workload's steady state, pages reused;
 *   cold:   the pool is emptied and compacted (its pages returned) before every round, so every
 *           slab page is faulted in during the round.
 */
async function pair(threads: Threads, pool: NativePool, batch: number, flags: number, mode: 'steady' | 'cold', checksums = false): Promise<PairResult> {
  const rawMs: number[] = []
  const poolMs: number[] = []
  const rawCpu: number[] = []
  const poolCpu: number[] = []
  let set = 0
  const poolRound = async () => {
    if (mode === 'cold') { threads.free(pool, 0); threads.free(pool, 1); pool.compact() }
    const t = await threads.round({ mode: 'pool', poolId: pool.id, batch, flags, checksums, rowBase: set * threads.n })
    set ^= 1
    threads.free(pool, set) // the previous round's objects
    return t
  }
  await threads.round({ mode: 'raw', batch, flags }) // warm-up: codec contexts, caches
  await poolRound()
  await poolRound()
  for (let r = 0; r < rounds; r++) {
    const raw = await threads.round({ mode: 'raw', batch, flags })
    const pooled = await poolRound()
    rawMs.push(raw.wall)
    rawCpu.push(raw.cpu)
    poolMs.push(pooled.wall)
    poolCpu.push(pooled.cpu)
  }
  threads.free(pool, 0)
  threads.free(pool, 1)
  if (pool.stats().objects !== 0) throw new Error('pool kept objects after every round was freed')
  pool.compact()
  const perRound = rawMs.map((r, i) => r / poolMs[i])
  return {
    rawMs, poolMs,
    ratio: median(perRound),
    bestRatio: Math.min(...rawMs) / Math.min(...poolMs),
    cpuRatio: median(rawCpu.map((c, i) => c / poolCpu[i])),
    ratioRange: range(perRound),
    pagesPerSec: threads.n / Math.min(...poolMs) * 1e3,
    rawPagesPerSec: threads.n / Math.min(...rawMs) * 1e3,
  }
}

async function pageStoreToday(pages: Uint8Array, format: string): Promise<number> {
  const n = pages.length / PAGE_SIZE
  const store = await PageStore.open({ compressor: format, workers: 2 })
  let best = Infinity
  for (let r = 0; r < Math.min(3, rounds); r++) {
    const t0 = performance.now()
    const pending: Promise<void>[] = []
    for (let f = 0; f < n; f += 16) pending.push(store.storeFolio(f, pages.subarray(f * PAGE_SIZE, Math.min(n, f + 16) * PAGE_SIZE)))
    await Promise.all(pending)
    best = Math.min(best, performance.now() - t0)
    for (let k = 0; k < n; k++) store.invalidate(k)
  }
  await store.close()
  return n / best * 1e3
}

async function throughput(corpus: CorpusName, format: string, shared: SharedArrayBuffer) {
  const n = shared.byteLength / PAGE_SIZE
  const half = Math.ceil(n / 2)
  const two = new Threads(shared, format, [[0, half], [half, n - half]])
  const one = new Threads(shared, format, [[0, n]])
  const pools = Object.fromEntries((['none', 'crc32c', 'xxh3'] as ChecksumName[]).map((c) => [c, createNativePool({ checksum: c })]))
  const out: Record<string, PairResult | number> = {}
  const rows: (string | number)[][] = []
  const add = (label: string, threads: number, r: PairResult) => {
    out[label] = r
    rows.push([label, threads, r.rawPagesPerSec * PAGE_SIZE / 2 ** 20, r.pagesPerSec * PAGE_SIZE / 2 ** 20, fmt(r.ratio, 3), r.ratioRange, fmt(r.bestRatio, 3), fmt(r.cpuRatio, 3)])
  }
  for (const batch of batches) add(`pool, ${batch} pages per call`, 2, await pair(two, pools.none, batch, FLAGS, 'steady'))
  const mid = batches[Math.floor(batches.length / 2)]
  add(`pool, ${mid}/call, cold (pages faulted in)`, 2, await pair(two, pools.none, mid, FLAGS, 'cold'))
  add(`pool, ${mid}/call, lock per page`, 2, await pair(two, pools.none, mid, FLAGS | CompressToPool.LockPerPage, 'steady'))
  add(`pool, ${mid}/call, crc32c`, 2, await pair(two, pools.crc32c, mid, FLAGS, 'steady', true))
  add(`pool, ${mid}/call, xxh3`, 2, await pair(two, pools.xxh3, mid, FLAGS, 'steady', true))
  add(`pool, ${mid}/call`, 1, await pair(one, pools.none, mid, FLAGS, 'steady'))
  await two.close()
  await one.close()
  for (const p of Object.values(pools)) p.close()
  const today = await pageStoreToday(new Uint8Array(shared), format)
  out['PageStore today (piscina, owner allocates), pages/s'] = today
  const ceiling2 = (out[`pool, ${batches[0]} pages per call`] as PairResult).rawPagesPerSec
  rows.push(['today: PageStore, 2 piscina workers, 16-page folios', 2, ceiling2 * PAGE_SIZE / 2 ** 20, today * PAGE_SIZE / 2 ** 20, '', '', fmt(today / ceiling2, 3), ''])
  console.log(`\n## ${format} on ${corpus} (${n} pages): compress into the pool vs the raw codec loop, same threads, ${rounds} alternating rounds\n`)
  console.log(printTable(['path', 'threads', 'raw MiB/s', 'pool MiB/s', 'pool/raw (median)', 'per-round range', 'best/best', 'CPU raw/pool'], rows))
  return out
}

// --- 3. bytes per stored page ----------------------------------------------------

interface MemoryPoint { pool_total_size: number; metadata_bytes: number; object_bytes: number; objects: number; perPage: number; fragPerPage: number; metaPerPage: number }

function memoryPoint(pool: NativePool): MemoryPoint {
  const s = pool.stats()
  return {
    pool_total_size: s.pool_total_size, metadata_bytes: s.metadata_bytes, object_bytes: s.object_bytes, objects: s.objects,
    perPage: (s.pool_total_size + s.metadata_bytes - s.object_bytes) / s.objects,
    fragPerPage: (s.pool_total_size - s.object_bytes) / s.objects,
    metaPerPage: s.metadata_bytes / s.objects,
  }
}

function storePages(pool: NativePool, codec: InstanceType<typeof native.Codec>, pages: Uint8Array, status: Int32Array, lo: Uint32Array, hi: Uint32Array, at = 0) {
  const n = pages.length / PAGE_SIZE
  for (let p = 0; p < n; p += 256) A.compressBatchToPool(codec, pool, pages, p, Math.min(256, n - p), status, lo, hi, at + p, null, PAGE_SIZE - 1, FLAGS)
}

function rng(seed: number) {
  let x = seed >>> 0 || 1
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 2 ** 32 }
}

function churnMemory(pages: Uint8Array, format: string) {
  const n = pages.length / PAGE_SIZE
  const codec = new native.Codec(format, 1)
  const out: Record<string, Record<string, MemoryPoint>> = {}
  const rows: (string | number)[][] = []
  const combos = [...steps.map((step) => ({ step, slab: 16 })), ...slabPages.filter((p) => p !== 16).map((slab) => ({ step: 16 as const, slab }))]
  for (const { step, slab } of combos) {
    const pool = createNativePool({ classStep: step, maxSlabPages: slab })
    const status = new Int32Array(n), lo = new Uint32Array(n), hi = new Uint32Array(n)
    storePages(pool, codec, pages, status, lo, hi)
    const full = memoryPoint(pool)
    // Churn: free a random half, then store as many pages drawn at random from the
    // corpus (other sizes than the freed ones, as new swap-outs would be).
    const random = rng(7919 + n)
    const chosen = [...Array(n).keys()].filter((i) => status[i] !== PageStatus.SameFilled && random() < 0.5)
    A.freeMany(pool, Uint32Array.from(chosen, (i) => lo[i]), chosen.length)
    const again = new Uint8Array(chosen.length * PAGE_SIZE)
    for (let k = 0; k < chosen.length; k++) {
      const p = Math.floor(random() * n)
      again.set(pages.subarray(p * PAGE_SIZE, (p + 1) * PAGE_SIZE), k * PAGE_SIZE)
    }
    const s2 = new Int32Array(chosen.length), l2 = new Uint32Array(chosen.length), h2 = new Uint32Array(chosen.length)
    storePages(pool, codec, again, s2, l2, h2)
    const churn = memoryPoint(pool)
    pool.compact()
    const compacted = memoryPoint(pool)
    pool.close()
    out[`step ${step}, slabs of up to ${slab} pages`] = { full, churn, compacted }
    for (const [label, m] of Object.entries({ full, churn, compacted })) {
      rows.push([`native, ${step} B step, ≤${slab}-page slabs, ${label}`, m.objects, m.pool_total_size / 2 ** 20, m.pool_total_size / m.object_bytes, m.fragPerPage, m.metaPerPage, m.perPage])
    }
  }
  const lengths = objectLengths(pages, format)
  // What a Node user would write: a Map of Buffers holding the compressed bytes.
  const objs = lengths.filter((l) => l > 0)
  let total = 0
  for (const l of objs) total += l
  gc()
  const before = heapBytes()
  const map = new Map<number, Buffer>()
  objs.forEach((l, i) => map.set(i, Buffer.allocUnsafe(l)))
  gc()
  const mapPer = (heapBytes() - before - total) / objs.length
  rows.push(['Map<number, Buffer> (a Node user)', objs.length, (heapBytes() - before) / 2 ** 20, (heapBytes() - before) / total, NaN, NaN, mapPer])
  out['Map<number, Buffer> bytes/page beyond compressed'] = { perPage: mapPer } as never
  map.clear()
  console.log(`\n## ${format}: bytes per stored page beyond the compressed bytes ((pool_total_size + metadata − Σ compressed) / objects)\n`)
  console.log(printTable(['pool', 'objects', 'pool MiB', 'pool/Σcomp', 'frag B/page', 'meta B/page', 'total B/page'], rows))
  return out
}

// --- 4. checksums --------------------------------------------------------------

function checksumCost(pages: Uint8Array, format: string) {
  const n = pages.length / PAGE_SIZE
  const pool = createNativePool()
  const codec = new native.Codec(format, 1)
  const status = new Int32Array(n), lo = new Uint32Array(n), hi = new Uint32Array(n)
  storePages(pool, codec, pages, status, lo, hi)
  const idx = [...Array(n).keys()].filter((i) => status[i] !== PageStatus.SameFilled)
  const lengths = Uint32Array.from(idx, (i) => hi[i])
  const packed = new Uint8Array(lengths.reduce((a, b) => a + b, 0))
  A.readObjects(pool, Uint32Array.from(idx, (i) => lo[i]), lengths, idx.length, packed)
  pool.close()
  const out: Record<string, { gbPerSec: number; nsPerPage: number }> = {}
  const rows: (string | number)[][] = []
  for (const kind of ['crc32c', 'xxh3'] as const) {
    let best = Infinity
    for (let r = 0; r < 20; r++) {
      const t0 = performance.now()
      A.checksumBytes(CHECKSUMS[kind], packed, 0, packed.length, lengths)
      best = Math.min(best, performance.now() - t0)
    }
    const gbs = packed.length / best / 1e6
    const ns = best * 1e6 / idx.length
    out[kind] = { gbPerSec: gbs, nsPerPage: ns }
    rows.push([kind, gbs, ns])
  }
  console.log(`\n## checksums over the ${format} objects, one call per object (${idx.length} objects, ${fmt(packed.length / idx.length)} B average), best of 20\n`)
  console.log(printTable(['checksum', 'GB/s', 'ns per stored page'], rows))
  return out
}

async function main() {
  const first = benchCorpus(corpora[0])
  const firstPages = readCorpusPages(first, Infinity)
  if (sections.has('rates')) results.allocFree = allocFreeRates(objectLengths(firstPages, 'lz4'))
  const memory: Record<string, unknown> = {}
  const speed: Record<string, unknown> = {}
  const sums: Record<string, unknown> = {}
  for (const c of corpora) {
    const name = benchCorpus(c)
    const shared = loadShared(name)
    if (sections.has('speed')) for (const format of codecs) speed[`${format} ${name}`] = await throughput(name, format, shared)
    if (sections.has('memory')) for (const format of codecs) memory[`${format} ${name}`] = churnMemory(new Uint8Array(shared), format)
    if (sections.has('checksums')) sums[name] = checksumCost(new Uint8Array(shared), codecs[0])
  }
  results.throughput = speed
  results.memory = memory
  results.checksums = sums
  mkdirSync(path.dirname(values.json), { recursive: true })
  writeFileSync(values.json, JSON.stringify(results, null, 2))
  console.log(`\nwrote ${values.json}`)
}

await main()
