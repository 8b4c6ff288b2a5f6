import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { Worker } from 'node:worker_threads'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import {
  createNativePool, attachNativePool, nativeAllocator, loadNative, PoolStatus, CompressToPool, CHECKSUMS,
  PAGE_SIZE, PageStatus, type NativePool,
} from 'zstash/internals'
import { readCorpusPages } from './helpers/corpus.js'

const A = nativeAllocator()
const native = loadNative()
const FLAGS = CompressToPool.SameFilled | CompressToPool.StoreRaw
const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'helpers', 'native-pool-worker.mjs')

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) out[i] = (seed * 31 + i * 7) & 0xff
  return out
}

/** Stats that must add up whatever happened before. */
function checkStats(pool: NativePool, live: Map<number, number>) {
  const s = pool.stats()
  expect(s.objects).toBe(live.size)
  expect(s.object_bytes).toBe([...live.values()].reduce((a, b) => a + b, 0))
  let pages = 0
  let used = 0
  for (const c of s.classes) {
    expect(c.obj_used).toBeLessThanOrEqual(c.obj_allocated)
    expect(c.obj_allocated).toBe((c.pages_used / c.pagesPerSlab) * c.objectsPerSlab)
    pages += c.pages_used
    used += c.obj_used
  }
  expect(pages * PAGE_SIZE).toBe(s.pool_total_size)
  expect(used).toBe(live.size)
  expect(pool.totalSize()).toBe(s.pool_total_size)
}

function checkNoOverlap(pool: NativePool, live: Map<number, number>) {
  const ranges = [...live.entries()].map(([h, len]) => {
    const r = pool.slotRange(h)
    expect(r).toBeDefined()
    expect(len).toBeLessThanOrEqual(r![1])
    return r!
  }).sort((a, b) => a[0] - b[0])
  for (let i = 1; i < ranges.length; i++) expect(ranges[i][0]).toBeGreaterThanOrEqual(ranges[i - 1][0] + ranges[i - 1][1])
}

function readBack(pool: NativePool, handle: number, length: number): Uint8Array {
  const out = new Uint8Array(length)
  expect(A.readObjects(pool, Uint32Array.of(handle), Uint32Array.of(length), 1, out)).toBe(length)
  return out
}

/** Frees every handle the result rows name (skipping same-filled rows, whose lo is a fill word). */
function freeNamed(pool: NativePool, status: Int32Array, lo: Uint32Array): number {
  const handles = new Uint32Array(status.length)
  for (let i = 0; i < status.length; i++) if (status[i] !== PageStatus.SameFilled) handles[i] = lo[i]
  return A.freeMany(pool, handles, handles.length)
}

function expectPage(got: Uint8Array, pages: Uint8Array, i: number) {
  const want = pages.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE)
  expect(Buffer.compare(Buffer.from(got.buffer, got.byteOffset, PAGE_SIZE), Buffer.from(want.buffer, want.byteOffset, PAGE_SIZE))).toBe(0)
}

