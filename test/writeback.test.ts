/**
 * Writeback to the tier below the pool (docs/writeback.md): a full pool
 * writes its coldest entries back and keeps accepting; loads read them back
 * exactly; every race between a writeback or a tier read in flight and a
 * later store, invalidate or load ends with the last issued call's value;
 * a failed writeback loses nothing; the controls (writeback off, the limit,
 * second chance, the shrinker) do what they say.
 */
import { describe, expect, it } from 'vitest'
import {
  PageStore, PAGE_SIZE, StoreRejectedError, WouldBlockError, BackingStoreError, InvalidArgumentError,
} from 'zstash/internals'
import { readCorpusPages } from './helpers/corpus.js'
import { storesClosedAfterEach } from './helpers/open-stores.js'
import { openFaultyTieredStore, type Schedule } from './helpers/faulty-backend.js'

const { stores, open } = storesClosedAfterEach()

const pages = readCorpusPages('node-2k', 1024)
const page = (k: number) => pages.subarray((k % 1024) * PAGE_SIZE, ((k % 1024) + 1) * PAGE_SIZE)
const sameFilled = (p: Uint8Array) => { const w = new BigUint64Array(p.buffer, p.byteOffset, 512); return w.every((x) => x === w[0]) }
// The ordering tests count objects: check the first pages they use hold objects (none is same-filled).
for (const k of [1, 2, 4, 5]) if (sameFilled(page(k))) throw new Error(`fixture page ${k} is same-filled; pick others`)

/** A schedule the test releases by hand: completions wait until release() is called. */
function manualSchedule(): { schedule: Schedule; pending: () => number; waiting: (label: string) => boolean; release: (label?: string) => Promise<void> } {
  const queue: { label: string; go: () => void }[] = []
  const schedule: Schedule = (label, work) => new Promise((resolve, reject) => {
    queue.push({ label, go: () => { Promise.resolve().then(work).then(resolve, reject) } })
  })
  return {
    schedule,
    pending: () => queue.length,
    waiting: (label) => queue.some((q) => q.label === label),
    release: async (label) => {
      // A completion may be scheduled a while after the call that causes it: writeback is serialized,
      // and the file tier's real I/O runs on libuv's threads. Bounded by wall time, not by turns.
      let i = -1
      const deadline = Date.now() + 10_000
      while (i < 0 && Date.now() < deadline) {
        i = label ? queue.findIndex((q) => q.label === label) : queue.length > 0 ? 0 : -1
        if (i < 0) await new Promise((r) => setTimeout(r, 1))
      }
      if (i < 0) throw new Error(`nothing scheduled as ${label} (pending: ${queue.map((q) => q.label).join(', ')})`)
      queue.splice(i, 1)[0].go()
      for (let k = 0; k < 20; k++) await new Promise((r) => setImmediate(r))
    },
  }
}

