/**
 * The public API as a careless or hostile caller uses it: buffers reused,
 * transferred, resized and shrunk at every await point; subclasses and
 * Proxies that lie; shared folios written by another thread right after the
 * call; close() with work in flight; many concurrent stores against a pool
 * limit; two swap caches on one store. Every case must end with the exact
 * bytes, a typed error, or a closed error — never wrong bytes, a hang, an
 * unhandled rejection or a crash.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Worker } from 'node:worker_threads'
import { MessageChannel } from 'node:worker_threads'
import {
  PageStore, SwapCache, PAGE_SIZE, InvalidArgumentError, ClosedError, StoreRejectedError, ZstashError,
} from 'zstash/internals'
import { makeFolio } from './helpers/pages.js'
import { readCorpusPages } from './helpers/corpus.js'

const stores: PageStore[] = []
async function open(options: Parameters<typeof PageStore.open>[0] = {}): Promise<PageStore> {
  const s = await PageStore.open(options)
  stores.push(s)
  return s
}
afterEach(async () => {
  while (stores.length) await stores.pop()!.close()
})

/** The backends a caller can pick: on the calling thread, in the worker pool, on a (simulated) device. */
const BACKENDS = [
  { name: 'cpu', options: { compressor: 'lz4', workers: 0 } },
  { name: 'pool', options: { compressor: 'lz4', workers: 2 } },
  { name: 'sim', options: { compressor: 'sim', device: { engines: 4, latencyUs: 50 } } },
] as const

const pages = readCorpusPages('node-2k', 128)

function detach(buffer: ArrayBuffer): void {
  const { port1, port2 } = new MessageChannel()
  port1.postMessage(buffer, [buffer])
  port1.close()
  port2.close()
}

async function expectStored(store: PageStore, firstKey: number, expected: Uint8Array): Promise<void> {
  const n = expected.length / PAGE_SIZE
  const r = await store.loadMany(Array.from({ length: n }, (_, i) => firstKey + i))
  expect(r.count).toBe(n)
  expect(Buffer.compare(r.pages, expected)).toBe(0)
}

describe.each(BACKENDS)('the store owns its input when storeFolio returns ($name)', ({ options }) => {
  it('a buffer overwritten right after the call', async () => {
    const store = await open(options)
    const folio = pages.slice(0, 32 * PAGE_SIZE)
    const p = store.storeFolio(0, folio)
    folio.fill(0xee)
    await p
    await expectStored(store, 0, pages.subarray(0, 32 * PAGE_SIZE))
  })

  it('a buffer transferred (detached) right after the call', async () => {
    const store = await open(options)
    const folio = pages.slice(0, 16 * PAGE_SIZE)
    const p = store.storeFolio(100, folio)
    detach(folio.buffer as ArrayBuffer)
    expect(folio.byteLength).toBe(0)
    await p
    await expectStored(store, 100, pages.subarray(0, 16 * PAGE_SIZE))
  })

  it('a resizable buffer shrunk right after the call', async () => {
    const store = await open(options)
    const ab = new ArrayBuffer(16 * PAGE_SIZE, { maxByteLength: 32 * PAGE_SIZE })
    const folio = new Uint8Array(ab)
    folio.set(pages.subarray(0, 16 * PAGE_SIZE))
    const p = store.storeFolio(200, folio)
    ab.resize(PAGE_SIZE)
    await p
    await expectStored(store, 200, pages.subarray(0, 16 * PAGE_SIZE))
  })

  it('a shared folio written by another thread the moment storeFolio returns', async () => {
    const store = await open(options)
    const shared = new Uint8Array(new SharedArrayBuffer(32 * PAGE_SIZE + 4))
    shared.set(pages.subarray(0, 32 * PAGE_SIZE))
    const flag = new Int32Array(shared.buffer, 32 * PAGE_SIZE, 1)
    const writer = new Worker(`
      const { workerData } = require('node:worker_threads')
      const bytes = new Uint8Array(workerData, 0, ${32 * PAGE_SIZE})
      const flag = new Int32Array(workerData, ${32 * PAGE_SIZE}, 1)
      Atomics.wait(flag, 0, 0)
      for (let round = 0; round < 50; round++) bytes.fill(round)
      Atomics.store(flag, 0, 2)
      Atomics.notify(flag, 0)
    `, { eval: true, workerData: shared.buffer })
    try {
      const p = store.storeFolio(300, shared.subarray(0, 32 * PAGE_SIZE))
      Atomics.store(flag, 0, 1)
      Atomics.notify(flag, 0)
      await p
      while (Atomics.load(flag, 0) !== 2) await new Promise((r) => setTimeout(r, 1))
      await expectStored(store, 300, pages.subarray(0, 32 * PAGE_SIZE))
    } finally {
      await writer.terminate()
    }
  })

  it('one buffer reused for every folio of a burst of unawaited stores', async () => {
    const store = await open(options)
    const scratch = new Uint8Array(8 * PAGE_SIZE)
    const pending: Promise<void>[] = []
    for (let f = 0; f < 8; f++) {
      scratch.set(pages.subarray(f * 8 * PAGE_SIZE, (f + 1) * 8 * PAGE_SIZE))
      pending.push(store.storeFolio(1000 + f * 8, scratch))
    }
    scratch.fill(0)
    await Promise.all(pending)
    await expectStored(store, 1000, pages.subarray(0, 64 * PAGE_SIZE))
  })
})

