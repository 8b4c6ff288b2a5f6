import { afterEach, describe, expect, it } from 'vitest'
import {
  PageStore, PAGE_SIZE, TEST_HOOKS, loadNative, StoreRejectedError, DecompressError, InvalidArgumentError, ClosedError,
} from 'zstash/internals'
import { damageObject } from './helpers/pool-objects.js'
import { makeFolio, makePage } from './helpers/pages.js'
import { openFaultyStore } from './helpers/faulty-backend.js'
import { readCorpusPages } from './helpers/corpus.js'

const open: PageStore[] = []
async function openStore(options: Parameters<typeof PageStore.open>[0] = {}) {
  const s = await PageStore.open(options)
  open.push(s)
  return s
}
afterEach(async () => {
  while (open.length) await open.pop()!.close()
})

describe('PageStore store/load', () => {
  it('stores compressible, same-filled and incompressible pages and loads them back exactly', async () => {
    const store = await openStore({ compressor: 'lz4' })
    const folio = makeFolio(['text', 'zero', 'fill', 'random', 'usemem', 'text', 'random', 'zero', 'fill', 'text'], 100)
    await store.storeFolio(1000, folio)
    for (let i = 0; i < 10; i++) {
      const page = await store.load(1000 + i)
      expect(Buffer.compare(page!, folio.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE))).toBe(0)
    }
    const s = store.stats()
    expect(s.stored_pages).toBe(10)
    expect(s.same_filled_pages).toBe(4)
    expect(s.stored_incompressible_pages).toBe(2)
    expect(s.zswpout).toBe(10)
    expect(s.zswpin).toBe(10)
    expect(s.zswpout_folios).toEqual({ '40kB': 1 })
    expect(s.compressed_bytes).toBeGreaterThan(2 * PAGE_SIZE)
  })

  it('round-trips a corpus slice with every codec', async () => {
    const pages = readCorpusPages('py-2k', 512)
    for (const compressor of ['lz4', 'zstd', 'deflate', 'deflate-4k', 'lzo']) {
      const store = await openStore({ compressor })
      for (let i = 0; i < 512; i += 64) await store.storeFolio(i, pages.subarray(i * PAGE_SIZE, (i + 64) * PAGE_SIZE))
      const into = new Uint8Array(PAGE_SIZE)
      for (let i = 0; i < 512; i++) {
        expect(store.loadSync(i, { into })).toBe(into)
        expect(Buffer.compare(into, pages.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE))).toBe(0)
      }
      // The py heap has float arrays that LZ4 cannot shrink below a page.
      if (compressor === 'lz4') expect(store.stats().stored_incompressible_pages).toBeGreaterThan(0)
    }
  })

  it('returns undefined for absent keys; exclusive loads free the entry', async () => {
    const store = await openStore()
    expect(await store.load(5)).toBeUndefined()
    await store.storeFolio(5, makeFolio(['text'], 1))
    expect(await store.load(5, { exclusive: true })).toBeDefined()
    expect(await store.load(5)).toBeUndefined()
    expect(store.stats().stored_pages).toBe(0)
    expect(store.stats().pool.objects).toBe(0)
  })

  it('overwriting a key frees its old object', async () => {
    const store = await openStore()
    await store.storeFolio(0, makeFolio(['text', 'text'], 1))
    await store.storeFolio(0, makeFolio(['random', 'zero'], 2))
    const s = store.stats()
    expect(s.stored_pages).toBe(2)
    expect(s.pool.objects).toBe(1)
    expect(s.stored_incompressible_pages).toBe(1)
    expect(s.same_filled_pages).toBe(1)
    expect(Buffer.compare((await store.load(0))!, makePage('random', 2))).toBe(0)
  })

  it('invalidate drops an entry and reports whether there was one', async () => {
    const store = await openStore()
    await store.storeFolio(7, makeFolio(['text'], 3))
    expect(store.invalidate(7)).toBe(true)
    expect(store.invalidate(7)).toBe(false)
    expect(store.has(7)).toBe(false)
  })

  it('stores the largest folio (512 pages) and keys up to 2^32-1', async () => {
    const store = await openStore({ compressor: 'zstd' })
    const folio = makeFolio(Array(512).fill('usemem'), 0)
    await store.storeFolio(2 ** 32 - 512, folio)
    expect(store.size).toBe(512)
    const last = await store.load(2 ** 32 - 1)
    expect(Buffer.compare(last!, folio.subarray(511 * PAGE_SIZE))).toBe(0)
    expect(store.stats().zswpout_folios).toEqual({ '2048kB': 1 })
  })

  it('rejects the whole folio when storeIncompressible is off, dropping stale entries', async () => {
    const store = await openStore({ storeIncompressible: false })
    await store.storeFolio(0, makeFolio(['text', 'text', 'text'], 9))
    const err = await store.storeFolio(0, makeFolio(['text', 'random', 'text'], 10)).catch((e) => e)
    expect(err).toBeInstanceOf(StoreRejectedError)
    expect(err.code).toBe('ERR_ZSTASH_COMPRESS_POOR')
    expect(err.key).toBe(1)
    expect(store.size).toBe(0) // old entries for keys 0..2 are gone too (check_old)
    expect(store.stats().reject_compress_poor).toBe(1)
    expect(store.stats().pool.objects).toBe(0)
  })

  it('refuses stores at the pool limit until usage falls below the accept threshold', async () => {
    const limit = 64 * PAGE_SIZE
    const store = await openStore({ maxPoolBytes: limit, acceptThresholdPercent: 50 })
    let key = 0
    let hit: StoreRejectedError | undefined
    while (!hit) {
      await store.storeFolio(key, makeFolio(Array(8).fill('random'), key)).catch((e) => { hit = e })
      key += 8
    }
    expect(hit!.code).toBe('ERR_ZSTASH_POOL_LIMIT')
    expect(store.stats().pool_limit_hit).toBe(1)
    // Still full: free a little (not below 50%) and it keeps refusing.
    store.invalidate(0)
    await expect(store.storeFolio(1 << 20, makeFolio(['text'], 1))).rejects.toThrow(StoreRejectedError)
    for (let k = 0; k < key; k++) store.invalidate(k)
    await store.storeFolio(1 << 20, makeFolio(['text'], 1))
  })
})