describe('writeback to a file tier', () => {
  it('keeps accepting stores past the pool limit and reads every page back exactly', async () => {
    const store = await open({ compressor: 'lz4', workers: 0, maxPoolBytes: 256 * PAGE_SIZE, backing: { type: 'file' } })
    for (let k = 0; k < 1024; k += 16) await store.storeFolio(k, pages.subarray(k * PAGE_SIZE, (k + 16) * PAGE_SIZE))
    const s = store.stats()
    expect(s.stored_pages).toBe(1024)
    expect(s.written_back_pages).toBeGreaterThan(0)
    expect(s.tier_pages).toBe(s.backing!.objects)
    expect(s.pool_total_size).toBeLessThanOrEqual(256 * PAGE_SIZE + 16 * PAGE_SIZE)
    expect(s.reject_reclaim_fail).toBe(0)
    // A synchronous load of a written-back page cannot wait for I/O: a typed error, nothing changed.
    let tierKey = -1
    for (let k = 0; k < 1024 && tierKey < 0; k++) {
      try { store.loadSync(k) } catch (err) { expect(err).toBeInstanceOf(WouldBlockError); tierKey = k }
    }
    expect(tierKey).toBeGreaterThanOrEqual(0)
    expect(store.has(tierKey)).toBe(true)
    const r = await store.loadMany(Array.from({ length: 1024 }, (_, i) => i))
    expect(r.count).toBe(1024)
    expect(Buffer.compare(r.pages, pages)).toBe(0)
    expect(store.stats().pswpin).toBeGreaterThan(0)
    // Exclusive loads empty both tiers.
    await store.loadMany(Array.from({ length: 1024 }, (_, i) => i), { exclusive: true })
    const end = store.stats()
    expect(end.stored_pages).toBe(0)
    expect(end.tier_pages).toBe(0)
    expect(end.backing!.objects).toBe(0)
  })

  it('with writeback off, a full pool rejects quickly and never waits', async () => {
    const store = await open({ compressor: 'lz4', workers: 0, maxPoolBytes: 64 * PAGE_SIZE, backing: { type: 'file' }, writeback: false })
    const results = await Promise.all(Array.from({ length: 32 }, (_, f) => store.storeFolio(f * 16, pages.subarray(0, 16 * PAGE_SIZE)).then(() => 'ok', (e) => e)))
    const rejected = results.filter((r) => r instanceof StoreRejectedError)
    expect(rejected.length).toBeGreaterThan(0)
    for (const r of rejected) expect((r as StoreRejectedError).code).toBe('ERR_ZSTASH_POOL_LIMIT')
    expect(store.stats().written_back_pages).toBe(0)
  })

  it('the writeback limit stops writeback; then a full pool rejects with reclaim_fail', async () => {
    const store = await open({
      compressor: 'lz4', workers: 0, maxPoolBytes: 256 * PAGE_SIZE, backing: { type: 'file' },
      writebackLimit: { pages: 32, periodMs: 60_000 }, writebackBatch: 8,
    })
    let reclaimFail = 0
    for (let f = 0; f < 64; f++) {
      await store.storeFolio(f * 16, pages.subarray(f * 16 * PAGE_SIZE, (f + 1) * 16 * PAGE_SIZE)).catch((e) => {
        expect(e.code).toBe('ERR_ZSTASH_RECLAIM_FAIL')
        reclaimFail++
      })
    }
    const s = store.stats()
    expect(s.written_back_pages).toBeLessThanOrEqual(32)
    expect(reclaimFail).toBeGreaterThan(0)
    expect(s.reject_reclaim_fail).toBe(reclaimFail)
  })

  it('a failed writeback leaves every entry in the pool and the store is rejected, not lost', async () => {
    const { store, backing } = await openFaultyTieredStore({ compressor: 'lz4', workers: 0, maxPoolBytes: 256 * PAGE_SIZE, backing: { type: 'file' } })
    stores.push(store)
    for (let k = 0; k < 32; k += 16) await store.storeFolio(k, pages.subarray(k * PAGE_SIZE, (k + 16) * PAGE_SIZE))
    backing.putFailRate = 1
    let rejected = 0
    for (let k = 32; k < 1024; k += 16) {
      await store.storeFolio(k, pages.subarray(k * PAGE_SIZE, (k + 16) * PAGE_SIZE)).catch((e) => {
        expect(e).toBeInstanceOf(StoreRejectedError)
        rejected++
      })
    }
    expect(rejected).toBeGreaterThan(0)
    const s = store.stats()
    expect(s.writeback_fail).toBeGreaterThan(0)
    expect(s.tier_pages).toBe(0)
    backing.putFailRate = 0
    // Everything the store acknowledged is still there and exact.
    for (let k = 0; k < 1024; k++) {
      const got = await store.load(k)
      if (got) expect(Buffer.compare(got, page(k))).toBe(0)
    }
    for (let k = 0; k < 32; k++) expect(store.has(k)).toBe(true)
  })

  it('a tier read failure is a typed BackingStoreError; an exclusive load then gives its entry back', async () => {
    const { store, backing } = await openFaultyTieredStore({ compressor: 'lz4', workers: 0, backing: { type: 'file' } })
    stores.push(store)
    await store.storeFolio(0, pages.subarray(0, 16 * PAGE_SIZE))
    expect(await store.shrink({ targetBytes: 0 })).toBe(store.stats().tier_pages)
    expect(store.stats().pool.objects).toBe(0)
    backing.getFailRate = 1
    await expect(store.load(3, { exclusive: true })).rejects.toMatchObject({ code: 'ERR_ZSTASH_BACKING_STORE', reason: 'unavailable' })
    await expect(store.loadMany([1, 2, 3])).rejects.toBeInstanceOf(BackingStoreError)
    expect(store.stats().backing_load_fail).toBeGreaterThanOrEqual(4)
    expect(store.has(3)).toBe(true)
    backing.getFailRate = 0
    expect(Buffer.compare((await store.load(3, { exclusive: true }))!, page(3))).toBe(0)
    expect(store.has(3)).toBe(false)
  })
})