describe('native pool: allocator invariants', () => {
  it('keeps objects disjoint, bytes intact and stats consistent under random alloc/free/compact', () => {
    const op = fc.oneof(
      { weight: 6, arbitrary: fc.record({ t: fc.constant('alloc' as const), lens: fc.array(fc.oneof(fc.integer({ min: 1, max: PAGE_SIZE }), fc.integer({ min: 200, max: 3000 })), { minLength: 1, maxLength: 40 }) }) },
      { weight: 4, arbitrary: fc.record({ t: fc.constant('free' as const), share: fc.double({ min: 0, max: 1, noNaN: true }), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ t: fc.constant('compact' as const) }) },
    )
    fc.assert(fc.property(fc.constantFrom(8, 16, 32, 64) as fc.Arbitrary<8 | 16 | 32 | 64>, fc.constantFrom(1, 4, 16, 32), fc.array(op, { maxLength: 60 }), (classStep, maxSlabPages, ops) => {
      const pool = createNativePool({ classStep, maxSlabPages, maxBytes: 64 << 20 })
      const live = new Map<number, number>()
      const seeds = new Map<number, number>()
      let seed = 1
      try {
        for (const o of ops) {
          if (o.t === 'alloc') {
            const lengths = Uint32Array.from(o.lens)
            const total = o.lens.reduce((a, b) => a + b, 0)
            const src = new Uint8Array(total)
            const mySeeds: number[] = []
            let at = 0
            for (const len of o.lens) { const s = seed++; mySeeds.push(s); src.set(pattern(len, s), at); at += len }
            const handles = new Uint32Array(o.lens.length)
            expect(A.storeObjects(pool, src, lengths, lengths.length, handles)).toBe(lengths.length)
            handles.forEach((h, i) => {
              expect(h).toBeGreaterThan(0)
              expect(live.has(h)).toBe(false)
              live.set(h, o.lens[i])
              seeds.set(h, mySeeds[i])
            })
          } else if (o.t === 'free') {
            const keys = [...live.keys()]
            const n = Math.floor(keys.length * o.share)
            const chosen = keys.slice(o.pick % Math.max(1, keys.length - n + 1)).slice(0, n)
            expect(A.freeMany(pool, Uint32Array.from(chosen), chosen.length)).toBe(chosen.length)
            for (const h of chosen) { live.delete(h); seeds.delete(h) }
          } else {
            const before = pool.totalSize()
            const released = pool.compact()
            expect(pool.totalSize()).toBe(before - released * PAGE_SIZE)
          }
          checkStats(pool, live)
          checkNoOverlap(pool, live)
          for (const [h, len] of live) expect(Buffer.from(readBack(pool, h, len)).equals(Buffer.from(pattern(len, seeds.get(h)!)))).toBe(true)
        }
        // Everything freed: no page is kept.
        expect(A.freeMany(pool, Uint32Array.from(live.keys()), live.size)).toBe(live.size)
        expect(pool.stats().pool_total_size).toBe(0)
        expect(pool.stats().objects).toBe(0)
      } finally {
        pool.close()
      }
    }), { numRuns: 60 })
  })

  it('compaction releases pages after churn and keeps every handle valid', () => {
    const pool = createNativePool()
    const n = 20000
    const lengths = new Uint32Array(n)
    let x = 12345
    for (let i = 0; i < n; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; lengths[i] = 64 + (x % 3000) }
    const src = new Uint8Array(lengths.reduce((a, b) => a + b, 0))
    for (let i = 0; i < src.length; i++) src[i] = (i * 13) & 0xff
    const handles = new Uint32Array(n)
    expect(A.storeObjects(pool, src, lengths, n, handles)).toBe(n)
    const freed = new Uint32Array(n)
    for (let i = 0; i < n; i += 2) { freed[i] = handles[i]; handles[i] = 0 }
    expect(A.freeMany(pool, freed, n)).toBe(n / 2)
    const before = pool.stats()
    const released = pool.compact()
    const after = pool.stats()
    expect(released).toBeGreaterThan(0)
    expect(after.pool_total_size).toBe(before.pool_total_size - released * PAGE_SIZE)
    expect(after.objects_moved).toBeGreaterThan(0)
    // After compaction the pool holds little more than its objects.
    expect(after.pool_total_size / after.object_bytes).toBeLessThan(1.1)
    let at = 0
    for (let i = 0; i < n; i++) {
      if (handles[i]) {
        const back = readBack(pool, handles[i], lengths[i])
        expect(Buffer.from(back).equals(Buffer.from(src.subarray(at, at + lengths[i])))).toBe(true)
      }
      at += lengths[i]
    }
    pool.close()
  })

  it('keeps freed pages resident for reuse up to retainPercent of the peak, and compact() returns them', () => {
    const lengths = new Uint32Array(4000).fill(1500)
    for (const retainPercent of [100, 0]) {
      const pool = createNativePool({ retainPercent })
      const handles = new Uint32Array(lengths.length)
      expect(pool.allocMany(lengths, lengths.length, handles)).toBe(lengths.length)
      const peak = pool.totalSize()
      expect(A.freeMany(pool, handles, handles.length)).toBe(handles.length)
      const s = pool.stats()
      expect(s.pool_total_size).toBe(0)
      if (retainPercent === 100) expect(s.cached_bytes).toBe(peak) // everything kept: the refill faults nothing
      else expect(s.cached_bytes).toBeLessThanOrEqual(1 << 20) // only the 1 MiB floor
      // A refill takes cached pages first: the pool does not grow past its peak.
      pool.allocMany(lengths, lengths.length, handles)
      expect(pool.totalSize()).toBe(peak)
      A.freeMany(pool, handles, handles.length)
      pool.compact()
      expect(pool.stats().cached_bytes).toBe(0)
      pool.close()
    }
  })
})