describe('PageStore failures', () => {
  it('a corrupted object gives DecompressError, bumps decompress_fail and keeps the entry', async () => {
    const store = await openStore({ compressor: 'zstd' })
    await store.storeFolio(0, makeFolio(['text'], 1))
    // Corrupt the object, as a bit flip in memory would.
    damageObject(store, 0, (bytes) => bytes.fill(0xff, 0, 16))
    const err = await store.load(0).catch((e) => e)
    expect(err).toBeInstanceOf(DecompressError)
    expect(err.code).toBe('ERR_ZSTASH_DECOMPRESS')
    expect(store.stats().decompress_fail).toBe(1)
    expect(store.has(0)).toBe(true)
  })

  it('checksums catch a damaged object that would decode "successfully" to wrong bytes', async () => {
    const page = makePage('text', 5)
    // Find a byte whose flip keeps the LZ4 stream valid but changes the page it decodes to.
    const codec = new (loadNative().Codec)('lz4', 1)
    const out = new Uint8Array(PAGE_SIZE)
    const status = new Int32Array(1)
    codec.compressBatch(page, 0, 1, out, 0, status, 0, PAGE_SIZE - 1, true)
    const length = status[0]
    let flip = -1
    const back = new Uint8Array(PAGE_SIZE)
    for (let pos = 0; pos < length && flip < 0; pos++) {
      const damaged = out.slice(0, length)
      damaged[pos] ^= 0x20
      if (codec.decompress(damaged, 0, length, back, 0) === PAGE_SIZE && Buffer.compare(back, page) !== 0) flip = pos
    }
    expect(flip).toBeGreaterThanOrEqual(0)
    for (const checksum of [true, false]) {
      const store = await openStore({ compressor: 'lz4', checksum, workers: 0 })
      await store.storeFolio(0, page)
      await store.storeFolio(1, makePage('random', 6))
      damageObject(store, 0, (bytes) => { bytes[flip] ^= 0x20 })
      damageObject(store, 1, (bytes) => { bytes[100] ^= 1 }) // the raw (incompressible) page
      if (checksum) {
        const err = await store.load(0).catch((e) => e)
        expect(err).toBeInstanceOf(DecompressError)
        expect(err.message).toContain('checksum')
        expect(() => store.loadSync(1)).toThrow(DecompressError)
        await expect(store.loadMany([0, 1])).rejects.toThrow(DecompressError)
        expect(store.stats().decompress_fail).toBe(3)
        expect(store.has(0) && store.has(1)).toBe(true)
      } else {
        // Without checksums the damage goes unnoticed: this is what the option prevents.
        expect(Buffer.compare((await store.load(0))!, page)).not.toBe(0)
        expect(Buffer.compare((await store.load(1))!, makePage('random', 6))).not.toBe(0)
      }
    }
  })
})

