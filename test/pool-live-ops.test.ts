/**
 * The live operations (writeback, tier reads, setCompressor, dictionaries,
 * recompress) on the native pool while worker threads allocate in it: the
 * other test files run most of them with workers: 0. Every page reads back
 * exactly, and when the keys are gone the pool holds no object.
 */
import { describe, expect, it } from 'vitest'
import { PageStore, PAGE_SIZE, StoreRejectedError } from 'zstash/internals'
import { readCorpusPages } from './helpers/corpus.js'
import { storesClosedAfterEach } from './helpers/open-stores.js'
import { openFaultyTieredStore } from './helpers/faulty-backend.js'

const { stores, open } = storesClosedAfterEach()

const node = readCorpusPages('node-2k', 2048)
const folio = (k: number, n: number) => node.subarray(k * PAGE_SIZE, (k + n) * PAGE_SIZE)
const keys = (first: number, n: number) => Array.from({ length: n }, (_, i) => first + i)

/** No pool object is left once every key is gone (nothing leaked, nothing freed twice). */
function expectEmptyPool(store: PageStore): void {
  const s = store.stats()
  expect(s.stored_pages).toBe(0)
  expect(s.pool.objects).toBe(0)
  expect(s.pool.invalid_frees).toBe(0)
  expect(s.tier_pages).toBe(0)
  expect(s.reserved_bytes).toBe(0)
}

describe('writeback on the native pool with workers allocating', () => {
  it('stores past the limit, reads pool and tier pages back in one loadMany, and leaks nothing', async () => {
    const store = await open({ compressor: 'zstd', level: 1, workers: 2, maxPoolBytes: 192 * PAGE_SIZE, backing: { type: 'file' }, writebackBatch: 64 })
    for (let k = 0; k < 2048; k += 64) await store.storeFolio(k, folio(k, 64))
    let s = store.stats()
    expect(s.stored_pages).toBe(2048)
    expect(s.tier_pages).toBeGreaterThan(0)
    expect(s.pool.objects + s.tier_pages + s.same_filled_pages).toBe(2048)
    expect(s.pool_total_size).toBeLessThanOrEqual(192 * PAGE_SIZE + 16 * 1024 * 1024)
    // One call: pool objects decoded by the workers (zstd batches from 256 pages), tier pages read and decoded here.
    const all = await store.loadMany(keys(0, 2048))
    expect(all.count).toBe(2048)
    expect(Buffer.compare(all.pages, node)).toBe(0)
    s = store.stats()
    expect(s.pswpin).toBeGreaterThan(0)
    expect(s.decompress_fail + s.backing_load_fail).toBe(0)
    // Exclusive loads take tier and pool entries alike.
    const half = await store.loadMany(keys(0, 1024), { exclusive: true })
    expect(Buffer.compare(half.pages, node.subarray(0, 1024 * PAGE_SIZE))).toBe(0)
    expect(store.size).toBe(1024)
    for (let k = 1024; k < 2048; k++) expect(Buffer.compare((await store.load(k))!, folio(k, 1)), `key ${k}`).toBe(0)
    for (let k = 1024; k < 2048; k++) store.invalidate(k)
    expectEmptyPool(store)
  })

  it('a worker that dies while the store waits for writeback leaves no object and no entry behind', async () => {
    const { store, faults } = await openFaultyTieredStore({ compressor: 'zstd', level: 19, workers: 2, maxPoolBytes: 128 * PAGE_SIZE, backing: { type: 'file' } })
    stores.push(store)
    for (let k = 0; k < 512; k += 64) await store.storeFolio(k, folio(k, 64))
    expect(store.stats().tier_pages).toBeGreaterThan(0)
    faults.next = { crashWorkers: true }
    const err = await store.storeFolio(512, folio(512, 256)).catch((e) => e)
    expect(err).toBeInstanceOf(StoreRejectedError)
    for (let k = 512; k < 768; k++) expect(store.has(k)).toBe(false)
    const s = store.stats()
    expect(s.stores_in_flight).toBe(0)
    expect(s.pool.objects + s.tier_pages + s.same_filled_pages).toBe(512)
    const back = await store.loadMany(keys(0, 512))
    expect(Buffer.compare(back.pages, node.subarray(0, 512 * PAGE_SIZE))).toBe(0)
    for (let k = 0; k < 512; k++) store.invalidate(k)
    expectEmptyPool(store)
  })
})

describe('setCompressor and recompress on the native pool with workers allocating', () => {
  it('a dictionary pool, a recompressed half and a switch back: every page exact, then an empty pool', async () => {
    const store = await open({ compressor: 'lz4', workers: 2 })
    for (let k = 0; k < 1024; k += 64) await store.storeFolio(k, folio(k, 64))
    await store.setCompressor('zstd', { level: 3, dictionary: true })
    for (let k = 1024; k < 2048; k += 64) await store.storeFolio(k, folio(k, 64))
    const r = await store.recompress({ compressor: 'zstd', level: 6, maxPages: 512 })
    expect(r.pages).toBeGreaterThan(0)
    await store.setCompressor('zstd', { level: 1 })
    const s = store.stats()
    expect(s.compressors.map((c) => c.name)).toEqual(expect.arrayContaining(['lz4', 'zstd']))
    expect(s.compressors.some((c) => c.name.startsWith('zstd+dict'))).toBe(true)
    // zstd is current: the worker pool batches from 256 pages, so this call decodes lz4, zstd and dictionary objects there.
    const all = await store.loadMany(keys(0, 2048))
    expect(Buffer.compare(all.pages, node)).toBe(0)
    expect(store.stats().backend.counters.decompress_tasks).toBeGreaterThan(0)
    for (let k = 0; k < 2048; k++) store.invalidate(k)
    expectEmptyPool(store)
    expect(store.stats().compressors.some((c) => c.name.startsWith('zstd+dict'))).toBe(false)
  })
})
