/**
 * Operating a store live (docs/recompress.md): the compressor changes while
 * stores are in flight and every old entry stays readable; recompression
 * rewrites pages smaller in background batches and never undoes a later
 * call; a dictionary trained from the stored pages is used for new stores and
 * kept while any object needs it.
 */
import { describe, expect, it } from 'vitest'
import { PageStore, PAGE_SIZE, InvalidArgumentError } from 'zstash/internals'
import { readCorpusPages } from './helpers/corpus.js'
import { storesClosedAfterEach } from './helpers/open-stores.js'

const { open } = storesClosedAfterEach()

const node = readCorpusPages('node-2k', 2048)
const py = readCorpusPages('py-2k', 512)
const folio = (pages: Uint8Array, k: number, n = 16) => pages.subarray(k * PAGE_SIZE, (k + n) * PAGE_SIZE)

async function expectAll(store: PageStore, pages: Uint8Array, n: number): Promise<void> {
  for (let k = 0; k < n; k++) expect(Buffer.compare(store.loadSync(k)!, folio(pages, k, 1)), `key ${k}`).toBe(0)
  const r = await store.loadMany(Array.from({ length: n }, (_, i) => i))
  expect(Buffer.compare(r.pages, pages.subarray(0, n * PAGE_SIZE))).toBe(0)
}

describe('setCompressor', () => {
  it.each([0, 2])('switches while stores are in flight; old entries stay readable; counts per compressor (workers: %i)', async (workers) => {
    const store = await open({ compressor: 'lz4', workers })
    const pending: Promise<void>[] = []
    for (let k = 0; k < 256; k += 16) pending.push(store.storeFolio(k, folio(node, k)))
    const switching = store.setCompressor('zstd', { level: 3 })
    for (let k = 256; k < 512; k += 16) pending.push(store.storeFolio(k, folio(node, k)))
    await switching
    for (let k = 512; k < 768; k += 16) pending.push(store.storeFolio(k, folio(node, k)))
    await store.setCompressor('deflate-4k')
    for (let k = 768; k < 1024; k += 16) pending.push(store.storeFolio(k, folio(node, k)))
    await Promise.all(pending)
    await expectAll(store, node, 1024)
    const s = store.stats()
    expect(s.compressor_switches).toBe(2)
    const names = s.compressors.map((c) => c.name)
    expect(names).toEqual(expect.arrayContaining(['lz4', 'zstd', 'deflate-4k']))
    expect(s.compressors.find((c) => c.current)!.name).toBe('deflate-4k')
    expect(s.compressors.reduce((n, c) => n + c.objects, 0)).toBe(s.pool.objects)
    expect(s.compressors.reduce((n, c) => n + c.bytes, 0)).toBe(s.pool.object_bytes)
    expect(store.info.name).toBe('deflate-4k')
  })

  it('switches between a device and CPU codecs; a device batch decoder leaves other formats to the CPU', async () => {
    const store = await open({ compressor: 'sim', device: { engines: 2, latencyUs: 10 } })
    await store.storeFolio(0, folio(node, 0, 128))
    await store.setCompressor('lz4', { level: 1 })
    await store.storeFolio(128, folio(node, 128, 128))
    await expectAll(store, node, 256)
    await store.setCompressor('sim')
    await expectAll(store, node, 256)
  })

  it('rejects unknown compressors, levels and options with typed errors, and nothing changes', async () => {
    const store = await open({ compressor: 'lz4', workers: 0 })
    await expect(store.setCompressor('brotli')).rejects.toMatchObject({ code: 'ERR_ZSTASH_UNKNOWN_COMPRESSOR' })
    await expect(store.setCompressor('zstd', { level: 99 })).rejects.toMatchObject({ code: 'ERR_ZSTASH_OUT_OF_RANGE' })
    await expect(store.setCompressor('zstd', { lvl: 3 } as never)).rejects.toMatchObject({ code: 'ERR_ZSTASH_UNKNOWN_OPTION' })
    await expect(store.setCompressor('deflate', { dictionary: true })).rejects.toBeInstanceOf(InvalidArgumentError)
    expect(store.info.name).toBe('lz4')
  })
})