describe('native pool: compress into the pool and decompress from it', () => {
  const corpora = ['node-2k', 'py-2k'] as const
  for (const format of ['lz4', 'zstd', 'deflate', 'deflate-4k', 'lzo']) {
    for (const corpus of corpora) {
      it(`${format} round-trips ${corpus} pages (single and batch decode, crc32c)`, () => {
        const n = 512
        const pages = readCorpusPages(corpus, n)
        const pool = createNativePool({ checksum: 'crc32c' })
        const codec = new native.Codec(format, 1)
        const status = new Int32Array(n), lo = new Uint32Array(n), hi = new Uint32Array(n), sums = new Uint32Array(n)
        const stored = A.compressBatchToPool(codec, pool, pages, 0, n, status, lo, hi, 0, sums, PAGE_SIZE - 1, FLAGS)
        let objects = 0
        let bytes = 0
        const page = new Uint8Array(PAGE_SIZE)
        for (let i = 0; i < n; i++) {
          if (status[i] === PageStatus.SameFilled) {
            native.fillPage(page, 0, lo[i], hi[i])
          } else {
            expect(status[i] > 0 || status[i] === PageStatus.Incompressible).toBe(true)
            expect(hi[i]).toBe(status[i] > 0 ? status[i] : PAGE_SIZE)
            expect(sums[i]).toBe(A.checksumBytes(CHECKSUMS.crc32c, readBack(pool, lo[i], hi[i]), 0, hi[i]))
            objects++
            bytes += hi[i]
            expect(A.decompressFromPool(codec, pool, lo[i], hi[i], page, 0, sums[i])).toBe(PAGE_SIZE)
          }
          expectPage(page, pages, i)
        }
        expect(stored).toBe(objects)
        expect(pool.stats().objects).toBe(objects)
        expect(pool.stats().object_bytes).toBe(bytes)
        // Batch decode, into shuffled destination pages.
        const jobs = [...Array(n).keys()].filter((i) => status[i] !== PageStatus.SameFilled)
        const dstPages = Uint32Array.from(jobs.map((_, k) => jobs.length - 1 - k))
        const dst = new Uint8Array(jobs.length * PAGE_SIZE)
        const st = new Int32Array(jobs.length)
        const ok = A.decompressManyFromPool(codec, pool, Uint32Array.from(jobs.map((i) => lo[i])), Uint32Array.from(jobs.map((i) => hi[i])),
          jobs.length, dst, dstPages, st, Uint32Array.from(jobs.map((i) => sums[i])))
        expect(ok).toBe(jobs.length)
        jobs.forEach((i, k) => expectPage(dst.subarray(dstPages[k] * PAGE_SIZE), pages, i))
        // A compaction in between moves objects, not handles.
        A.freeMany(pool, Uint32Array.from(jobs.filter((_, k) => k % 3 === 0).map((i) => lo[i])), Math.ceil(jobs.length / 3))
        pool.compact()
        for (const [k, i] of jobs.entries()) {
          if (k % 3 === 0) continue
          expect(A.decompressFromPool(codec, pool, lo[i], hi[i], page, 0, sums[i])).toBe(PAGE_SIZE)
          expectPage(page, pages, i)
        }
        pool.close()
      })
    }
  }

  it('reports a checksum mismatch (xxh3) as its own status, and a wrong length as a bad handle', () => {
    const pages = readCorpusPages('node-2k', 64)
    const pool = createNativePool({ checksum: 'xxh3' })
    const codec = new native.Codec('lz4', 1)
    const status = new Int32Array(64), lo = new Uint32Array(64), hi = new Uint32Array(64), sums = new Uint32Array(64)
    A.compressBatchToPool(codec, pool, pages, 0, 64, status, lo, hi, 0, sums, PAGE_SIZE - 1, FLAGS)
    const i = [...status].findIndex((s) => s > 0)
    const page = new Uint8Array(PAGE_SIZE)
    expect(A.decompressFromPool(codec, pool, lo[i], hi[i], page, 0, sums[i])).toBe(PAGE_SIZE)
    expect(A.decompressFromPool(codec, pool, lo[i], hi[i], page, 0, (sums[i] ^ 1) >>> 0)).toBe(PoolStatus.ChecksumMismatch)
    expect(A.decompressFromPool(codec, pool, lo[i], hi[i], page, 0)).toBe(PAGE_SIZE) // no expected checksum: not checked
    expect(A.decompressFromPool(codec, pool, lo[i], hi[i] - 1, page, 0)).toBe(PoolStatus.BadHandle)
    expect(sums[i]).toBe(A.checksumBytes(CHECKSUMS.xxh3, readBack(pool, lo[i], hi[i]), 0, hi[i]))
    pool.close()
  })

  it('rejects incompressible pages without allocating when StoreRaw is off', () => {
    const random = new Uint8Array(4 * PAGE_SIZE)
    let x = 7
    for (let i = 0; i < random.length; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; random[i] = x >>> 24 }
    const pool = createNativePool()
    const codec = new native.Codec('lz4', 1)
    const status = new Int32Array(4), lo = new Uint32Array(4), hi = new Uint32Array(4)
    expect(A.compressBatchToPool(codec, pool, random, 0, 4, status, lo, hi, 0, null, PAGE_SIZE - 1, CompressToPool.SameFilled)).toBe(0)
    expect([...status]).toEqual([-1, -1, -1, -1])
    expect([...lo]).toEqual([0, 0, 0, 0])
    expect(pool.stats().objects).toBe(0)
    expect(A.compressBatchToPool(codec, pool, random, 0, 4, status, lo, hi, 0, null, PAGE_SIZE - 1, FLAGS)).toBe(4)
    expect([...hi]).toEqual([PAGE_SIZE, PAGE_SIZE, PAGE_SIZE, PAGE_SIZE])
    const page = new Uint8Array(PAGE_SIZE)
    expect(A.decompressFromPool(codec, pool, lo[2], PAGE_SIZE, page, 0)).toBe(PAGE_SIZE)
    expectPage(page, random, 2)
    pool.close()
  })
})

