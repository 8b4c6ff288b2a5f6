/**
 * chargePool: the store's compressed pool is charged to the cache's limit, as
 * memcg charges zswap's pool to memory.max. Frames in use + pool_total_size
 * stay under the limit at every step of a workload (checked with the store's
 * exact stats, stores in flight included), every byte reads back, a backing
 * tier is shrunk into when the floor of frames no longer fits, and without a
 * tier that situation is a typed, counted failure rather than a silent overrun.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { PageStore, SwapCache, PAGE_SIZE, ResidentLimitError, InvalidArgumentError, type Region } from 'zstash/internals'

const stores: PageStore[] = []
afterEach(async () => { for (const s of stores.splice(0)) await s.close() })

async function openStore(backing: boolean): Promise<PageStore> {
  const store = await PageStore.open({ compressor: 'lz4', workers: 0, ...(backing ? { backing: { type: 'file' as const } } : {}) })
  stores.push(store)
  return store
}

/** Page p of region `seed`: its first `noise` bytes pseudo-random, the rest a repeating header (compresses to about noise/PAGE_SIZE). */
function fillPage(dst: Uint8Array, at: number, seed: number, p: number, noise: number): void {
  let x = (seed * 0x9e3779b1 + p * 0x85ebca6b) >>> 0 || 1
  for (let i = 0; i < noise; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5; x >>>= 0
    dst[at + i] = x & 0xff
  }
  for (let i = noise; i < PAGE_SIZE; i++) dst[at + i] = (p + (i & 63)) & 0xff
}

function expected(bytes: number, seed: number, noise: number): Uint8Array {
  const b = new Uint8Array(bytes)
  for (let p = 0; p * PAGE_SIZE < bytes; p++) fillPage(b, p * PAGE_SIZE, seed, p, noise)
  return b
}

/** Asserts frames in use + the store's pool fit the limit; returns the charge. */
function checkCharge(cache: SwapCache): number {
  const s = cache.stats()
  const charged = s.resident_bytes + s.store.pool_total_size
  expect(s.charged_bytes).toBe(charged)
  if (charged > s.resident_limit) {
    throw new Error(`charged ${charged} > limit ${s.resident_limit} (resident ${s.resident_bytes}, pool ${s.store.pool_total_size}, in flight ${s.writeback_folios})`)
  }
  return charged
}

/**
 * Writes every region in chunks, then reads them back in a scattered order and
 * rewrites some, checking the charge after every await and, with a poller, on
 * every turn of the event loop while stores are in flight.
 */
async function workload(cache: SwapCache, regions: Region[], data: Uint8Array[], chunk: number): Promise<{ maxCharged: number; checks: number }> {
  let maxCharged = 0
  let checks = 0
  const check = () => { maxCharged = Math.max(maxCharged, checkCharge(cache)); checks++ }
  let failure: unknown
  const poll = setInterval(() => { try { check() } catch (err) { failure ??= err } }, 0)
  try {
    for (let r = 0; r < regions.length; r++) {
      for (let off = 0; off < data[r].length; off += chunk) {
        await regions[r].writeAsync(off, data[r].subarray(off, off + chunk))
        check()
      }
    }
    const buf = new Uint8Array(chunk)
    const chunks = data[0].length / chunk
    for (let i = 0; i < chunks * regions.length; i++) {
      const r = i % regions.length
      const c = (i * 7) % chunks
      await regions[r].readAsync(c * chunk, buf)
      check()
      expect(Buffer.compare(buf, data[r].subarray(c * chunk, (c + 1) * chunk))).toBe(0)
      if (i % 3 === 0) {
        // Rewritten with the same bytes: the folio is dirtied and must go out again.
        await regions[r].writeAsync(c * chunk, data[r].subarray(c * chunk, (c + 1) * chunk))
        check()
      }
    }
    await cache.settle()
    check()
    for (let r = 0; r < regions.length; r++) {
      const back = new Uint8Array(data[r].length)
      await regions[r].readAsync(0, back)
      check()
      expect(Buffer.compare(back, data[r])).toBe(0)
    }
  } finally {
    clearInterval(poll)
  }
  if (failure) throw failure
  return { maxCharged, checks }
}

