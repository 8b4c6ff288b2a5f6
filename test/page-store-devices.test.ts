/**
 * PageStore over accelerator backends: the store path, readahead through the
 * device, and cross-reading (a page any deflate-4k producer wrote loads through
 * the CPU decoder, whatever wrote it).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { inflateRawSync } from 'node:zlib'
import { PageStore, PAGE_SIZE, backends, LOAD_MANY_INLINE_PAGES } from 'zstash/internals'
import { readObject } from './helpers/pool-objects.js'
import { makeFolio, type PageKind } from './helpers/pages.js'
import { readCorpusPages } from './helpers/corpus.js'

const stores: PageStore[] = []
afterEach(async () => {
  while (stores.length) await stores.pop()!.close()
})

async function roundTrip(compressor: string, device: Record<string, unknown> = {}) {
  const store = await PageStore.open({ compressor, device })
  stores.push(store)
  const pages = readCorpusPages('node-2k', 256)
  const kinds: PageKind[] = ['zero', 'random', 'text']
  const extra = makeFolio(kinds, 9)
  await Promise.all([0, 64, 128, 192].map((k) => store.storeFolio(k, pages.subarray(k * PAGE_SIZE, (k + 64) * PAGE_SIZE))))
  await store.storeFolio(1000, extra)
  const keys = [...Array.from({ length: 256 }, (_, i) => i), 1000, 1001, 1002]
  const r = await store.loadMany(keys)
  expect(r.count).toBe(keys.length)
  expect(Buffer.compare(r.pages.subarray(0, 256 * PAGE_SIZE), pages)).toBe(0)
  expect(Buffer.compare(r.pages.subarray(256 * PAGE_SIZE), extra)).toBe(0)
  for (let k = 0; k < 256; k += 17) expect(Buffer.compare(store.loadSync(k)!, pages.subarray(k * PAGE_SIZE, (k + 1) * PAGE_SIZE))).toBe(0)
  return store
}

describe('PageStore on devices', () => {
  it('sim: stores, loads and reads ahead through the simulated device, and says it is simulated', async () => {
    const store = await roundTrip('sim')
    const s = store.stats()
    expect(s.backend.path).toBe('simulated')
    expect(s.backend.format).toBe('deflate-4k')
    expect(s.backend.counters.hw_completed).toBeGreaterThan(0)
    expect(s.stored_incompressible_pages).toBe(1)
    expect(LOAD_MANY_INLINE_PAGES).toBeGreaterThan(0)
  })

  it('dpdk:isal: round trip through DPDK compressdev, objects readable by zlib raw inflate', async () => {
    const listing = (await backends()).find((b) => b.name === 'dpdk:isal')
    if (!listing?.compiled) {
      expect(process.env.CI, 'DPDK must be compiled in CI').toBeUndefined()
      return
    }
    const store = await roundTrip('dpdk:isal')
    const s = store.stats()
    expect(s.backend.path).toBe('software')
    expect(s.backend.counters.hw_submitted).toBeGreaterThan(0)
    // Cross-read: take an object out of the pool and inflate it with zlib (window 12).
    const internals = store as unknown as { entries: { find(k: number): number } }
    const pages = readCorpusPages('node-2k', 8)
    let checked = 0
    for (let k = 0; k < 8; k++) {
      if (internals.entries.find(k) !== 1) continue // compressed entries only
      const obj = readObject(store, k)
      expect(Buffer.compare(inflateRawSync(obj, { windowBits: 12 }), pages.subarray(k * PAGE_SIZE, (k + 1) * PAGE_SIZE))).toBe(0)
      checked++
    }
    expect(checked).toBeGreaterThan(0)
  })

  it('rejects device options on a store that has no device with a typed error', async () => {
    const err = await PageStore.open({ compressor: 'sim', device: { bogus: 1 } }).catch((e) => e)
    expect(err.code).toMatch(/^ERR_ZSTASH_/)
  })
})
