/**
 * A PageStore whose tier below the pool is a real 3-master Redis Cluster on
 * loopback (started here, stopped in afterAll): stores past the pool limit
 * write cold pages back to the cluster, every page reads back exactly
 * (non-exclusive, then exclusive), and the tier's counters add up. Then usemem
 * with --backing cluster:… and a skewed re-read, every byte verified.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PageStore, PAGE_SIZE } from 'zstash/internals'
import { resolveUsemem, runUsemem, silentIo, parseUsememArgs } from '../dist/src/usemem/index.js'
import { startRedisCluster, redisServerAvailable, type RedisCluster } from './helpers/redis-cluster.js'
import { readCorpusPages } from './helpers/corpus.js'

const available = redisServerAvailable()
const PASSWORD = 'tier-secret'
const PAGES = 2048
// 256 pages, as test/writeback.test.ts: with 128 a folio whose objects each open a new slab (writeback emptied their
// size classes) can need more pages than the pool slack allows and is rejected (a known limit of tiny pools).
const POOL_PAGES = 256

describe.skipIf(!available)('PageStore with a cluster backing store', () => {
  let cluster: RedisCluster
  const pages = readCorpusPages('node-2k', PAGES)

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, password: PASSWORD })
  }, 60_000)

  afterAll(async () => {
    await cluster?.stop()
  }, 60_000)

  it('stores past the pool limit and reads every page back exactly', async () => {
    const store = await PageStore.open({
      compressor: 'lz4', workers: 0, maxPoolBytes: POOL_PAGES * PAGE_SIZE,
      backing: { type: 'cluster', nodes: cluster.nodes, password: PASSWORD },
    })
    try {
      for (let k = 0; k < PAGES; k += 16) await store.storeFolio(k, pages.subarray(k * PAGE_SIZE, (k + 16) * PAGE_SIZE))
      const s = store.stats()
      expect(s.stored_pages).toBe(PAGES)
      expect(s.written_back_pages).toBeGreaterThan(PAGES / 2)
      expect(s.pswpout).toBe(s.written_back_pages)
      expect(s.tier_pages).toBe(s.backing!.objects)
      expect(s.backing!.type).toBe('cluster')
      // Encrypted and authenticated by default on a shared cluster.
      expect(s.backing!.sealing).not.toBe('none')
      expect(s.writeback_fail + s.backing_load_fail + s.reject_reclaim_fail).toBe(0)
      const keys = Array.from({ length: PAGES }, (_, i) => i)
      const again = await store.loadMany(keys)
      expect(again.count).toBe(PAGES)
      expect(Buffer.compare(again.pages, pages)).toBe(0)
      const mid = store.stats()
      // Every page came from one tier or the other.
      expect(mid.pswpin).toBeGreaterThan(0)
      expect(mid.zswpin + mid.pswpin).toBe(PAGES)
      const taken = await store.loadMany(keys, { exclusive: true })
      expect(taken.count).toBe(PAGES)
      expect(Buffer.compare(taken.pages, pages)).toBe(0)
      const end = store.stats()
      expect(end.stored_pages).toBe(0)
      expect(end.tier_pages).toBe(0)
      expect(end.zswpin + end.pswpin).toBe(2 * PAGES)
    } finally {
      await store.close()
    }
  }, 60_000)

  it('runs usemem --backing cluster:… with a skewed re-read, every byte verified', async () => {
    const parsed = parseUsememArgs(['--pool-limit', '256k', '--backing', `cluster:${cluster.nodes.join(',')}`, '--backing-password', PASSWORD, '16m'])
    const r = await runUsemem(resolveUsemem({
      ...parsed, tasks: 1, limit: 2 << 20, folio: '4k', workers: 0, verify: true, reread: 1, rereadPattern: 'skew',
    }), silentIo)
    expect(r.verify?.ok).toBe(true)
    expect(r.tier!.backing).toBe(`cluster:${cluster.nodes.join(',')} (password set)`)
    expect(JSON.stringify(r)).not.toContain(PASSWORD)
    expect(r.tier!.written_back_pages).toBeGreaterThan(0)
    expect(r.reread!.pswpin).toBeGreaterThan(0)
    expect(r.tier!.writeback_fail + r.tier!.backing_load_fail + r.tier!.reject_reclaim_fail).toBe(0)
  }, 60_000)
})
