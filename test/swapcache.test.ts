/**
 * SwapCache behaviour: faults and reclaim keep data intact, large-folio
 * rejections fall back to 4K stores and are counted, persistent rejections
 * leave folios resident and report pressure, writes racing a writeback are kept.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { PageStore, SwapCache, PAGE_SIZE, TEST_HOOKS, ResidentLimitError, RegionFreedError, InvalidArgumentError } from 'zstash/internals'
import { openFaultyStore } from './helpers/faulty-backend.js'

const stores: PageStore[] = []
async function open(opts: { folio?: '4k' | '64k' | '2m'; limit?: number; workers?: number } = {}) {
  const { store, faults } = await openFaultyStore({ compressor: 'lz4', workers: opts.workers ?? 0 })
  stores.push(store)
  const folioSize = opts.folio ?? '64k'
  const cache = await SwapCache.create({ store, residentLimit: opts.limit ?? 4 * 65536, folioSize })
  return { store, cache, faults }
}
afterEach(async () => { for (const s of stores.splice(0)) await s.close() })

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n)
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >> 12)) & 0xff
  return b
}

describe('SwapCache', () => {
  it('rejects bad options and sizes with stable codes', async () => {
    const store = await PageStore.open({ workers: 0 })
    stores.push(store)
    await expect(SwapCache.create({ store, residentLimit: 65536 })).rejects.toMatchObject({ code: 'ERR_ZSTASH_OUT_OF_RANGE' })
    await expect(SwapCache.create({ store, residentLimit: 3 * 65536 + 4096 })).rejects.toMatchObject({ code: 'ERR_ZSTASH_BAD_SIZE' })
    await expect(SwapCache.create({ store, residentLimit: 4 * 65536, bogus: 1 } as never)).rejects.toMatchObject({ code: 'ERR_ZSTASH_UNKNOWN_OPTION' })
    await expect(SwapCache.create({ store, residentLimit: 4 * 65536, folioSize: '8k' as never })).rejects.toBeInstanceOf(InvalidArgumentError)
    const cache = await SwapCache.create({ store, residentLimit: 4 * 65536 })
    expect(() => cache.alloc(0)).toThrow(expect.objectContaining({ code: 'ERR_ZSTASH_BAD_SIZE' }))
    const r = cache.alloc(10000)
    expect(() => r.read(9999, new Uint8Array(2))).toThrow(expect.objectContaining({ code: 'ERR_ZSTASH_OUT_OF_RANGE' }))
    expect(() => r.getUint32(-4)).toThrow(expect.objectContaining({ code: 'ERR_ZSTASH_OUT_OF_RANGE' }))
    expect(r.getUint8(9999)).toBe(0)
    r.free()
    expect(() => r.getUint8(0)).toThrow(RegionFreedError)
    await cache.close()
  })

  it('swaps out under the limit and faults everything back intact', async () => {
    const { cache, store } = await open()
    const r = cache.alloc(40 * 65536 + 123)
    const data = pattern(r.byteLength, 1)
    await r.writeAsync(0, data)
    await cache.settle()
    expect(cache.residentBytes).toBeLessThanOrEqual(cache.residentLimit)
    const s = cache.stats()
    expect(s.store.zswpout).toBeGreaterThan(0)
    expect(s.store.zswpout_folios['64kB']).toBeGreaterThan(0)
    expect(s.memcg_high).toBeGreaterThan(0)
    const back = new Uint8Array(r.byteLength)
    await r.readAsync(0, back)
    expect(Buffer.compare(back, data)).toBe(0)
    // Sync scalar access faults through loadSync (a major fault).
    const before = cache.stats().pgmajfault
    await cache.reclaim(cache.totalSlots)
    expect(r.getUint8(5 * 65536 + 7)).toBe(data[5 * 65536 + 7])
    expect(cache.stats().pgmajfault).toBe(before + 1)
    expect(store.stats().zswpin).toBeGreaterThan(0)
    await cache.close()
    expect(store.size).toBe(0)
  })

  it('throws ResidentLimitError before touching anything when no frame is free', async () => {
    const { cache } = await open({ limit: 2 * 65536 })
    const r = cache.alloc(4 * 65536)
    r.write(0, pattern(2 * 65536, 2))
    expect(cache.freeSlots).toBe(0)
    // A write spanning folio 1 (resident) and folio 2 (needs a frame) must not write folio 1's part either.
    const before = new Uint8Array(100)
    r.read(65536 * 2 - 100, before)
    expect(() => r.write(65536 * 2 - 100, new Uint8Array(200).fill(9))).toThrow(ResidentLimitError)
    const after = new Uint8Array(100)
    r.read(65536 * 2 - 100, after)
    expect(after).toEqual(before)
    expect(cache.stats().memcg_max).toBeGreaterThan(0)
    await cache.reserve(1)
    r.write(65536 * 2 - 100, new Uint8Array(200).fill(9))
    await cache.close()
  })

  it('splits a rejected 64K folio into 4K stores and counts the fallback', async () => {
    const { cache, faults } = await open()
    faults.policy = (n) => ({ failPage: n > 1 ? 0 : -1 })
    const r = cache.alloc(8 * 65536)
    const data = pattern(r.byteLength, 3)
    await r.writeAsync(0, data)
    await cache.reclaim(cache.totalSlots)
    const s = cache.stats()
    expect(s.memcg_swap_fail).toBeGreaterThan(0)
    expect(s.swpout_fallback['64kB']).toBe(s.memcg_swap_fail)
    expect(s.store.zswpout_folios['4kB']).toBe(s.memcg_swap_fail * 16)
    expect(s.store.zswpout_folios['64kB']).toBeUndefined()
    faults.policy = undefined
    const back = new Uint8Array(r.byteLength)
    await r.readAsync(0, back)
    expect(Buffer.compare(back, data)).toBe(0)
    await cache.close()
  })

  it('keeps folios resident when even 4K stores fail, and reports pressure', async () => {
    const events: string[] = []
    const store = await PageStore.open({ compressor: 'lz4', workers: 0 })
    stores.push(store)
    const cache = await SwapCache.create({ store, residentLimit: 4 * 65536, onPressure: (e) => events.push(e.kind) })
    const r = cache.alloc(8 * 65536)
    const data = pattern(r.byteLength, 4)
    await r.writeAsync(0, data.subarray(0, 4 * 65536))
    await cache.settle()
    const storedBefore = store.stats().stored_pages
    store[TEST_HOOKS] = { failAlloc: () => true }
    await expect(r.writeAsync(4 * 65536, data.subarray(4 * 65536))).rejects.toBeInstanceOf(ResidentLimitError)
    const s = cache.stats()
    expect(s.reclaim_fail).toBeGreaterThan(0)
    expect(s.store.stored_pages).toBe(storedBefore)
    expect(events).toContain('reclaim_fail')
    expect(events).toContain('limit')
    store[TEST_HOOKS] = undefined
    await r.writeAsync(4 * 65536, data.subarray(4 * 65536))
    const back = new Uint8Array(r.byteLength)
    await r.readAsync(0, back)
    expect(Buffer.compare(back, data)).toBe(0)
    await cache.close()
  })

  it('keeps a write that lands while its folio is being stored', async () => {
    const { cache, store } = await open()
    const r = cache.alloc(4 * 65536)
    r.write(0, pattern(4 * 65536, 5))
    const reclaim = cache.reclaim(cache.totalSlots) // the stores are in flight until we await
    r.setUint32(8, 0xdeadbeef)
    await reclaim
    expect(cache.stats().writeback_redirtied).toBe(1)
    expect(r.getUint32(8)).toBe(0xdeadbeef)
    await cache.reclaim(cache.totalSlots)
    expect(r.getUint32(8)).toBe(0xdeadbeef)
    expect(store.stats().stored_pages).toBeGreaterThan(0)
    await cache.close()
  })

  it('overlaps reclaim with the worker pool and keeps data intact', async () => {
    const { cache } = await open({ workers: 2, limit: 16 * 65536 })
    const r = cache.alloc(64 * 65536)
    const data = pattern(r.byteLength, 7)
    for (let off = 0; off < r.byteLength; off += 65536) await r.writeAsync(off, data.subarray(off, off + 65536))
    await cache.settle()
    expect(cache.stats().store.zswpout).toBeGreaterThan(0)
    const back = new Uint8Array(r.byteLength)
    await r.readAsync(0, back)
    expect(Buffer.compare(back, data)).toBe(0)
    await cache.close()
  })

  it('works with 4K and 2M folios', async () => {
    for (const folio of ['4k', '2m'] as const) {
      const fb = folio === '4k' ? PAGE_SIZE : 2 << 20
      const { cache } = await open({ folio, limit: 4 * fb })
      const r = cache.alloc(10 * fb)
      const data = pattern(r.byteLength, 6)
      await r.writeAsync(0, data)
      await cache.settle()
      const back = new Uint8Array(r.byteLength)
      await r.readAsync(0, back)
      expect(Buffer.compare(back, data)).toBe(0)
      expect(cache.stats().store.zswpout_folios[folio === '4k' ? '4kB' : '2048kB']).toBeGreaterThan(0)
      await cache.close()
    }
  })
})