describe('ordering across the tiers: the last issued call wins', () => {
  it('a store or invalidate issued while a writeback is in flight wins; the stale tier copy is freed', async () => {
    const m = manualSchedule()
    const { store } = await openFaultyTieredStore({ compressor: 'lz4', workers: 0, backing: { type: 'file' }, writebackBatch: 16 }, m.schedule)
    stores.push(store)
    const storing = store.storeFolio(0, pages.subarray(0, 16 * PAGE_SIZE))
    await m.release('compress 16')
    await storing
    const objects = store.stats().pool.objects
    const shrinking = store.shrink({ targetBytes: 0 })
    for (const deadline = Date.now() + 10_000; m.pending() === 0 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 1))
    // The batch's putMany is in flight: overwrite key 2, invalidate key 5.
    const fresh = page(500)
    const overwrite = store.storeFolio(2, fresh)
    await m.release('compress 1')
    await overwrite
    expect(store.invalidate(5)).toBe(true)
    await m.release('putMany')
    // Keys 2 and 5 were in that batch, and neither may take its old page to the tier. The shrink
    // goes on (target 0) and writes the new page of key 2 in a batch of its own.
    let done = false
    const written = shrinking.then((n) => { done = true; return n })
    for (const deadline = Date.now() + 10_000; !done && Date.now() < deadline;) {
      if (m.waiting('putMany')) await m.release('putMany')
      else await new Promise((r) => setTimeout(r, 1))
    }
    expect(await written).toBe(objects - 1)
    const s = store.stats()
    expect(s.tier_pages).toBe(objects - 1)
    expect(s.backing!.objects).toBe(objects - 1)
    const loading = store.load(2)
    await m.release('getMany')
    expect(Buffer.compare((await loading)!, fresh)).toBe(0)
    expect(store.has(5)).toBe(false)
  })

  it('a store issued while a tier read is in flight wins over the page the read brings back', async () => {
    const m = manualSchedule()
    const { store } = await openFaultyTieredStore({ compressor: 'lz4', workers: 0, backing: { type: 'file' } }, m.schedule)
    stores.push(store)
    const storing = store.storeFolio(0, pages.subarray(0, 4 * PAGE_SIZE))
    await m.release('compress 4')
    await storing
    const objects = store.stats().pool.objects
    const shrinking = store.shrink({ targetBytes: 0 })
    await m.release('putMany')
    expect(await shrinking).toBe(objects)
    expect(store.stats().tier_pages).toBe(objects)
    const reading = store.load(1) // non-exclusive: would bring the page back into the pool
    const fresh = page(700)
    const overwrite = store.storeFolio(1, fresh)
    await m.release('compress 1')
    await overwrite
    await m.release('getMany')
    expect(Buffer.compare((await reading)!, page(1))).toBe(0) // the value when load was called
    expect(Buffer.compare(store.loadSync(1)!, fresh)).toBe(0) // the value of the last call
    const s = store.stats()
    expect(s.tier_pages).toBe(objects - 1)
    expect(s.pool.objects).toBe(1)
  })

  it('a non-exclusive read brings a written-back page back into the pool when there is room', async () => {
    const store = await open({ compressor: 'lz4', workers: 0, backing: { type: 'file' } })
    await store.storeFolio(0, pages.subarray(0, 8 * PAGE_SIZE))
    await store.shrink({ targetBytes: 0 })
    expect(store.stats().pool.objects).toBe(0)
    expect(Buffer.compare((await store.load(4))!, page(4))).toBe(0)
    const s = store.stats()
    expect(s.tier_pages).toBe(7 - [0, 1, 2, 3, 4, 5, 6, 7].filter((k) => sameFilled(page(k))).length)
    expect(s.backing!.objects).toBe(s.tier_pages)
    expect(Buffer.compare(store.loadSync(4)!, page(4))).toBe(0)
  })
})