describe('native pool: limits', () => {
  it('reserve() admits within limitBytes, counting pool_total_size and earlier reservations', () => {
    const limit = 8 << 20
    const pool = createNativePool({ limitBytes: limit })
    expect(pool.reserve(4 << 20)).toBe(true)
    expect(pool.reserve((4 << 20) + 1)).toBe(false)
    expect(pool.stats().reserved_bytes).toBe(4 << 20)
    const pages = readCorpusPages('py-2k', 64)
    const codec = new native.Codec('lz4', 1)
    const status = new Int32Array(64), lo = new Uint32Array(64), hi = new Uint32Array(64)
    A.compressBatchToPool(codec, pool, pages, 0, 64, status, lo, hi, 0, null, PAGE_SIZE - 1, FLAGS)
    const size = pool.totalSize()
    expect(size).toBeGreaterThan(0)
    expect(size).toBeLessThan(4 << 20)
    pool.unreserve(4 << 20)
    expect(pool.reserve(limit - size + 1)).toBe(false)
    expect(pool.reserve(limit - size)).toBe(true)
    pool.unreserve(1 << 30) // more than reserved: clamps at zero
    expect(pool.stats().reserved_bytes).toBe(0)
    pool.close()
  })

  it('fails allocations past maxBytes with AllocFail and allocates nothing for those pages', () => {
    const pool = createNativePool({ maxBytes: 256 << 10 })
    const n = 1024
    const pages = readCorpusPages('node-2k', n)
    const codec = new native.Codec('lz4', 1)
    const status = new Int32Array(n), lo = new Uint32Array(n), hi = new Uint32Array(n)
    const stored = A.compressBatchToPool(codec, pool, pages, 0, n, status, lo, hi, 0, null, PAGE_SIZE - 1, FLAGS)
    const failed = [...status.keys()].filter((i) => status[i] === PoolStatus.AllocFail)
    expect(failed.length).toBeGreaterThan(0)
    for (const i of failed) expect(lo[i]).toBe(0)
    expect(pool.totalSize()).toBeLessThanOrEqual(256 << 10)
    expect(pool.stats().objects).toBe(stored)
    expect(pool.stats().alloc_fails).toBe(failed.length)
    expect(freeNamed(pool, status, lo)).toBe(stored)
    expect(pool.stats().pool_total_size).toBe(0)
    pool.close()
  })
})

