/**
 * The cluster backing store against a real 3-master Redis Cluster on loopback,
 * started here and stopped in afterAll: round trips of real pages, one MGET per
 * batch, ciphertext on the server, tampered / swapped / stale / foreign values,
 * two stores on one cluster, batched deletes, a node down (SIGKILL) and paused
 * (SIGSTOP), reconnection, close in flight, AUTH and ACL errors; and TLS on a
 * second, TLS-only cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from 'ioredis'
import { tier, BackingStoreError, ClosedError } from 'zstash/internals'
import { startRedisCluster, redisServerAvailable, type RedisCluster } from './helpers/redis-cluster.js'
import { compressedCorpus, putBatchOf, getBatchOf, slot, type CompressedPages } from './helpers/tier.js'

const { GetStatus } = tier
const available = redisServerAvailable()
const PASSWORD = 'default-secret'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i)

it.runIf(process.env.CI === 'true')('redis-server and redis-cli are installed (scripts/setup.sh)', () => {
  expect(available).toBe(true)
})

describe.skipIf(!available)('cluster store', () => {
  let cluster: RedisCluster
  let raw: Cluster
  let corpus: CompressedPages
  const open: tier.BackingStore[] = []

  const openStore = async (extra: Partial<tier.ClusterBackingOptions> = {}) => {
    const s = await tier.openBackingStore({ type: 'cluster', nodes: cluster.nodes, password: PASSWORD, ...extra }) as tier.ClusterStore
    open.push(s)
    return s
  }
  /** Index (into cluster.nodes) of the master holding a key. */
  const ownerOf = async (key: string) => {
    const slotNo = await raw.cluster('KEYSLOT', key) as number
    return cluster.nodes.indexOf(raw.slots[slotNo][0])
  }
  const putAll = async (store: tier.BackingStore, indexes: number[], batch: number) => {
    const locators = new Uint32Array(indexes.length)
    for (let s = 0; s < indexes.length; s += batch) locators.set(await store.putMany(putBatchOf(corpus, indexes.slice(s, s + batch))), s)
    return locators
  }
  const expectObject = (r: tier.GetResult, into: Uint8Array, k: number, page: number) => {
    expect(r.status[k]).toBe(corpus.lengths[page])
    expect(Buffer.compare(slot(into, k, corpus.lengths[page]), corpus.object(page))).toBe(0)
    expect(r.tags[k]).toBe((page ^ 0x5a5a) >>> 0)
    expect(r.checksums[k]).toBe(~page >>> 0)
  }

  beforeAll(async () => {
    corpus = compressedCorpus(2048)
    cluster = await startRedisCluster({
      masters: 3,
      password: PASSWORD,
      aclUsers: [
        { name: 'zs', password: 'zs-secret', rules: '~zstash:* +@all' },
        { name: 'outsider', password: 'o-secret', rules: '~elsewhere:* +@all' },
      ],
    })
    raw = new Cluster(cluster.nodes, { redisOptions: { password: PASSWORD } })
    await raw.ping()
  }, 60_000)

  afterAll(async () => {
    for (const s of open) await s.close().catch(() => {})
    raw?.disconnect()
    await cluster?.stop()
  }, 60_000)

  it('round-trips real pages across 3 masters; a batch is one MGET and the cluster holds only ciphertext', async () => {
    const store = await openStore({ username: 'zs', password: 'zs-secret' })
    const all = range(0, 1024)
    const locators = await putAll(store, all, 64)
    let st = store.stats()
    expect(st.put_batches).toBe(16)
    expect(st.objects).toBe(1024)
    expect(st.sealing).toBe('aes-256-gcm')
    // A batch's keys share a hash tag: one slot, one node.
    const keys = Array.from(locators.subarray(0, 64), (l) => store.keyOf(l)!)
    expect(new Set(await Promise.all(keys.map(ownerOf))).size).toBe(1)
    expect(keys[0]).toMatch(new RegExp(`^zstash:\\{${store.namespace}\\.[0-9a-z]+\\}[0-9a-z]+$`))
    // Batches spread over the masters.
    const owners = await Promise.all(range(0, 16).map((b) => ownerOf(store.keyOf(locators[b * 64])!)))
    expect(new Set(owners).size).toBeGreaterThan(1)

    // Readahead of one batch's neighbours: one MGET.
    const before = store.stats().get_reads
    const g = getBatchOf(locators.subarray(64, 128), range(64, 128).map((i) => 100_000 + i))
    const r = await store.getMany(g)
    expect(store.stats().get_reads - before).toBe(1)
    expect(r.failures).toBe(0)
    range(64, 128).forEach((page, k) => expectObject(r, g.into, k, page))
    // Everything, scrambled, in batches spanning many writeback batches and nodes.
    const order = [...all].sort((a, b) => ((a * 7919) % 1024) - ((b * 7919) % 1024))
    for (let s = 0; s < order.length; s += 512) {
      const part = order.slice(s, s + 512)
      const gb = getBatchOf(part.map((i) => locators[i]), part.map((i) => 100_000 + i))
      const rb = await store.getMany(gb)
      part.forEach((page, k) => expectObject(rb, gb.into, k, page))
    }
    // The server holds record = payload + 24 bytes of ciphertext; no window of the plaintext.
    const value = (await raw.getBuffer(keys[3]))!
    expect(value.length).toBe(corpus.lengths[3] + 24)
    const plain = Buffer.from(corpus.object(3))
    for (let at = 0; at + 16 <= plain.length; at += 16) expect(value.indexOf(plain.subarray(at, at + 16))).toBe(-1)
    st = store.stats()
    expect(st.record_bytes).toBe(st.payload_bytes + 24 * 1024)
    expect(st.cluster!.nodes).toBe(3)
  })

  it('fails tampered, swapped, stale and foreign values loudly; two stores cannot read each other', async () => {
    const a = await openStore()
    const b = await openStore()
    expect(a.namespace).not.toBe(b.namespace)
    const la = await a.putMany(putBatchOf(corpus, [10, 11, 12]))
    const lb = await b.putMany(putBatchOf(corpus, [13]))
    const check = async (store: tier.BackingStore, loc: number, page: number, want: number) => {
      const g = getBatchOf([loc], [100_000 + page])
      const r = await store.getMany(g)
      expect(r.status[0]).toBe(want)
      if (want < 0) expect(slot(g.into, 0, corpus.lengths[page]).every((x) => x === 0xee || x === 0)).toBe(true)
    }
    const k0 = a.keyOf(la[0])!
    const v0 = (await raw.getBuffer(k0))!
    await check(a, la[0], 10, corpus.lengths[10])

    // Tampered: one bit.
    const flipped = Buffer.from(v0)
    flipped[flipped.length >> 1] ^= 1
    await raw.set(k0, flipped)
    await check(a, la[0], 10, GetStatus.CORRUPT)
    // Swapped: page 11's value under page 10's key.
    await raw.set(k0, (await raw.getBuffer(a.keyOf(la[1])!))!)
    await check(a, la[0], 10, GetStatus.CORRUPT)
    await raw.set(k0, v0)
    await check(a, la[0], 10, corpus.lengths[10])

    // Stale: page 12 deleted and written back again (same locator, new batch, new key);
    // the older value replayed under the new key must fail.
    const old12 = (await raw.getBuffer(a.keyOf(la[2])!))!
    expect(a.deleteMany(la.subarray(2, 3))).toBe(1)
    await a.flush()
    const [again] = await a.putMany(putBatchOf(corpus, [12]))
    expect(again).toBe(la[2])
    await raw.set(a.keyOf(again)!, old12)
    await check(a, again, 12, GetStatus.CORRUPT)

    // Foreign: store B's value under store A's key.
    await raw.set(a.keyOf(la[1])!, (await raw.getBuffer(b.keyOf(lb[0])!))!)
    await check(a, la[1], 11, GetStatus.CORRUPT)
    // B asked for A's locators reads its own table: never A's bytes.
    const g = getBatchOf(la, [100_010, 100_011, 100_012])
    const r = await b.getMany(g)
    for (let k = 0; k < 3; k++) expect(r.status[k]).toBeLessThan(0)
    expect(a.stats().failures.corrupt).toBe(4)
    await a.close()
    await b.close()
  })

  it('batches deletions into UNLINKs and deletes every key of the store at close', async () => {
    const store = await openStore({ deleteBatch: 64, deleteDelayMs: 5 })
    const locs = await putAll(store, range(0, 200), 50)
    const keys = Array.from(locs, (l) => store.keyOf(l)!)
    expect(store.deleteMany(locs.subarray(0, 100))).toBe(100)
    // Gone from the store's view at once…
    const g = getBatchOf(locs.subarray(0, 4), [100_000, 100_001, 100_002, 100_003])
    expect([...(await store.getMany(g)).status]).toEqual([GetStatus.MISSING, GetStatus.MISSING, GetStatus.MISSING, GetStatus.MISSING])
    // …and from the cluster after the flush.
    await store.flush()
    expect(store.stats().pending_deletes).toBe(0)
    expect(await raw.exists(...keys.slice(0, 1))).toBe(0)
    let left = 0
    for (const k of keys.slice(0, 100)) left += await raw.exists(k)
    expect(left).toBe(0)
    left = 0
    for (const k of keys.slice(100)) left += await raw.exists(k)
    expect(left).toBe(100)
    await store.close()
    left = 0
    for (const k of keys.slice(100)) left += await raw.exists(k)
    expect(left).toBe(0)
  })

  it('a node that is down fails its objects as UNAVAILABLE, the rest load, and the store reconnects when it is back', async () => {
    const store = await openStore({ commandTimeoutMs: 500 })
    const locs = await putAll(store, range(0, 240), 8)
    const batchOwner = await Promise.all(range(0, 30).map((b) => ownerOf(store.keyOf(locs[b * 8])!)))
    const victim = batchOwner[0]
    const onVictim = (k: number) => batchOwner[Math.floor(k / 8)] === victim
    cluster.signal(victim, 'SIGKILL')
    try {
      await sleep(100)
      const g = getBatchOf(locs, range(0, 240).map((i) => 100_000 + i))
      const t0 = Date.now()
      const r = await store.getMany(g)
      expect(Date.now() - t0).toBeLessThan(5000) // bounded, not a timing claim: the host is shared
      let down = 0
      for (let k = 0; k < 240; k++) {
        if (onVictim(k)) { expect(r.status[k]).toBe(GetStatus.UNAVAILABLE); down++ } else expectObject(r, g.into, k, k)
      }
      expect(down).toBeGreaterThan(0)
      expect(down).toBeLessThan(240)
      expect(store.stats().failures.unavailable).toBe(down)
      expect(tier.statusReason(GetStatus.UNAVAILABLE)).toBe('unavailable')

      // Writebacks whose batch lands on the dead node fail as a whole, typed, leaving nothing.
      let failed = 0
      for (let t = 0; t < 40 && failed === 0; t++) { // a batch lands on the dead node with p = 1/3
        const before = store.stats().objects
        const err = await store.putMany(putBatchOf(corpus, range(300, 308))).then(() => undefined, (e) => e)
        if (err) {
          expect(err).toBeInstanceOf(BackingStoreError)
          expect(err.code).toBe('ERR_ZSTASH_BACKING_STORE')
          expect(err.reason).toBe('unavailable')
          expect(store.stats().objects).toBe(before)
          failed++
        }
      }
      expect(failed).toBe(1)
      expect(store.stats().put_failures).toBe(1)
    } finally {
      await cluster.restart(victim)
    }
    await cluster.waitOk()
    // Reconnection is automatic: objects on the other nodes load, the restarted node's objects
    // are gone (no persistence, no replica) and read as MISSING, never as other bytes, and new
    // writebacks reach it again.
    let landed = false
    for (let t = 0; t < 100 && !landed; t++) {
      const l = await store.putMany(putBatchOf(corpus, range(400, 404))).catch(() => undefined)
      if (l && await ownerOf(store.keyOf(l[0])!) === victim) {
        const g = getBatchOf(l, range(400, 404).map((i) => 100_000 + i))
        const r = await store.getMany(g)
        range(400, 404).forEach((page, k) => expectObject(r, g.into, k, page))
        landed = true
      }
      if (!landed) await sleep(50)
    }
    expect(landed).toBe(true)
    const g = getBatchOf(locs, range(0, 240).map((i) => 100_000 + i))
    const r = await store.getMany(g)
    for (let k = 0; k < 240; k++) {
      if (onVictim(k)) expect(r.status[k]).toBe(GetStatus.MISSING)
      else expectObject(r, g.into, k, k)
    }
    await store.close()
  })

  it('a paused node (SIGSTOP) fails its objects as TIMEOUT within the command timeout, then recovers', async () => {
    const store = await openStore({ commandTimeoutMs: 300 })
    const locs = await putAll(store, range(0, 160), 8)
    const batchOwner = await Promise.all(range(0, 20).map((b) => ownerOf(store.keyOf(locs[b * 8])!)))
    const victim = batchOwner[0]
    // Opened before the pause: connecting needs a slot map, and a paused seed node can
    // make that time out (typed and bounded, but not what this test is about).
    const other = await openStore({ commandTimeoutMs: 300 })
    cluster.signal(victim, 'SIGSTOP')
    try {
      const g = getBatchOf(locs, range(0, 160).map((i) => 100_000 + i))
      const t0 = Date.now()
      const r = await store.getMany(g)
      expect(Date.now() - t0).toBeLessThan(5000) // 300 ms timeout; bounded, not a timing claim
      let paused = 0
      for (let k = 0; k < 160; k++) {
        if (batchOwner[Math.floor(k / 8)] === victim) { expect(r.status[k]).toBe(GetStatus.TIMEOUT); paused++ } else expectObject(r, g.into, k, k)
      }
      expect(store.stats().failures.timeout).toBe(paused)
      // A close now settles every call in flight (a read of the paused node included).
      const otherLocs = await other.putMany(putBatchOf(corpus, range(0, 8))).catch(() => undefined)
      const inflight = [
        other.getMany(getBatchOf(locs.subarray(0, 8), range(0, 8).map((i) => 100_000 + i))),
        other.putMany(putBatchOf(corpus, range(8, 16))),
        ...(otherLocs ? [other.getMany(getBatchOf(otherLocs, range(0, 8).map((i) => 100_000 + i)))] : []),
      ]
      const t1 = Date.now()
      const closing = other.close()
      const settled = await Promise.allSettled(inflight)
      await closing
      expect(Date.now() - t1).toBeLessThan(10_000)
      for (const s of settled) if (s.status === 'rejected') expect(s.reason).toBeInstanceOf(ClosedError)
      await expect(other.getMany(getBatchOf([1], [1]))).rejects.toBeInstanceOf(ClosedError)
    } finally {
      cluster.signal(victim, 'SIGCONT')
    }
    let ok = false
    for (let t = 0; t < 60 && !ok; t++) {
      const g = getBatchOf(locs.subarray(0, 8), range(0, 8).map((i) => 100_000 + i))
      const r = await store.getMany(g)
      ok = r.failures === 0
      if (ok) range(0, 8).forEach((page, k) => expectObject(r, g.into, k, page))
      else await sleep(100)
    }
    expect(ok).toBe(true)
    await store.close()
  })

  it('types AUTH and ACL failures', async () => {
    const wrong = await tier.openBackingStore({ type: 'cluster', nodes: cluster.nodes, password: 'nope', connectTimeoutMs: 500 }).catch((e) => e)
    expect(wrong).toBeInstanceOf(BackingStoreError)
    expect(wrong.reason).toBe('auth')
    const none = await tier.openBackingStore({ type: 'cluster', nodes: cluster.nodes, connectTimeoutMs: 500 }).catch((e) => e)
    expect(none).toBeInstanceOf(BackingStoreError)
    expect(none.reason).toBe('auth')
    // An ACL user whose key pattern excludes the store's prefix: connects, but every write is refused.
    const outsider = await openStore({ username: 'outsider', password: 'o-secret' })
    const err = await outsider.putMany(putBatchOf(corpus, [1, 2])).catch((e) => e)
    expect(err).toBeInstanceOf(BackingStoreError)
    expect(err.reason).toBe('auth')
    expect(outsider.stats().failures.auth).toBe(2) // objects
    expect(outsider.stats().objects).toBe(0)
    await outsider.close()
    // The same user with a prefix its ACL allows works.
    const insider = await openStore({ username: 'outsider', password: 'o-secret', prefix: 'elsewhere' })
    const l = await insider.putMany(putBatchOf(corpus, [1, 2]))
    expect(insider.keyOf(l[0])!.startsWith('elsewhere:{')).toBe(true)
    await insider.close()
  })

  it('cannot reach a cluster that is not there: typed, bounded', async () => {
    const t0 = Date.now()
    const err = await tier.openBackingStore({ type: 'cluster', nodes: ['127.0.0.1:1'], connectTimeoutMs: 300 }).catch((e) => e)
    expect(err).toBeInstanceOf(BackingStoreError)
    expect(err.reason).toBe('unavailable')
    expect(Date.now() - t0).toBeLessThan(5000)
  })
})