describe('second chance and the shrinker', () => {
  it('second chance keeps recently loaded pages in the pool; without it the hand takes them in key order', async () => {
    const counts: number[] = []
    for (const secondChance of [true, false]) {
      const store = await open({ compressor: 'lz4', workers: 0, backing: { type: 'file' }, secondChance, writebackBatch: 64 })
      await store.storeFolio(0, pages.subarray(0, 256 * PAGE_SIZE))
      await store.shrink({ targetBytes: 0, maxPages: 0 }) // nothing: maxPages 0
      // Age everything once, then use the first 64 pages.
      await store.shrink({ idle: true, maxPages: 0 })
      for (let k = 0; k < 64; k++) store.loadSync(k)
      await store.shrink({ maxPages: 64, targetBytes: 0 })
      let hotInPool = 0
      for (let k = 0; k < 64; k++) {
        try { store.loadSync(k); hotInPool++ } catch (err) { expect(err).toBeInstanceOf(WouldBlockError) }
      }
      counts.push(hotInPool)
    }
    let sameFilledHot = 0
    for (let k = 0; k < 64; k++) if (sameFilled(page(k))) sameFilledHot++
    expect(counts[0]).toBe(64)
    expect(counts[1]).toBe(sameFilledHot) // same-filled pages have no object to write back
  })

  it('shrink({ idle }) writes back what was not used since the previous round; the timer does it by itself', async () => {
    const store = await open({ compressor: 'lz4', workers: 0, backing: { type: 'file' } })
    await store.storeFolio(0, pages.subarray(0, 32 * PAGE_SIZE))
    expect(await store.shrink({ idle: true })).toBe(0) // every entry was just stored: referenced
    for (let k = 0; k < 8; k++) store.loadSync(k)
    let idleObjects = 0
    for (let k = 8; k < 32; k++) if (!sameFilled(page(k))) idleObjects++
    expect(await store.shrink({ idle: true })).toBe(idleObjects)
    const timed = await open({ compressor: 'lz4', workers: 0, backing: { type: 'file' }, shrinker: { intervalMs: 20 } })
    await timed.storeFolio(0, pages.subarray(0, 16 * PAGE_SIZE))
    const deadline = Date.now() + 5000
    while (timed.stats().pool.objects > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    expect(timed.stats().pool.objects).toBe(0)
    expect(timed.stats().tier_pages).toBeGreaterThan(0)
  })

  it('rejects writeback options without a backing store, and unknown ones', async () => {
    await expect(PageStore.open({ writeback: true })).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(PageStore.open({ shrinker: { intervalMs: 100 } })).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(PageStore.open({ backing: { type: 'file' }, writebackLimit: { pages: 1, periodMs: 10, burst: 1 } as never })).rejects.toMatchObject({ code: 'ERR_ZSTASH_UNKNOWN_OPTION' })
    await expect(PageStore.open({ backing: { type: 'disk' } as never })).rejects.toBeInstanceOf(InvalidArgumentError)
    const store = await open({ workers: 0 })
    await expect(store.shrink()).rejects.toBeInstanceOf(InvalidArgumentError)
  })
})