interface WorkerRun {
  worker: Worker
  status: Int32Array
  lo: Uint32Array
  hi: Uint32Array
  progress: Int32Array
}

function startWorker(pool: NativePool, shared: SharedArrayBuffer, first: number, count: number, opts: { rounds?: number; batch?: number; exitAfter?: number; rows?: SharedArrayBuffer[]; progress?: SharedArrayBuffer; slot?: number; format?: string } = {}): WorkerRun {
  const rounds = opts.rounds ?? 1
  const total = shared.byteLength / PAGE_SIZE
  const rows = opts.rows ?? [new SharedArrayBuffer(4 * total * rounds), new SharedArrayBuffer(4 * total * rounds), new SharedArrayBuffer(4 * total * rounds)]
  const progress = opts.progress ?? new SharedArrayBuffer(16)
  const worker = new Worker(WORKER, {
    workerData: {
      poolId: pool.id, format: opts.format ?? 'lz4', pages: shared, first, count, batch: opts.batch ?? 32,
      status: rows[0], lo: rows[1], hi: rows[2], progress, slot: opts.slot ?? 0, rounds, exitAfter: opts.exitAfter,
    },
  })
  return { worker, status: new Int32Array(rows[0]), lo: new Uint32Array(rows[1]), hi: new Uint32Array(rows[2]), progress: new Int32Array(progress) }
}

function exited(w: Worker): Promise<number> {
  return new Promise((resolve, reject) => { w.once('exit', resolve); w.once('error', reject) })
}

function sharedPages(corpus: 'node-2k' | 'py-2k', n: number): SharedArrayBuffer {
  const pages = readCorpusPages(corpus, n)
  const shared = new SharedArrayBuffer(pages.length)
  new Uint8Array(shared).set(pages)
  return shared
}