describe('PageStore store failures', () => {
  it('a compression failure at page i leaves no entry for any key of the folio', async () => {
    const { store, faults } = await openFaultyStore()
    open.push(store)
    await store.storeFolio(10, makeFolio(Array(20).fill('text'), 1))
    faults.next = { failPage: 13 }
    const err = await store.storeFolio(10, makeFolio(Array(20).fill('text'), 2)).catch((e) => e)
    expect(err).toBeInstanceOf(StoreRejectedError)
    expect(err.code).toBe('ERR_ZSTASH_COMPRESS_FAIL')
    expect(err.key).toBe(23)
    expect(store.size).toBe(0)
    expect(store.stats().pool.objects).toBe(0)
    expect(store.stats().reject_compress_fail).toBe(1)
  })

  it('an allocation failure at page i frees what was allocated and leaves no entry', async () => {
    const store = await openStore()
    store[TEST_HOOKS] = { failAlloc: (key) => key === 5 }
    const err = await store.storeFolio(0, makeFolio(Array(8).fill('text'), 2)).catch((e) => e)
    expect(err.code).toBe('ERR_ZSTASH_ALLOC_FAIL')
    expect(store.stats().reject_alloc_fail).toBe(1)
    expect(store.stats().pool.objects).toBe(0)
    expect(store.size).toBe(0)
  })
})