describe.skipIf(!available)('cluster store over TLS', () => {
  let cluster: RedisCluster
  let corpus: CompressedPages

  beforeAll(async () => {
    corpus = compressedCorpus(64)
    cluster = await startRedisCluster({ masters: 3, tls: true, password: PASSWORD })
  }, 60_000)
  afterAll(async () => { await cluster?.stop() }, 60_000)

  it('passes TLS options through to every node, and cannot connect without them', async () => {
    const store = await tier.openBackingStore({ type: 'cluster', nodes: cluster.nodes, password: PASSWORD, tls: { ca: cluster.tlsCa } }) as tier.ClusterStore
    try {
      const locs = await store.putMany(putBatchOf(corpus, range(0, 32)))
      const g = getBatchOf(locs, range(0, 32).map((i) => 100_000 + i))
      const r = await store.getMany(g)
      expect(r.failures).toBe(0)
      range(0, 32).forEach((page, k) => expect(Buffer.compare(slot(g.into, k, r.status[k]), corpus.object(page))).toBe(0))
    } finally {
      await store.close()
    }
    for (const tls of [undefined, true] as const) { // plain TCP to a TLS port; TLS without our CA
      const err = await tier.openBackingStore({ type: 'cluster', nodes: cluster.nodes, password: PASSWORD, tls, connectTimeoutMs: 500 }).catch((e) => e)
      expect(err).toBeInstanceOf(BackingStoreError)
      expect(err.reason).toBe('unavailable')
    }
  })
})