describe('native pool: worker threads', () => {
  it('two workers allocate concurrently while the owner decodes, frees and compacts', async () => {
    const n = 2048
    const shared = sharedPages('node-2k', n)
    const pages = new Uint8Array(shared)
    const pool = createNativePool({ checksum: 'none' })
    const rounds = 4
    const rows = [0, 1, 2].map(() => new SharedArrayBuffer(4 * n * rounds))
    const progress = new SharedArrayBuffer(16)
    const batch = 32
    const runs = [startWorker(pool, shared, 0, n / 2, { rounds, batch, rows, progress, slot: 0 }), startWorker(pool, shared, n / 2, n / 2, { rounds, batch, rows, progress, slot: 1 })]
    const { status, lo, hi } = runs[0]
    const done = new Int32Array(progress)
    const codec = new native.Codec('lz4', 1)
    const page = new Uint8Array(PAGE_SIZE)
    const batchesPerRound = n / 2 / batch
    const finished = Promise.all(runs.map((r) => exited(r.worker)))
    let freedBatches = [0, 0]
    let compactions = 0
    let checked = 0
    // The owner: for each batch a worker has finished, check its pages, free them, and now and then compact.
    const drain = () => {
      for (let w = 0; w < 2; w++) {
        const upTo = Atomics.load(done, w)
        for (; freedBatches[w] < upTo; freedBatches[w]++) {
          const b = freedBatches[w]
          const round = Math.floor(b / batchesPerRound)
          const firstPage = w * (n / 2) + (b % batchesPerRound) * batch
          const handles = new Uint32Array(batch)
          for (let k = 0; k < batch; k++) {
            const p = firstPage + k
            const row = round * n + p
            if (status[row] === PageStatus.SameFilled) continue
            expect(A.decompressFromPool(codec, pool, lo[row], hi[row], page, 0)).toBe(PAGE_SIZE)
            expectPage(page, pages, p)
            handles[k] = lo[row]
            checked++
          }
          A.freeMany(pool, handles, batch)
          if (b % 7 === 3) { pool.compact(); compactions++ }
        }
      }
    }
    let over = false
    finished.then(() => { over = true })
    while (!over) {
      drain()
      await new Promise((r) => setTimeout(r, 1))
    }
    drain()
    expect(freedBatches).toEqual([batchesPerRound * rounds, batchesPerRound * rounds])
    expect(compactions).toBeGreaterThan(0)
    expect(checked).toBeGreaterThan(n)
    const s = pool.stats()
    expect(s.objects).toBe(0)
    expect(s.pool_total_size).toBe(0)
    expect(s.invalid_frees).toBe(0)
    pool.close()
  })

  for (const how of ['terminate', 'process.exit'] as const) {
    it(`a worker ended by ${how} mid-run leaks nothing: freeing what its result rows name empties the pool`, async () => {
      const n = 2048
      const shared = sharedPages('py-2k', n)
      const pool = createNativePool()
      const livePoolsBefore = A.livePools()
      const rounds = 16
      const run = startWorker(pool, shared, 0, n, { rounds, batch: 16, exitAfter: how === 'process.exit' ? 37 : undefined })
      const gone = exited(run.worker)
      if (how === 'terminate') {
        // Wait until it is well into its work, then terminate it while it is still storing.
        while (Atomics.load(run.progress, 0) < 50) Atomics.wait(run.progress, 0, Atomics.load(run.progress, 0), 100)
        await run.worker.terminate()
      }
      await gone
      const batches = Atomics.load(run.progress, 0)
      expect(batches).toBeGreaterThanOrEqual(how === 'terminate' ? 50 : 37)
      expect(batches).toBeLessThan(rounds * n / 16) // it did not finish
      const objects = pool.stats().objects
      expect(objects).toBeGreaterThan(0)
      // Every object the worker allocated is named in its rows.
      expect(freeNamed(pool, run.status, run.lo)).toBe(objects)
      const s = pool.stats()
      expect(s.objects).toBe(0)
      expect(s.pool_total_size).toBe(0)
      expect(s.invalid_frees).toBe(0)
      // The worker's reference went with its thread: closing the owner's frees the pool.
      pool.close()
      expect(A.livePools()).toBe(livePoolsBefore - 1)
    })
  }

  it('a pool outlives its owner reference while a worker still holds it, and goes with the worker', async () => {
    const n = 1024
    const shared = sharedPages('node-2k', n)
    const owner = createNativePool()
    const id = owner.id
    const before = A.livePools()
    const run = startWorker(owner, shared, 0, n, { rounds: 8, batch: 16 })
    const gone = exited(run.worker)
    while (Atomics.load(run.progress, 0) < 4) Atomics.wait(run.progress, 0, Atomics.load(run.progress, 0), 100)
    owner.close() // the worker keeps storing into a pool only it references now
    expect(() => owner.stats()).toThrow(/closed/)
    expect(await gone).toBe(0)
    expect(Atomics.load(run.progress, 0)).toBe(8 * n / 16) // every batch ran
    // Its thread's reference went with it: the pool is gone.
    expect(A.livePools()).toBe(before - 1)
    expect(() => attachNativePool(id)).toThrow(/no pool/)
  })
})

