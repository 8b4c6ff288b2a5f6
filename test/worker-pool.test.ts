/**
 * The worker-pool backend: same results as the synchronous path, all-or-nothing
 * when a worker dies mid-task, bounded memory in flight, and loadMany ordering.
 */
import { afterEach, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { PageStore, PAGE_SIZE, StoreRejectedError, LOAD_MANY_INLINE_PAGES_SLOW, type WorkerPoolBackend } from 'zstash/internals'
import { makeFolio, makePage, type PageKind } from './helpers/pages.js'
import { openFaultyStore } from './helpers/faulty-backend.js'
import { readCorpusPages } from './helpers/corpus.js'

const stores: PageStore[] = []
async function openStore(options: Parameters<typeof PageStore.open>[0] = {}) {
  const s = await PageStore.open({ workers: 2, ...options })
  stores.push(s)
  return s
}
afterEach(async () => {
  while (stores.length) await stores.pop()!.close()
})

describe('worker pool', () => {
  it('stores concurrent folios of every size and loads them back exactly', async () => {
    const store = await openStore({ compressor: 'zstd' })
    const kinds: PageKind[] = ['text', 'zero', 'usemem', 'random', 'fill']
    const sizes = [1, 16, 512, 3, 128, 16, 1, 200]
    const folios: [number, Uint8Array][] = []
    let key = 0
    for (const [i, n] of sizes.entries()) {
      folios.push([key, makeFolio(Array.from({ length: n }, (_, j) => kinds[(i + j) % kinds.length]), key)])
      key += n
    }
    await Promise.all(folios.map(([k, f]) => store.storeFolio(k, f)))
    for (const [k, f] of folios) {
      for (let i = 0; i < f.length / PAGE_SIZE; i++) {
        expect(Buffer.compare(store.loadSync(k + i)!, f.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE))).toBe(0)
      }
    }
    const c = store.stats().backend.counters
    expect(c.workers).toBe(2)
    expect(c.pages_compressed).toBe(key)
    expect(c.tasks).toBeGreaterThan(0)
    expect(c.tasks).toBeLessThan(key / 8) // coalesced: never a task per page
    expect(c.worker0_busy_ms + c.worker1_busy_ms).toBeGreaterThan(0)
  })

  it('takes folios in shared memory without reading them after the call (another thread may write them)', async () => {
    const store = await openStore()
    const shared = new Uint8Array(new SharedArrayBuffer(40 * PAGE_SIZE))
    shared.set(makeFolio(Array(40).fill('text'), 5))
    const expected = shared.slice(8 * PAGE_SIZE, 40 * PAGE_SIZE)
    const storing = store.storeFolio(100, shared.subarray(8 * PAGE_SIZE, 40 * PAGE_SIZE))
    shared.fill(0x5a) // as a writer on another thread would, the moment storeFolio returned
    await storing
    for (let i = 0; i < 32; i++) {
      expect(Buffer.compare(store.loadSync(100 + i)!, expected.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE))).toBe(0)
    }
  })

  it('rejects the folio when its worker dies mid-task, leaves no entry, leaks nothing, and keeps working', async () => {
    const { store, faults } = await openFaultyStore({ workers: 2, compressor: 'zstd', level: 19 })
    stores.push(store)
    await store.storeFolio(0, makeFolio(Array(16).fill('text'), 1))
    // zstd at level 19 makes the task long enough (~100 ms) for the thread to end mid-task.
    const pool = faults.inner as WorkerPoolBackend
    const ended = new Set(pool.threads)
    faults.next = { crashWorkers: true }
    const err = await store.storeFolio(0, makeFolio(Array(256).fill('text'), 2)).catch((e) => e)
    expect(err).toBeInstanceOf(StoreRejectedError)
    expect(err.code).toBe('ERR_ZSTASH_WORKER_FAIL')
    expect(store.size).toBe(0) // the old entries for 0..15 are gone too
    const s = store.stats()
    expect(s.reject_backend_fail).toBe(1)
    expect(s.backend.counters.worker_failures).toBeGreaterThanOrEqual(1)
    expect(s.pool.objects).toBe(0)
    expect(s.pool.pool_total_size).toBe(0)
    expect(s.pool.invalid_frees).toBe(0)
    expect(s.stores_in_flight).toBe(0)
    expect(s.reserved_bytes).toBe(0)
    // piscina replaces the workers: once it has (the folio's own worker died first; the other
    // may still be ending and would fail a task posted to it), the pool stores and loads again.
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline && !(pool.threads.length === 2 && pool.threads.every((t) => !ended.has(t)))) await new Promise((r) => setTimeout(r, 5))
    const folio = makeFolio(Array(64).fill('text'), 3)
    await store.storeFolio(0, folio)
    expect(Buffer.compare(store.loadSync(63)!, folio.subarray(63 * PAGE_SIZE))).toBe(0)
  })

  it('a worker killed after it allocated in the pool leaks nothing: the owner frees what the result ring names', async () => {
    const { store, faults } = await openFaultyStore({ workers: 2, compressor: 'zstd', level: 19 })
    stores.push(store)
    await store.storeFolio(0, makeFolio(Array(8).fill('text'), 1))
    const before = store.stats().pool
    // 512 pages at zstd-19 take the workers ~1 s; end them once they hold objects of this folio.
    const storing = store.storeFolio(1000, makeFolio(Array(512).fill('text'), 2)).catch((e) => e)
    const deadline = Date.now() + 20_000
    while (store.stats().pool.objects <= before.objects + 8 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2))
    const inFlight = store.stats().pool.objects - before.objects
    expect(inFlight).toBeGreaterThan(8)
    await Promise.all((faults.inner as WorkerPoolBackend).threads.map((t) => t.terminate()))
    const err = await storing
    expect(err).toBeInstanceOf(StoreRejectedError)
    const s = store.stats()
    // Everything the dead workers allocated was freed by the owner; the first folio is intact.
    expect(s.backend.counters.objects_freed_on_failure).toBeGreaterThanOrEqual(inFlight)
    expect(s.pool.objects).toBe(before.objects)
    expect(s.pool.object_bytes).toBe(before.object_bytes)
    expect(s.pool.pool_total_size).toBe(before.pool_total_size)
    expect(s.pool.invalid_frees).toBe(0)
    expect(s.reserved_bytes).toBe(0)
    expect(store.size).toBe(8)
  }, 60_000)

  it('frees and compaction while a batched load reads on the workers: the readers get every byte (deferred frees, move lock)', async () => {
    const store = await openStore({ compressor: 'lz4' })
    const corpus = readCorpusPages('node-2k', 2048)
    const N = 8192
    const page = (k: number) => corpus.subarray((k % 2048) * PAGE_SIZE, (k % 2048 + 1) * PAGE_SIZE)
    // Four copies of the corpus: a batch long enough that the workers are still decoding below.
    for (let k = 0; k < N; k += 2048) await store.storeFolio(k, corpus.subarray(0, 512 * PAGE_SIZE)).then(() => Promise.all(
      [512, 1024, 1536].map((at) => store.storeFolio(k + at, corpus.subarray(at * PAGE_SIZE, (at + 512) * PAGE_SIZE)))))
    // Every other page gone: half-empty slabs for compaction to drain.
    for (let k = 1; k < N; k += 2) store.invalidate(k)
    const keys = Uint32Array.from({ length: N / 2 }, (_, i) => i * 2)
    const before = store.stats().pool
    const loading = store.loadMany(keys)
    // The workers are decoding now (the calling thread has done its share). Frees of objects
    // they read must wait for the batch; compaction waits for their native calls and keeps handles.
    for (let i = keys.length - 1024; i < keys.length; i++) store.invalidate(keys[i])
    const released = store.compact()
    const r = await loading
    expect(r.count).toBe(N / 2)
    for (let i = 0; i < keys.length; i++) expect(Buffer.compare(r.pages.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE), page(keys[i]))).toBe(0)
    const s = store.stats()
    expect(released).toBeGreaterThan(0)
    expect(s.pool.objects_moved).toBeGreaterThan(before.objects_moved)
    expect(s.pool.objects).toBe(N / 2 - 1024 - s.same_filled_pages)
    expect(s.pool.invalid_frees).toBe(0)
    for (const k of [keys[0], keys[keys.length - 1025]]) expect(Buffer.compare(store.loadSync(k)!, page(k))).toBe(0)
    expect(store.compact()).toBeGreaterThanOrEqual(0) // the deferred frees left sparse slabs
    expect(s.overhead_bytes_per_page).toBeGreaterThan(0)
  })

  it('never waits for staging space: a burst of unawaited stores grows the staging ring, then overflows it, and every page lands', async () => {
    const store = await openStore({ compressor: 'zstd' })
    const folio = makeFolio(Array(64).fill('usemem'), 0)
    const pending: Promise<void>[] = []
    for (let i = 0; i < 300; i++) pending.push(store.storeFolio(i * 64, folio))
    expect(store.stats().stores_in_flight).toBe(300)
    await Promise.all(pending)
    const c = store.stats().backend.counters
    expect(c.staging_growths).toBeGreaterThan(0) // 4096 pages at first, up to 16384
    expect(c.staging_overflow_folios).toBeGreaterThan(0) // 19200 pages issued
    expect(c.staging_pages_in_use).toBe(0)
    expect(store.size).toBe(19200)
    for (const k of [0, 6399, 19199]) expect(Buffer.compare(store.loadSync(k)!, folio.subarray((k % 64) * PAGE_SIZE, (k % 64 + 1) * PAGE_SIZE))).toBe(0)
  })

  it('loadMany decompresses in the pool, largest objects first, and reports absent keys', async () => {
    // zstd: batched from LOAD_MANY_INLINE_PAGES_SLOW compressed pages (lz4 from 1024, more than a folio).
    const store = await openStore({ compressor: 'zstd' })
    const n = LOAD_MANY_INLINE_PAGES_SLOW * 2
    const kinds: PageKind[] = Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 'zero' : i % 5 === 0 ? 'random' : 'text'))
    const folio = makeFolio(kinds, 11)
    await store.storeFolio(0, folio)
    const keys = [...Array.from({ length: n }, (_, i) => i), 9999]
    const r = await store.loadMany(keys)
    expect(r.count).toBe(n)
    expect(r.present[n]).toBe(0)
    for (let i = 0; i < n; i++) expect(Buffer.compare(r.pages.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE), folio.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE))).toBe(0)
    // Submission order: largest first by 256-byte length band (key order within a band).
    const order = store.lastLoadManyOrder
    expect(order.length).toBeGreaterThanOrEqual(LOAD_MANY_INLINE_PAGES_SLOW)
    const internals = store as unknown as { entries: { find(k: number): number; hi: number } }
    const lengths = order.map((i) => { internals.entries.find(keys[i]); return internals.entries.hi })
    const band = (len: number) => (PAGE_SIZE - len) >>> 8
    for (let i = 1; i < lengths.length; i++) {
      expect(band(lengths[i])).toBeGreaterThanOrEqual(band(lengths[i - 1]))
      if (band(lengths[i]) === band(lengths[i - 1])) expect(order[i]).toBeGreaterThan(order[i - 1])
    }
    expect(new Set(Array.from(lengths, band)).size).toBeGreaterThan(1) // the order was tested, not trivially true
    expect(store.stats().backend.counters.decompress_tasks).toBeGreaterThan(0)
    // Into shared memory at an offset: the workers write in place, at the right place.
    const shared = new Uint8Array(new SharedArrayBuffer((n + 2) * PAGE_SIZE))
    const into = shared.subarray(PAGE_SIZE, (n + 1) * PAGE_SIZE)
    const again = await store.loadMany(keys.slice(0, n), { into })
    expect(again.pages).toBe(into)
    expect(Buffer.compare(into, folio)).toBe(0)
    expect(shared.subarray(0, PAGE_SIZE).every((b) => b === 0)).toBe(true)
  })

  it('exclusive loadMany frees what it read and nothing stored meanwhile', async () => {
    const store = await openStore({ compressor: 'zstd' })
    const n = LOAD_MANY_INLINE_PAGES_SLOW * 2
    await store.storeFolio(0, makeFolio(Array(n).fill('text'), 1))
    const into = new Uint8Array(n * PAGE_SIZE)
    const loading = store.loadMany(Array.from({ length: n }, (_, i) => i), { exclusive: true, into })
    // Overwrite key 3 while the pool is reading: its new page must survive.
    const fresh = makeFolio(['usemem'], 77)
    const storing = store.storeFolio(3, fresh)
    const r = await loading
    await storing
    expect(r.pages).toBe(into)
    expect(store.size).toBe(1)
    expect(Buffer.compare(store.loadSync(3)!, fresh)).toBe(0)
  })

  it('agrees with a reference Map under random concurrent stores and loads', async () => {
    const op = fc.record({
      key: fc.nat(200),
      kinds: fc.array(fc.constantFrom<PageKind>('text', 'zero', 'random', 'usemem'), { minLength: 1, maxLength: 40 }),
      seed: fc.nat(1000),
      fail: fc.oneof({ weight: 5, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.nat(39) }),
    })
    await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
      const { store, faults } = await openFaultyStore({ workers: 2, maxBatch: 4 })
      stores.push(store)
      const model = new Map<number, Uint8Array>()
      // Stores of one round run concurrently; rounds apply in order, like reclaim waves.
      const fails = new Map<number, number>()
      const seen = new Set<number>()
      const round = ops.filter((o) => !seen.has(o.key) && (seen.add(o.key), true))
      const folios = round.map((o) => makeFolio(o.kinds, o.seed))
      round.forEach((o) => { if (o.fail >= 0 && o.fail < o.kinds.length) fails.set(o.key, o.fail) })
      const results = await Promise.all(round.map((o, i) => {
        faults.next = { failPage: fails.get(o.key) ?? -1 }
        return store.storeFolio(o.key, folios[i]).then(() => true, () => false)
      }))
      // Apply in completion-independent order: overlapping folios are ordered by their publish, so only check non-overlapping keys.
      const owners = new Map<number, number>()
      round.forEach((o, i) => { for (let j = 0; j < o.kinds.length; j++) owners.set(o.key + j, (owners.get(o.key + j) ?? 0) + 1) })
      round.forEach((o, i) => {
        for (let j = 0; j < o.kinds.length; j++) {
          if (owners.get(o.key + j) !== 1) continue
          if (results[i]) model.set(o.key + j, folios[i].subarray(j * PAGE_SIZE, (j + 1) * PAGE_SIZE))
          else expect(store.has(o.key + j)).toBe(false)
        }
      })
      for (const [k, page] of model) expect(Buffer.compare(store.loadSync(k)!, page)).toBe(0)
      await stores.pop()!.close()
    }), { numRuns: 40 })
  })

  it('matches the synchronous path byte for byte on a corpus slice', async () => {
    const pages = readCorpusPages('py-2k', 1024)
    const pooled = await openStore({ compressor: 'lz4' })
    const sync = await openStore({ compressor: 'lz4', workers: 0 })
    await Promise.all([0, 256, 512, 768].map((k) => pooled.storeFolio(k, pages.subarray(k * PAGE_SIZE, (k + 256) * PAGE_SIZE))))
    for (const k of [0, 256, 512, 768]) await sync.storeFolio(k, pages.subarray(k * PAGE_SIZE, (k + 256) * PAGE_SIZE))
    const a = pooled.stats()
    const b = sync.stats()
    expect(a.compressed_bytes).toBe(b.compressed_bytes)
    expect(a.stored_incompressible_pages).toBe(b.stored_incompressible_pages)
    const r = await pooled.loadMany(Array.from({ length: 1024 }, (_, i) => i))
    expect(Buffer.compare(r.pages, pages)).toBe(0)
  })
})