describe('SwapCache chargePool', () => {
  it('validates the option like the others', async () => {
    const store = await openStore(false)
    await expect(SwapCache.create({ store, residentLimit: 4 * 65536, chargePool: 'yes' as never }))
      .rejects.toMatchObject({ code: 'ERR_ZSTASH_INVALID_ARGUMENT', message: expect.stringContaining("'chargePool' must be a boolean") })
    await expect(SwapCache.create({ store, residentLimit: 4 * 65536, chargePool: 1 as never })).rejects.toBeInstanceOf(InvalidArgumentError)
    const off = await SwapCache.create({ store, residentLimit: 4 * 65536 })
    expect(off.stats()).toMatchObject({ charge_pool: false, frame_limit: 4, charge_pool_reads: 0 })
    const on = await SwapCache.create({ store, residentLimit: 4 * 65536, chargePool: true })
    // Room is kept for the compressed copy of the next folio reclaim stores, and one slab (64 KiB) of slack.
    expect(on.stats()).toMatchObject({ charge_pool: true, frame_limit: 2, charged_bytes: 0 })
    await off.close()
    await on.close()
  })

  it.each(['4k', '64k'] as const)('keeps frames + pool under the limit at every step, and every byte reads back (%s folios)', async (folioSize) => {
    const store = await openStore(false)
    const folioBytes = folioSize === '4k' ? PAGE_SIZE : 65536
    const limit = folioSize === '4k' ? 96 * PAGE_SIZE : 8 * 65536
    const cache = await SwapCache.create({ store, residentLimit: limit, folioSize, chargePool: true })
    // 1.5 × the limit of data compressing to about a fifth: the pool takes a good part of the limit.
    const bytes = 3 * limit / 4
    const data = [expected(bytes, 1, 700), expected(bytes, 2, 900)]
    const regions = data.map((d) => cache.alloc(d.length))
    const { maxCharged, checks } = await workload(cache, regions, data, folioSize === '4k' ? 4 * folioBytes : folioBytes)
    const s = cache.stats()
    expect(checks).toBeGreaterThan(30)
    expect(s.reclaimed_folios).toBeGreaterThan(0)
    // The pool took frames' room: fewer frames are allowed than the buffer holds.
    expect(s.frame_limit).toBeLessThan(s.resident_limit / folioBytes - 1)
    expect(s.store.pool_total_size).toBeGreaterThan(0)
    expect(maxCharged).toBeLessThanOrEqual(limit)
    expect(maxCharged).toBeGreaterThan(limit / 2)
    expect(s.charge_pool_reads).toBeGreaterThan(0)
    expect(s.charge_oom).toBe(0)
    await cache.close()
  })

  it('without charging, the same workload runs the pool past the limit (what the option prevents)', async () => {
    const store = await openStore(false)
    const limit = 8 * 65536
    const cache = await SwapCache.create({ store, residentLimit: limit, folioSize: '64k' })
    const data = [expected(limit, 1, 700), expected(limit, 2, 900)]
    const regions = data.map((d) => cache.alloc(d.length))
    await expect(workload(cache, regions, data, 65536)).rejects.toThrow(/charged \d+ > limit/)
    await cache.close()
  })

  it('shrinks the pool into the backing tier when the floor of frames no longer fits', async () => {
    const store = await openStore(true)
    const limit = 8 * 65536
    const cache = await SwapCache.create({ store, residentLimit: limit, folioSize: '64k', chargePool: true })
    // Compressed, this is about 1.6 × the limit: the pool alone cannot stay under it.
    const data = [expected(2 * limit, 3, 1500), expected(2 * limit, 4, 1700)]
    const regions = data.map((d) => cache.alloc(d.length))
    await workload(cache, regions, data, 65536)
    const s = cache.stats()
    expect(s.charge_shrunk_pages).toBeGreaterThan(0)
    expect(s.store.written_back_pages).toBeGreaterThanOrEqual(s.charge_shrunk_pages)
    expect(s.store.pswpin).toBeGreaterThan(0)
    expect(s.charge_oom).toBe(0)
    await cache.close()
  })

  it('without a tier, a pool that leaves less than the floor is a counted ResidentLimitError, never an overrun', async () => {
    const store = await openStore(false)
    const limit = 8 * 65536
    const events: string[] = []
    const cache = await SwapCache.create({ store, residentLimit: limit, folioSize: '64k', chargePool: true, onPressure: (e) => events.push(e.kind) })
    const data = expected(4 * limit, 5, 1500)
    const region = cache.alloc(data.length)
    let err: unknown
    try {
      for (let off = 0; off < data.length; off += 65536) {
        await region.writeAsync(off, data.subarray(off, off + 65536))
        checkCharge(cache)
      }
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ResidentLimitError)
    expect((err as ResidentLimitError).message).toMatch(/beside a pool of/)
    checkCharge(cache)
    const s = cache.stats()
    expect(s.charge_oom).toBeGreaterThan(0)
    expect(events).toContain('charge')
    await cache.close()
  })
})