describe('arguments that lie', () => {
  class LyingLength extends Uint8Array {
    override get length(): number { return 8 * PAGE_SIZE }
    override get byteLength(): number { return 8 * PAGE_SIZE }
  }

  it('a Uint8Array subclass claiming more bytes than it has is judged by what it really has', async () => {
    const store = await open({ workers: 0 })
    const liar = new LyingLength(PAGE_SIZE)
    liar.set(pages.subarray(0, PAGE_SIZE))
    await store.storeFolio(0, liar)
    expect(store.size).toBe(1) // one real page, not eight
    await expectStored(store, 0, pages.subarray(0, PAGE_SIZE))
    const odd = new LyingLength(100)
    await expect(store.storeFolio(10, odd)).rejects.toMatchObject({ code: 'ERR_ZSTASH_BAD_FOLIO' })
    // As a destination too: a short `into` that claims to be long is refused, not overrun.
    expect(() => store.loadSync(0, { into: new LyingLength(16) })).toThrow(InvalidArgumentError)
  })

  it('Proxies and look-alikes are refused with typed errors', async () => {
    const store = await open({ workers: 0 })
    const real = pages.slice(0, PAGE_SIZE)
    const proxy = new Proxy(real, {})
    await expect(store.storeFolio(0, proxy)).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(store.storeFolio(0, { buffer: real.buffer, byteLength: PAGE_SIZE, length: PAGE_SIZE } as never)).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(store.storeFolio(0, new Uint8ClampedArray(PAGE_SIZE) as never)).rejects.toBeInstanceOf(InvalidArgumentError)
    expect(() => store.loadSync(0, { into: new Proxy(new Uint8Array(PAGE_SIZE), {}) })).toThrow(InvalidArgumentError)
    expect(() => store.loadSync(0, new Proxy({}, {}) as never)).toThrow(InvalidArgumentError)
    // A key list whose getter throws, or that changes after the call.
    const throwing = new Proxy([1, 2], { get: (t, k) => { if (k === '1') throw new Error('boom'); return Reflect.get(t, k) } })
    await expect(store.loadMany(throwing)).rejects.toBeInstanceOf(InvalidArgumentError)
  })

  it('a key list changed after the call changes nothing', async () => {
    const store = await open({ workers: 2 })
    await store.storeFolio(0, pages.subarray(0, 128 * PAGE_SIZE))
    const keys = Array.from({ length: 128 }, (_, i) => i)
    const loading = store.loadMany(keys)
    keys.fill(5000)
    const r = await loading
    expect(r.count).toBe(128)
    expect(Buffer.compare(r.pages, pages.subarray(0, 128 * PAGE_SIZE))).toBe(0)
  })

  it("an exclusive loadMany whose 'into' is detached while it runs frees nothing and says so", async () => {
    // zstd: 512 compressed pages go to the workers (lz4 decodes up to 2048 on the calling thread).
    const store = await open({ workers: 2, compressor: 'zstd' })
    const many = readCorpusPages('node-2k', 512)
    await store.storeFolio(0, many)
    const into = new Uint8Array(512 * PAGE_SIZE)
    const loading = store.loadMany(Array.from({ length: 512 }, (_, i) => i), { into, exclusive: true })
    detach(into.buffer as ArrayBuffer)
    await expect(loading).rejects.toBeInstanceOf(InvalidArgumentError)
    expect(store.size).toBe(512)
    await expectStored(store, 0, many)
  })
})