describe('PageStore argument checks', () => {
  it('rejects bad folios and keys with typed errors', async () => {
    const store = await openStore()
    const cases: [() => Promise<unknown>, string][] = [
      [() => store.storeFolio(0, new Uint8Array(100)), 'ERR_ZSTASH_BAD_FOLIO'],
      [() => store.storeFolio(0, new Uint8Array(0)), 'ERR_ZSTASH_BAD_FOLIO'],
      [() => store.storeFolio(0, new Uint8Array(513 * PAGE_SIZE)), 'ERR_ZSTASH_BAD_FOLIO'],
      [() => store.storeFolio(0, [1, 2, 3] as unknown as Uint8Array), 'ERR_ZSTASH_INVALID_ARGUMENT'],
      [() => store.storeFolio(1.5, new Uint8Array(PAGE_SIZE)), 'ERR_ZSTASH_BAD_KEY'],
      [() => store.storeFolio(-1, new Uint8Array(PAGE_SIZE)), 'ERR_ZSTASH_BAD_KEY'],
      [() => store.storeFolio(2 ** 32, new Uint8Array(PAGE_SIZE)), 'ERR_ZSTASH_BAD_KEY'],
      [() => store.storeFolio(2 ** 32 - 1, new Uint8Array(2 * PAGE_SIZE)), 'ERR_ZSTASH_OUT_OF_RANGE'],
      [() => store.storeFolio('1' as unknown as number, new Uint8Array(PAGE_SIZE)), 'ERR_ZSTASH_BAD_KEY'],
      [() => store.load(NaN), 'ERR_ZSTASH_BAD_KEY'],
      [() => store.load(0, { into: new Uint8Array(10) }), 'ERR_ZSTASH_INVALID_ARGUMENT'],
      [() => store.load(0, { exclusiv: true } as never), 'ERR_ZSTASH_UNKNOWN_OPTION'],
      [() => store.load(0, { exclusive: 1 } as never), 'ERR_ZSTASH_INVALID_ARGUMENT'],
      [() => store.load(0, 'into' as never), 'ERR_ZSTASH_INVALID_ARGUMENT'],
      [() => store.loadMany([0, 1], { into: new Uint8Array(PAGE_SIZE) }), 'ERR_ZSTASH_INVALID_ARGUMENT'],
      [() => store.loadMany([0, -1]), 'ERR_ZSTASH_BAD_KEY'],
      [() => store.loadMany('01' as never), 'ERR_ZSTASH_INVALID_ARGUMENT'],
      [() => store.loadMany({ length: 2, 0: 1, 1: 2 } as never), 'ERR_ZSTASH_INVALID_ARGUMENT'],
      [() => store.loadMany([0], { exclusive: true, extra: 1 } as never), 'ERR_ZSTASH_UNKNOWN_OPTION'],
    ]
    for (const [call, code] of cases) {
      const err = await call().catch((e) => e)
      expect(err, code).toBeInstanceOf(InvalidArgumentError)
      expect(err.code).toBe(code)
    }
    expect(() => store.invalidate(-3)).toThrow(InvalidArgumentError)
  })

  it('rejects unknown options, compressors and out-of-range values', async () => {
    const bad: [unknown, string][] = [
      [{ compresor: 'lz4' }, 'ERR_ZSTASH_UNKNOWN_OPTION'],
      [{ compressor: 'brotli' }, 'ERR_ZSTASH_UNKNOWN_COMPRESSOR'],
      [{ compressor: 4 }, 'ERR_ZSTASH_INVALID_ARGUMENT'],
      [{ maxBatch: 0 }, 'ERR_ZSTASH_OUT_OF_RANGE'],
      [{ maxBatch: 513 }, 'ERR_ZSTASH_OUT_OF_RANGE'],
      [{ maxBatch: 2.5 }, 'ERR_ZSTASH_INVALID_ARGUMENT'],
      [{ compressor: 'zstd', level: 99 }, 'ERR_ZSTASH_OUT_OF_RANGE'],
      [{ incompressibleThreshold: 4096 }, 'ERR_ZSTASH_OUT_OF_RANGE'],
      [{ sameFilled: 'yes' }, 'ERR_ZSTASH_INVALID_ARGUMENT'],
      ['lz4', 'ERR_ZSTASH_INVALID_ARGUMENT'],
    ]
    for (const [options, code] of bad) {
      const err = await PageStore.open(options as never).catch((e) => e)
      expect(err, JSON.stringify(options)).toBeInstanceOf(InvalidArgumentError)
      expect(err.code).toBe(code)
    }
  })

  it('throws ClosedError after close, from every entry point; close twice is fine; stats() is the final snapshot', async () => {
    const store = await PageStore.open()
    await store.storeFolio(0, makeFolio(['text', 'zero'], 1))
    await store.close()
    await store.close()
    await expect(store.storeFolio(0, new Uint8Array(PAGE_SIZE))).rejects.toThrow(ClosedError)
    await expect(store.load(0)).rejects.toThrow(ClosedError)
    await expect(store.loadMany([0])).rejects.toThrow(ClosedError)
    for (const call of [() => store.invalidate(0), () => store.has(0), () => store.loadSync(0), () => store.compact(), () => store.size, () => store.reserveKeys(1)]) {
      expect(call).toThrow(ClosedError)
    }
    expect(store.stats().stored_pages).toBe(2)
  })
})
