import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import client from 'prom-client'
import {
  PageStore, SwapCache, PAGE_SIZE, createMetrics, serveMetrics, NOOP_OBSERVER, InvalidArgumentError, loadNative,
  BatchHistogram, parseListen, isLoopback, type MetricsServer, type PageStoreStats, type StoreMetrics,
} from 'zstash/internals'
import { parsePrometheusText, sampleValue, type Family } from './helpers/prom-text.js'
import { readCorpusPages } from './helpers/corpus.js'

const FOLIO = 16

async function scrape(url: string): Promise<{ families: Map<string, Family>; contentType: string | null }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) })
  expect(res.status).toBe(200)
  return { families: parsePrometheusText(await res.text()), contentType: res.headers.get('content-type') }
}

describe('metrics endpoint over a live PageStore', () => {
  let store: PageStore
  let metrics: StoreMetrics
  let server: MetricsServer
  const registry = new client.Registry()
  const pages = readCorpusPages('node-2k', 256)
  const codec = loadNative().Codec

  // The store reports every store, load and compress batch to the observer createMetrics gave it.
  async function storeFolio(key: number, folio: Uint8Array): Promise<boolean> {
    return store.storeFolio(key, folio).then(() => true, () => false)
  }

  beforeAll(async () => {
    store = await PageStore.open({ compressor: 'lz4', workers: 1, storeIncompressible: false })
    metrics = createMetrics({ registry, source: store })
    server = await serveMetrics({ listen: '127.0.0.1:0', registry })
  }, 30_000)

  afterAll(async () => {
    await server?.close()
    metrics?.unregister()
    await store?.close()
  })

  it('serves the text format with every stats() counter and gauge under zswap\'s names', async () => {
    for (let f = 0; f < 8; f++) expect(await storeFolio(f * FOLIO, pages.subarray(f * FOLIO * PAGE_SIZE, (f + 1) * FOLIO * PAGE_SIZE))).toBe(true)
    // A zero folio (same-filled) and a random one (rejected: storeIncompressible is off).
    expect(await storeFolio(1000, new Uint8Array(FOLIO * PAGE_SIZE))).toBe(true)
    const random = new Uint8Array(FOLIO * PAGE_SIZE)
    for (let i = 0; i < random.length; i++) random[i] = (Math.random() * 256) | 0
    expect(await storeFolio(2000, random)).toBe(false)
    for (let k = 0; k < 20; k++) expect(await store.load(k)).toBeDefined()
    store.invalidate(5)

    const { families, contentType } = await scrape(server.url)
    const s: PageStoreStats = store.stats()
    expect(contentType).toBe(client.Registry.PROMETHEUS_CONTENT_TYPE)
    const expectMetric = (name: string, type: string, value: number, labels: Record<string, string> = {}) => {
      expect(families.get(name)?.type, name).toBe(type)
      expect(sampleValue(families, name, name, labels), `${name}${JSON.stringify(labels)}`).toBe(value)
    }
    expectMetric('zswap_stored_pages', 'gauge', s.stored_pages)
    expect(s.stored_pages).toBe(8 * FOLIO + FOLIO - 1)
    expectMetric('zswap_pool_total_size_bytes', 'gauge', s.pool_total_size)
    expectMetric('zswap_compressed_bytes', 'gauge', s.compressed_bytes)
    expectMetric('zswap_same_filled_pages', 'gauge', s.same_filled_pages)
    expect(s.same_filled_pages).toBeGreaterThanOrEqual(FOLIO) // the zero folio, and a few corpus pages
    expectMetric('zswap_stored_incompressible_pages', 'gauge', s.stored_incompressible_pages)
    expectMetric('zswpout_total', 'counter', s.zswpout)
    expectMetric('zswpin_total', 'counter', s.zswpin)
    expect(s.zswpin).toBe(20)
    expectMetric('zswap_pool_limit_hit_total', 'counter', s.pool_limit_hit)
    expectMetric('zswap_stores_in_flight', 'gauge', s.stores_in_flight)
    expectMetric('zswap_reserved_bytes', 'gauge', s.reserved_bytes)
    expectMetric('zswap_decompress_fail_total', 'counter', s.decompress_fail)
    expectMetric('zswpout_folios_total', 'counter', 9, { size: '64kB' })
    for (const reason of ['compress_fail', 'compress_poor', 'alloc_fail', 'backend_fail']) {
      const field = `reject_${reason}` as keyof PageStoreStats
      expectMetric('zswap_reject_total', 'counter', s[field] as number, { reason })
    }
    expect(s.reject_compress_poor).toBe(1)
    // No writeback in PageStore yet: the row exists in the table but is not exposed.
    expectMetric('zswap_written_back_pages_total', 'counter', s.written_back_pages)
    expectMetric('pswpin_total', 'counter', s.pswpin)
    expectMetric('zswap_backing_pages', 'gauge', s.tier_pages)
    // The worker pool's counters, labelled by backend, path and counter name.
    const backend = families.get('zswap_backend_counter')!
    expect(backend.type).toBe('gauge')
    for (const [counter, v] of Object.entries(s.backend.counters)) {
      expect(sampleValue(families, 'zswap_backend_counter', 'zswap_backend_counter', { backend: 'lz4', path: 'cpu', counter })).toBe(v)
    }
    expect(backend.samples.length).toBe(Object.keys(s.backend.counters).length)
    expect(backend.samples.length).toBeGreaterThan(3)

    // Histograms fed through the observer.
    expect(families.get('zswap_store_duration_seconds')?.type).toBe('histogram')
    expect(sampleValue(families, 'zswap_store_duration_seconds', 'zswap_store_duration_seconds_count')).toBe(10)
    expect(sampleValue(families, 'zswap_load_duration_seconds', 'zswap_load_duration_seconds_count')).toBe(20)
    expect(sampleValue(families, 'zswap_store_batch_pages', 'zswap_store_batch_pages_bucket', { le: '8' })).toBe(20)
    expect(sampleValue(families, 'zswap_store_batch_pages', 'zswap_store_batch_pages_sum')).toBe(10 * FOLIO)
    // Compressed sizes: corpus pages compressed, zero pages not counted, random pages as 4096.
    const sizes = families.get('zswap_compressed_size_bytes')!
    const count = sampleValue(families, 'zswap_compressed_size_bytes', 'zswap_compressed_size_bytes_count')!
    expect(count).toBeGreaterThanOrEqual(8 * FOLIO)
    expect(count).toBeLessThanOrEqual(9 * FOLIO)
    expect(count - sampleValue(families, 'zswap_compressed_size_bytes', 'zswap_compressed_size_bytes_bucket', { le: '4095' })!).toBe(FOLIO)
    expect(sizes.samples.every((x) => Number.isFinite(x.value))).toBe(true)
  }, 30_000)

  it('reads stats() at scrape time: counters follow the store', async () => {
    const before = (await scrape(server.url)).families
    await storeFolio(3000, pages.subarray(0, FOLIO * PAGE_SIZE))
    await store.load(3001)
    const after = (await scrape(server.url)).families
    const s = store.stats()
    expect(sampleValue(after, 'zswpout_total', 'zswpout_total')).toBe(sampleValue(before, 'zswpout_total', 'zswpout_total')! + FOLIO)
    expect(sampleValue(after, 'zswpin_total', 'zswpin_total')).toBe(s.zswpin)
    expect(sampleValue(after, 'zswap_stored_pages', 'zswap_stored_pages')).toBe(s.stored_pages)
  }, 30_000)

  it('answers only GET/HEAD /metrics', async () => {
    const base = server.url.replace(/\/metrics$/, '')
    expect((await fetch(`${base}/nope`)).status).toBe(404)
    expect((await fetch(server.url, { method: 'POST' })).status).toBe(405)
    const head = await fetch(server.url, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')
    expect((await fetch(`${base}/`)).status).toBe(200)
  })

  it('refuses a second registration of the same names, and a bad prefix', () => {
    expect(() => createMetrics({ registry, source: store })).toThrow(expect.objectContaining({ code: 'ERR_ZSTASH_METRICS_REGISTERED' }))
    // The failed attempt left the first registration intact.
    expect(registry.getSingleMetric('zswap_stored_pages')).toBeDefined()
    expect(() => createMetrics({ registry, source: store, prefix: '9bad' })).toThrow(InvalidArgumentError)
    expect(() => createMetrics({ source: {} as never })).toThrow(InvalidArgumentError)
    expect(() => createMetrics({ source: store, bogus: 1 } as never)).toThrow(expect.objectContaining({ code: 'ERR_ZSTASH_UNKNOWN_OPTION' }))
    const other = createMetrics({ registry, source: store, prefix: 'second_' })
    expect(other.names).toContain('second_zswap_stored_pages')
    other.unregister()
    expect(registry.getSingleMetric('second_zswap_stored_pages')).toBeUndefined()
  })
})

describe('metrics of a SwapCache', () => {
  it('adds the memcg/vmstat-style counters of the cache', async () => {
    const store = await PageStore.open({ compressor: 'lz4', workers: 0 })
    const cache = await SwapCache.create({ store, residentLimit: 1 << 20, folioSize: '64k' })
    const registry = new client.Registry()
    const m = createMetrics({ registry, source: store, swapCache: cache })
    const server = await serveMetrics({ listen: 0, registry })
    try {
      const region = cache.alloc(4 << 20)
      const data = readCorpusPages('py-2k', 1024)
      await region.writeAsync(0, data)
      const back = new Uint8Array(data.length)
      await region.readAsync(0, back)
      expect(Buffer.compare(back, data)).toBe(0)
      await cache.settle()
      const { families } = await scrape(server.url)
      const s = cache.stats()
      expect(s.memcg_high).toBeGreaterThan(0)
      expect(sampleValue(families, 'memcg_high_total', 'memcg_high_total')).toBe(s.memcg_high)
      expect(sampleValue(families, 'pgmajfault_total', 'pgmajfault_total')).toBe(s.pgmajfault)
      expect(sampleValue(families, 'swapcache_resident_bytes', 'swapcache_resident_bytes')).toBe(s.resident_bytes)
      expect(sampleValue(families, 'zswpout_total', 'zswpout_total')).toBe(s.store.zswpout)
      expect(families.get('pgmajfault_total')?.type).toBe('counter')
    } finally {
      await server.close()
      m.unregister()
      await cache.close()
      await store.close()
    }
  }, 30_000)
})

describe('device backend counters', () => {
  it('labels the simulated device\'s counters with its backend name and path', async () => {
    const store = await PageStore.open({ compressor: 'sim' })
    const registry = new client.Registry()
    const m = createMetrics({ registry, source: store })
    try {
      await store.storeFolio(0, readCorpusPages('node-2k', 64))
      const f = parsePrometheusText(await m.text())
      const s = store.stats()
      expect(s.backend.path).toBe('simulated')
      const counters = Object.entries(s.backend.counters)
      expect(counters.length).toBeGreaterThan(3)
      for (const [counter, v] of counters) {
        expect(sampleValue(f, 'zswap_backend_counter', 'zswap_backend_counter', { backend: 'sim', path: 'simulated', counter })).toBe(v)
      }
    } finally {
      m.unregister()
      await store.close()
    }
  }, 30_000)
})

describe('a new stats() field is one table row', () => {
  it('exposes zswap_written_back_pages_total when the source has written_back_pages', async () => {
    const registry = new client.Registry()
    let written = 7
    const base = { backend: { name: 'x', path: 'cpu', counters: {} }, zswpout_folios: {} }
    const m = createMetrics({ registry, source: { stats: () => ({ ...base, written_back_pages: written, reject_reclaim_fail: 2 }) as never } })
    let f = parsePrometheusText(await registry.metrics())
    expect(f.get('zswap_written_back_pages_total')?.type).toBe('counter')
    expect(sampleValue(f, 'zswap_written_back_pages_total', 'zswap_written_back_pages_total')).toBe(7)
    expect(sampleValue(f, 'zswap_reject_total', 'zswap_reject_total', { reason: 'reclaim_fail' })).toBe(2)
    written = 9
    f = parsePrometheusText(await registry.metrics())
    expect(sampleValue(f, 'zswap_written_back_pages_total', 'zswap_written_back_pages_total')).toBe(9)
    m.unregister()
  })
})

describe('serveMetrics', () => {
  it('binds loopback only unless told otherwise', async () => {
    await expect(serveMetrics({ listen: '0.0.0.0:0', registry: new client.Registry() })).rejects.toMatchObject({ code: 'ERR_ZSTASH_METRICS_REMOTE' })
    await expect(serveMetrics({ listen: 'example.org:9464', registry: new client.Registry() })).rejects.toMatchObject({ code: 'ERR_ZSTASH_METRICS_REMOTE' })
    await expect(serveMetrics({ listen: 'nope' })).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(serveMetrics({ listen: '127.0.0.1:70000' })).rejects.toMatchObject({ code: 'ERR_ZSTASH_OUT_OF_RANGE' })
    const v6 = await serveMetrics({ listen: '[::1]:0', registry: new client.Registry() }).catch(() => undefined)
    if (v6) {
      expect(v6.url).toMatch(/^http:\/\/\[::1\]:\d+\/metrics$/)
      await v6.close()
    }
  })

  it('parses listen addresses', () => {
    expect(parseListen('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 })
    expect(parseListen('[::1]:80')).toEqual({ host: '::1', port: 80 })
    expect(parseListen(9464)).toEqual({ host: '127.0.0.1', port: 9464 })
    expect(parseListen('localhost:1')).toEqual({ host: 'localhost', port: 1 })
    expect(isLoopback('127.0.0.2')).toBe(true)
    expect(isLoopback('10.0.0.1')).toBe(false)
    expect(isLoopback('::1')).toBe(true)
  })
})

describe('BatchHistogram', () => {
  it('matches a direct count of the observations (property)', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.double({ min: -10, max: 5000, noNaN: true }), { maxLength: 200 }), async (values) => {
      const buckets = [0, 1, 10, 100, 1000]
      const h = new BatchHistogram({ name: 'h', help: 'h', buckets })
      for (const v of values) h.observe(v)
      const got = await h.get()
      for (const [i, le] of buckets.entries()) {
        expect(got.values[i].value).toBe(values.filter((v) => v <= le).length)
      }
      expect(got.values.find((x) => x.metricName === 'h_count')!.value).toBe(values.length)
      expect(got.values.find((x) => x.metricName === 'h_sum')!.value).toBeCloseTo(values.reduce((a, b) => a + b, 0), 6)
    }), { numRuns: 100 })
  })

  it('the no-op observer accepts every call', () => {
    NOOP_OBSERVER.observeStore(1, 1)
    NOOP_OBSERVER.observeCompressed(new Int32Array(1), 0, 1)
    expect(Object.isFrozen(NOOP_OBSERVER)).toBe(true)
  })
})

describe('the strict text parser', () => {
  it('rejects malformed expositions', () => {
    const bad = [
      'x 1\n', // no TYPE/HELP
      '# TYPE x counter\nx -1\n', // negative counter
      '# TYPE x gauge\nx{a="b} 1\n', // unterminated
      '# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\nx{a="1"} 2\n', // split family
      '# TYPE x gauge\nx 1\nx 2\n', // duplicate series
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n', // not cumulative
      '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n', // +Inf ≠ count
      '# TYPE x gauge\nx one\n',
      '# TYPE x gauge\nx 1',
    ]
    for (const text of bad) expect(() => parsePrometheusText(text), text).toThrow()
    expect(parsePrometheusText('# HELP x a\n# TYPE x gauge\nx{a="q\\"\\n"} 1.5e3\n').get('x')!.samples[0]).toEqual({ name: 'x', labels: { a: 'q"\n' }, value: 1500 })
  })
})