describe('recompress', () => {
  it.each([0, 2])('rewrites pages with a stronger compressor, keeping only what shrank (workers: %i)', async (workers) => {
    const store = await open({ compressor: 'lz4', workers })
    for (let k = 0; k < 512; k += 16) await store.storeFolio(k, folio(node, k))
    const before = store.stats()
    const r = await store.recompress({ compressor: 'zstd', level: 9 })
    const after = store.stats()
    expect(r.pages).toBeGreaterThan(400)
    expect(r.savedBytes).toBe(before.pool.object_bytes - after.pool.object_bytes)
    expect(after.recompressed_pages).toBe(r.pages)
    expect(after.recompress_saved_bytes).toBe(r.savedBytes)
    expect(after.recompressed_pages + after.recompress_kept).toBe(before.pool.objects)
    await expectAll(store, node, 512)
    // Nothing left to do: everything is zstd or did not shrink.
    expect((await store.recompress({ compressor: 'zstd', level: 9 })).pages).toBe(0)
  })

  it('incompressibleOnly takes raw pages only (zram huge): some of the py heap shrinks with zstd', async () => {
    const store = await open({ compressor: 'lz4', workers: 0 })
    for (let k = 0; k < 512; k += 16) await store.storeFolio(k, folio(py, k))
    const raw = store.stats().stored_incompressible_pages
    expect(raw).toBeGreaterThan(0)
    const r = await store.recompress({ compressor: 'zstd', level: 3, incompressibleOnly: true })
    expect(r.pages + store.stats().recompress_kept).toBe(raw)
    expect(store.stats().stored_incompressible_pages).toBe(raw - r.pages)
    await expectAll(store, py, 512)
  })

  it('a store or invalidate issued while a batch is recoded wins', async () => {
    const store = await open({ compressor: 'lz4', workers: 2 })
    for (let k = 0; k < 256; k += 16) await store.storeFolio(k, folio(node, k))
    const running = store.recompress({ compressor: 'zstd', level: 19 })
    const fresh = folio(node, 1000, 4)
    await store.storeFolio(8, fresh)
    expect(store.invalidate(40)).toBe(true)
    await running
    expect(Buffer.compare((await store.loadMany([8, 9, 10, 11])).pages, fresh)).toBe(0)
    expect(store.has(40)).toBe(false)
    for (const k of [0, 100, 255]) expect(Buffer.compare(store.loadSync(k)!, folio(node, k, 1))).toBe(0)
  })
})

describe('trained dictionaries', () => {
  it.each([0, 2])('trains from stored pages, compresses new stores with it, and keeps it while objects use it (workers: %i)', async (workers) => {
    const store = await open({ compressor: 'zstd', level: 3, workers })
    for (let k = 0; k < 1024; k += 16) await store.storeFolio(k, folio(node, k))
    await store.setCompressor('zstd', { level: 3, dictionary: true })
    for (let k = 1024; k < 2048; k += 16) await store.storeFolio(k, folio(node, k))
    let s = store.stats()
    expect(s.dictionaries_trained).toBe(1)
    const dict = s.compressors.find((c) => c.name.startsWith('zstd+dict'))!
    expect(dict.current).toBe(true)
    expect(dict.objects).toBeGreaterThan(900)
    await expectAll(store, node, 2048)
    // Recompressing the older pages into the dictionary's slot saves bytes.
    const r = await store.recompress({ maxPages: 1024 })
    expect(r.savedBytes).toBeGreaterThan(0)
    await expectAll(store, node, 2048)
    // Retired (another compressor) and unused (all its objects gone): the dictionary is dropped.
    await store.setCompressor('lz4')
    for (let k = 0; k < 2048; k++) store.invalidate(k)
    s = store.stats()
    expect(s.compressors.some((c) => c.name.startsWith('zstd+dict'))).toBe(false)
  })

  it('uses a dictionary the caller gives', async () => {
    const store = await open({ compressor: 'zstd', workers: 0 })
    const source = await open({ compressor: 'zstd', workers: 0 })
    for (let k = 0; k < 512; k += 16) await source.storeFolio(k, folio(node, k))
    await source.setCompressor('zstd', { dictionary: true })
    // A dictionary from elsewhere: the raw sample bytes themselves work as a content dictionary.
    await store.setCompressor('zstd', { dictionary: node.slice(0, 32 * 1024) })
    for (let k = 0; k < 256; k += 16) await store.storeFolio(k, folio(node, k))
    await expectAll(store, node, 256)
  })
})