describe('native pool: hostile arguments', () => {
  const pool = createNativePool()
  const codec = new native.Codec('lz4', 1)
  const page = new Uint8Array(PAGE_SIZE)
  const st = new Int32Array(4), lo = new Uint32Array(4), hi = new Uint32Array(4)
  const src = new Uint8Array(4 * PAGE_SIZE)
  const call = (over: Partial<Record<number, unknown>>) => {
    const args: unknown[] = [codec, pool, src, 0, 4, st, lo, hi, 0, null, 4095, FLAGS]
    for (const [k, v] of Object.entries(over)) args[Number(k)] = v
    return (A.compressBatchToPool as (...a: unknown[]) => number)(...args)
  }

  it('compressBatchToPool checks every argument', () => {
    expect(() => call({ 0: pool })).toThrow(TypeError)
    expect(() => call({ 0: {} })).toThrow(TypeError)
    expect(() => call({ 1: codec })).toThrow(TypeError)
    expect(() => call({ 1: 42 })).toThrow(TypeError)
    expect(() => call({ 2: [1, 2, 3] })).toThrow(TypeError)
    expect(() => call({ 2: new Uint8Array(3 * PAGE_SIZE) })).toThrow(RangeError)
    expect(() => call({ 3: 1 })).toThrow(RangeError)
    expect(() => call({ 3: -1 })).toThrow(RangeError)
    expect(() => call({ 3: 0.5 })).toThrow(RangeError)
    expect(() => call({ 4: '4' })).toThrow(TypeError)
    expect(() => call({ 5: new Uint32Array(4) })).toThrow(TypeError)
    expect(() => call({ 5: new Int32Array(3) })).toThrow(RangeError)
    expect(() => call({ 6: new Int32Array(4) })).toThrow(TypeError)
    expect(() => call({ 7: new Uint32Array(2) })).toThrow(RangeError)
    expect(() => call({ 8: 1 })).toThrow(RangeError)
    expect(() => call({ 9: new Uint32Array(1) })).toThrow(RangeError)
    expect(() => call({ 10: 4096 })).toThrow(RangeError)
    expect(() => call({ 10: 0 })).toThrow(RangeError)
    expect(() => call({ 11: 8 })).toThrow(RangeError)
    expect(() => (A.compressBatchToPool as (...a: unknown[]) => number)(codec, pool)).toThrow(TypeError)
    expect(pool.stats().objects).toBe(0) // nothing was allocated by a rejected call
    expect(call({})).toBe(0) // zero pages are same-filled: no objects
  })

  it('decoders, readers and freeMany check arguments and handles', () => {
    expect(A.decompressFromPool(codec, pool, 0, 100, page, 0)).toBe(PoolStatus.BadHandle)
    expect(A.decompressFromPool(codec, pool, 123456, 100, page, 0)).toBe(PoolStatus.BadHandle)
    expect(() => A.decompressFromPool(codec, pool, 1, 5000, page, 0)).toThrow(RangeError)
    expect(() => A.decompressFromPool(codec, pool, 1, 100, page, 1)).toThrow(RangeError)
    expect(() => A.decompressFromPool(codec, pool, 1, 100, new Uint8Array(100), 0)).toThrow(RangeError)
    expect(() => A.decompressFromPool(codec, pool, -1, 100, page, 0)).toThrow(RangeError)
    expect(() => A.decompressFromPool(pool as never, pool, 1, 100, page, 0)).toThrow(TypeError)
    const handles = new Uint32Array(2)
    const lengths = Uint32Array.of(100, 200)
    expect(A.storeObjects(pool, new Uint8Array(300), lengths, 2, handles)).toBe(2)
    expect(() => A.storeObjects(pool, new Uint8Array(299), lengths, 2, handles)).toThrow(RangeError)
    expect(() => A.storeObjects(pool, new Uint8Array(300), Uint32Array.of(0, 300), 2, handles)).toThrow(RangeError)
    expect(() => A.readObjects(pool, handles, lengths, 2, new Uint8Array(299))).toThrow(RangeError)
    expect(A.readObjects(pool, handles, Uint32Array.of(100, 201), 2, new Uint8Array(301))).toBe(PoolStatus.BadHandle)
    expect(() => A.readObjects(pool, handles, lengths, 3, new Uint8Array(1000))).toThrow(RangeError)
    expect(() => A.decompressManyFromPool(codec, pool, handles, lengths, 2, new Uint8Array(PAGE_SIZE), null, new Int32Array(2), null)).toThrow(RangeError)
    expect(() => A.decompressManyFromPool(codec, pool, handles, lengths, 2, new Uint8Array(2 * PAGE_SIZE), Uint32Array.of(0, 2), new Int32Array(2), null)).toThrow(RangeError)
    const dst = new Uint8Array(2 * PAGE_SIZE)
    const status = new Int32Array(2)
    // Stored bytes are zeros, not an lz4 stream: a decode failure, not a crash.
    expect(A.decompressManyFromPool(codec, pool, handles, lengths, 2, dst, null, status, null)).toBe(0)
    expect(status[0]).toBeLessThan(0)
    // Double free is detected and counted; the pool is not corrupted.
    expect(A.freeMany(pool, handles, 2)).toBe(2)
    expect(A.freeMany(pool, handles, 2)).toBe(0)
    expect(A.freeMany(pool, Uint32Array.of(0xffffffff, 77777), 2)).toBe(0)
    expect(pool.stats().invalid_frees).toBe(4)
    expect(pool.stats().objects).toBe(0)
    expect(() => A.freeMany(pool, handles, 3)).toThrow(RangeError)
    expect(() => A.freeMany(pool, [1, 2] as never, 2)).toThrow(TypeError)
    expect(() => pool.allocMany(Uint32Array.of(4097), 1, new Uint32Array(1))).toThrow(RangeError)
  })

  it('options and ids are validated; a closed pool throws', () => {
    expect(() => createNativePool({ classStep: 12 as never })).toThrow(/classStep/)
    expect(() => createNativePool({ maxBytes: 100 })).toThrow(/maxBytes/)
    expect(() => createNativePool({ maxBytes: 8192 })).toThrow(/one slab/) // less than a 16-page slab
    expect(() => createNativePool({ maxSlabPages: 33 })).toThrow(/maxSlabPages/)
    expect(() => createNativePool({ checksum: 'md5' as never })).toThrow(/checksum/)
    expect(() => createNativePool({ bogus: 1 } as never)).toThrow(/unknown option/)
    expect(() => attachNativePool(0)).toThrow(/pool id/)
    expect(() => new (A.NativePool)('x' as never)).toThrow(TypeError)
    expect(() => new (A.NativePool)({ classStep: 'x' })).toThrow(TypeError)
    const p = createNativePool()
    p.close()
    p.close()
    expect(() => p.stats()).toThrow(/closed/)
    expect(() => A.freeMany(p, new Uint32Array(1), 1)).toThrow(/closed/)
    expect(() => call({ 1: p })).toThrow(/closed/)
  })
})
