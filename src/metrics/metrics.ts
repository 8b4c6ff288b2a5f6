/**
 * Prometheus metrics for a PageStore (and optionally its SwapCache), through
 * prom-client. Counters and gauges are read from stats() when scraped (collect
 * callbacks): no second set of counters to keep in step with the store's. One
 * stats() snapshot serves every metric of a scrape. Histograms are fed by the
 * StoreObserver this returns, which the store calls once per folio or batch.
 */
import client from 'prom-client'
import { InvalidArgumentError } from '../errors.js'
import type { PageStoreStats } from '../store/page-store.js'
import type { SwapCacheStats } from '../swapcache/swap-cache.js'
import { PAGE_SIZE, PageStatus } from '../codecs/status.js'
import { BatchHistogram } from './batch-histogram.js'
import { BACKEND_METRIC, HISTOGRAMS, STORE_METRICS, SWAPCACHE_METRICS, type LabelledStatsMetric, type StatsMetric } from './names.js'
import type { StoreObserver } from './observer.js'

export interface MetricsSource {
  stats(): PageStoreStats
}

export interface SwapCacheSource {
  stats(): SwapCacheStats
}

export interface MetricsOptions {
  /** Where to register; default: prom-client's global registry. */
  registry?: client.Registry
  /** Prepended to every metric name (e.g. 'app_'); default none, so the names are zswap's. */
  prefix?: string
  /** A PageStore, or anything with its stats(). */
  source: MetricsSource
  /** A SwapCache over the store: adds its memcg/vmstat-style counters. */
  swapCache?: SwapCacheSource
}

export interface StoreMetrics {
  readonly registry: client.Registry
  /** Give this to the store (PageStore's `observer` option, once the store takes it). */
  readonly observer: StoreObserver
  /** Metric names this registered. */
  readonly names: readonly string[]
  /** The text exposition of the registry. */
  text(): Promise<string>
  /** Removes this store's metrics from the registry. */
  unregister(): void
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/

export function createMetrics(options: MetricsOptions): StoreMetrics {
  if (!options || typeof options !== 'object') throw new InvalidArgumentError('createMetrics needs { source }')
  for (const k of Object.keys(options)) {
    if (!['registry', 'prefix', 'source', 'swapCache'].includes(k)) throw new InvalidArgumentError(`unknown option '${k}' in createMetrics options`, 'ERR_ZSTASH_UNKNOWN_OPTION')
  }
  const { source, swapCache } = options
  if (!source || typeof source.stats !== 'function') throw new InvalidArgumentError('createMetrics: source must have stats()')
  if (swapCache !== undefined && typeof swapCache.stats !== 'function') throw new InvalidArgumentError('createMetrics: swapCache must have stats()')
  const prefix = options.prefix ?? ''
  if (typeof prefix !== 'string' || (prefix && !NAME.test(prefix))) throw new InvalidArgumentError(`prefix '${String(prefix)}' is not a valid metric name prefix`)
  const registry = options.registry ?? client.register

  // One snapshot per scrape: the registry calls every collect() in one synchronous pass.
  let storeSnap: PageStoreStats | undefined
  let cacheSnap: SwapCacheStats | undefined
  const storeStats = (): PageStoreStats => {
    if (!storeSnap) {
      storeSnap = source.stats()
      queueMicrotask(() => { storeSnap = undefined })
    }
    return storeSnap
  }
  const cacheStats = (): SwapCacheStats => {
    if (!cacheSnap) {
      cacheSnap = swapCache!.stats()
      queueMicrotask(() => { cacheSnap = undefined })
    }
    return cacheSnap
  }

  const names: string[] = []
  const register = <S>(fields: (StatsMetric<S> | LabelledStatsMetric<S>)[], snapshot: () => S) => {
    const first = snapshot()
    for (const f of fields) {
      const labelled = 'label' in f
      if (f.read(first) === undefined) continue
      const labelNames = labelled ? [f.label] : []
      const config = {
        name: prefix + f.name, help: f.help, labelNames, registers: [registry],
        collect(this: client.Gauge | client.Counter) {
          const v = f.read(snapshot())
          this.reset()
          if (v === undefined) return
          if (typeof v === 'number') setValue(this, {}, v)
          else for (const [key, n] of Object.entries(v)) setValue(this, { [(f as LabelledStatsMetric<S>).label]: key }, n)
        },
      }
      if (f.kind === 'counter') new client.Counter(config)
      else new client.Gauge(config)
      names.push(config.name)
    }
  }
  let store!: BatchHistogram, load!: BatchHistogram, batch!: BatchHistogram, compressed!: BatchHistogram
  function registerRest(): void {
    new client.Gauge({
      name: prefix + BACKEND_METRIC.name, help: BACKEND_METRIC.help, labelNames: [...BACKEND_METRIC.labels], registers: [registry],
      collect() {
        const b = storeStats().backend
        this.reset()
        for (const [counter, v] of Object.entries(b.counters)) {
          if (typeof v === 'number') this.set({ backend: b.name, path: b.path, counter }, v)
        }
      },
    })
    names.push(prefix + BACKEND_METRIC.name)

    const histogram = (h: { name: string; help: string; buckets: readonly number[] }) => {
      const m = new BatchHistogram({ name: prefix + h.name, help: h.help, buckets: h.buckets, registers: [registry] })
      names.push(m.name)
      return m
    }
    store = histogram(HISTOGRAMS.store)
    load = histogram(HISTOGRAMS.load)
    batch = histogram(HISTOGRAMS.batch)
    compressed = histogram(HISTOGRAMS.compressed)
  }

  try {
    register(STORE_METRICS, storeStats)
    if (swapCache) register(SWAPCACHE_METRICS, cacheStats)
    registerRest()
  } catch (err) {
    for (const n of names) registry.removeSingleMetric(n)
    if ((err as Error).message?.includes('already been registered')) {
      throw new InvalidArgumentError(`${(err as Error).message} Give each store its own registry or prefix.`, 'ERR_ZSTASH_METRICS_REGISTERED')
    }
    throw err
  }

  const observer: StoreObserver = {
    observeStore: (seconds) => store.observe(seconds),
    observeLoad: (seconds) => load.observe(seconds),
    observeBatch: (pages) => batch.observe(pages),
    observeCompressed: (status, from, count) => {
      for (let i = from, end = from + count; i < end; i++) {
        const s = status[i]
        if (s > 0) compressed.observe(s)
        else if (s === PageStatus.Incompressible) compressed.observe(PAGE_SIZE)
      }
    },
  }

  // A source that takes an observer (PageStore) reports its stores, loads and batches to the histograms.
  const observed = source as { setObserver?: (o: StoreObserver | undefined) => void }
  observed.setObserver?.(observer)
  return {
    registry,
    observer,
    names,
    text: () => registry.metrics(),
    unregister() {
      for (const n of names) registry.removeSingleMetric(n)
      observed.setObserver?.(undefined)
    },
  }
}

function setValue(m: client.Gauge | client.Counter, labels: Record<string, string>, v: number): void {
  if (m instanceof client.Gauge) m.set(labels, v)
  else m.inc(labels, v)
}