describe('close() with work in flight', () => {
  it.each(BACKENDS)('every call settles — stored or ClosedError — and nothing escapes ($name)', async ({ options }) => {
    const unhandled: unknown[] = []
    const onUnhandled = (err: unknown) => unhandled.push(err)
    process.on('unhandledRejection', onUnhandled)
    try {
      const store = await PageStore.open(options)
      const calls: Promise<unknown>[] = []
      for (let f = 0; f < 24; f++) calls.push(store.storeFolio(f * 16, pages.subarray(0, 16 * PAGE_SIZE)))
      calls.push(store.loadMany(Array.from({ length: 200 }, (_, i) => i), { exclusive: true }))
      const closing = store.close()
      const again = store.close()
      const results = await Promise.allSettled(calls)
      await closing
      await again
      for (const r of results) {
        if (r.status === 'rejected') expect(r.reason, String(r.reason)).toBeInstanceOf(ClosedError)
      }
      expect(() => store.has(0)).toThrow(ClosedError)
      await expect(store.storeFolio(0, pages.subarray(0, PAGE_SIZE))).rejects.toBeInstanceOf(ClosedError)
      const final = store.stats()
      expect(final.stores_in_flight).toBe(0)
      expect(final.reserved_bytes).toBe(0)
      await new Promise((r) => setTimeout(r, 50))
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })
})

describe('the pool limit under concurrency', () => {
  it.each([0, 2])('concurrent stores never take the pool past maxPoolBytes (+ one slab run) and reject quickly (workers: %i)', async (workers) => {
    const limit = 256 * PAGE_SIZE
    const store = await open({ compressor: 'lz4', workers, maxPoolBytes: limit })
    const random = makeFolio(Array(16).fill('random'), 1) // incompressible: every page costs a full page
    let peak = 0
    const calls: Promise<unknown>[] = []
    for (let f = 0; f < 64; f++) {
      calls.push(store.storeFolio(f * 16, random).then(() => { peak = Math.max(peak, store.stats().pool_total_size) }, (e) => e))
    }
    const results = await Promise.all(calls)
    const rejected = results.filter((r) => r instanceof StoreRejectedError) as StoreRejectedError[]
    expect(rejected.length).toBeGreaterThan(0)
    for (const r of rejected) expect(r.code).toBe('ERR_ZSTASH_POOL_LIMIT')
    const s = store.stats()
    expect(Math.max(peak, s.pool_total_size)).toBeLessThanOrEqual(limit + 16 * PAGE_SIZE)
    expect(s.pool_limit_hit).toBe(rejected.length)
    expect(s.reserved_bytes).toBe(0)
    // Every admitted folio is whole; every rejected one left nothing.
    expect(s.stored_pages).toBe((64 - rejected.length) * 16)
  })
})

describe('two swap caches on one store', () => {
  it('get disjoint key ranges and never see each other\'s pages', async () => {
    const store = await open({ workers: 0 })
    const a = await SwapCache.create({ store, residentLimit: 4 * 65536 })
    const b = await SwapCache.create({ store, residentLimit: 4 * 65536 })
    const ra = a.alloc(16 * 65536)
    const rb = b.alloc(16 * 65536)
    expect(rb.baseKey >= ra.baseKey + 16 * 16 || ra.baseKey >= rb.baseKey + 16 * 16).toBe(true)
    const da = makeFolio(Array(256).fill('text'), 1)
    const db = makeFolio(Array(256).fill('usemem'), 2)
    await ra.writeAsync(0, da)
    await rb.writeAsync(0, db)
    await a.reclaim(a.totalSlots)
    await b.reclaim(b.totalSlots)
    const backA = new Uint8Array(da.length)
    const backB = new Uint8Array(db.length)
    await ra.readAsync(0, backA)
    await rb.readAsync(0, backB)
    expect(Buffer.compare(backA, da)).toBe(0)
    expect(Buffer.compare(backB, db)).toBe(0)
    // An explicit overlapping reservation is refused.
    expect(() => store.reserveKeys(16, { at: ra.baseKey + 3 })).toThrow(expect.objectContaining({ code: 'ERR_ZSTASH_KEYS_IN_USE' }))
    await a.close()
    await b.close()
    expect(store.size).toBe(0)
  })

  it('a write that runs past the region end is refused before anything is written', async () => {
    const store = await open({ workers: 0 })
    const cache = await SwapCache.create({ store, residentLimit: 4 * 65536 })
    const r = cache.alloc(2 * 65536)
    const src = new Uint8Array(65536 + 100).fill(7)
    await expect(r.writeAsync(65536, src)).rejects.toMatchObject({ code: 'ERR_ZSTASH_OUT_OF_RANGE' })
    const back = new Uint8Array(2 * 65536)
    await r.readAsync(0, back)
    expect(back.every((x) => x === 0)).toBe(true)
    await cache.close()
  })

  it('a multi-piece write whose source is detached part-way says how much it wrote', async () => {
    const store = await open({ workers: 2 })
    const cache = await SwapCache.create({ store, residentLimit: 4 * 65536 })
    const r = cache.alloc(64 * 65536)
    const src = new Uint8Array(64 * 65536).fill(3)
    const writing = r.writeAsync(0, src)
    // Detach once the first piece has gone (after the first wait for reclaim).
    setTimeout(() => detach(src.buffer as ArrayBuffer), 0)
    const err = await writing.then(() => undefined, (e) => e)
    // Four frames hold four folios: the write waits for reclaim long before its 64th folio.
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect(err).toBeInstanceOf(ZstashError)
    expect(err.bytesDone).toBeGreaterThan(0)
    expect(err.bytesDone).toBeLessThan(64 * 65536)
    const back = new Uint8Array(err.bytesDone)
    await r.readAsync(0, back)
    expect(back.every((x) => x === 3)).toBe(true)
    await cache.close()
  })
})
