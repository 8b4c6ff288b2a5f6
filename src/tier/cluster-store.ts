/**
 * The cluster backing store: written-back objects in a Valkey/Redis Cluster,
 * for a swap tier larger than one machine. Client: ioredis's Cluster (slot
 * map, MOVED/ASK, per-node reconnection), with auto-pipelining so the
 * commands of one tick to one node share a write.
 *
 * Key scheme: `<prefix>:{<namespace>.<batch>}<locator>` (batch and locator in
 * base 36). The hash tag is the store's namespace and the writeback batch, so
 * a batch lives on one node: putMany is one MSET, a readahead of neighbours
 * written together is one MGET (one round trip), and their deletion is one
 * UNLINK. The namespace is 64 random bits per store; the prefix (default
 * 'zstash') lets an ACL confine the store's user to `~zstash:*`.
 *
 * Values are sealed records (sealing.ts), AES-256-GCM by default: the
 * cluster sees ciphertext, and a value replayed from an older batch, copied
 * from another key, or written by another store fails to open (CORRUPT).
 *
 * Faults: a node that is down fails its commands at once ("Connection is
 * closed": UNAVAILABLE), a node that does not answer fails them after
 * commandTimeoutMs (TIMEOUT); the node connection is retried in the
 * background, so the store recovers by itself when the node is back. A key
 * lost with a node (no replica, no persistence) reads as MISSING. A failed
 * MSET frees the batch's locators and queues its keys for deletion (the MSET
 * may have been applied even though its reply was lost), so nothing leaks.
 */
import { Cluster, type ClusterOptions } from 'ioredis'
import { BackingStoreError, ClosedError, type BackingStoreReason } from '../errors.js'
import { PAGE_SIZE } from '../codecs/status.js'
import {
  GetStatus, type BackingStore, type BackingStoreStats, type GetBatch, type GetResult, type PutBatch,
} from './backing-store.js'
import { checkDeleteArgs, checkGetBatch, checkPutBatch } from './batch-args.js'
import { InFlight } from './in-flight.js'
import { LocatorTable } from './locator-table.js'
import type { ResolvedClusterOptions } from './options.js'
import { Sealer } from './sealing.js'
import { TierCounters, failureStatus } from './tier-counters.js'
import { grow } from '../util/grow.js'

/** Deletions that failed are retried this many times, then given up (and counted). */
const DELETE_RETRIES = 5

export class ClusterStore implements BackingStore {
  readonly type = 'cluster' as const
  /** The ioredis client (exposed for diagnostics and tests; do not issue commands on the store's keys). */
  readonly client: Cluster
  private readonly options: ResolvedClusterOptions
  private readonly sealer: Sealer
  private readonly table = new LocatorTable()
  private readonly counters = new TierCounters()
  private readonly inFlight = new InFlight()
  private nextBatch = 1
  private batches = 0
  // Deferred deletions: (batch, locator, tries) triples in typed arrays.
  private pendingBatch = new Float64Array(0)
  private pendingLocator = new Uint32Array(0)
  private pendingTries = new Uint8Array(0)
  private pendingCount = 0
  private deleteTimer: NodeJS.Timeout | undefined
  private flushing: Promise<void> | undefined
  private deleteFailures = 0
  private nodeErrors = 0
  private lastNodeError: Error | undefined
  private closing: Promise<void> | undefined
  closed = false

  private constructor(options: ResolvedClusterOptions, sealer: Sealer, client: Cluster) {
    this.options = options
    this.sealer = sealer
    this.client = client
    client.on('node error', (err: Error) => {
      this.nodeErrors++
      this.lastNodeError = err
    })
    // Errors are reported through the commands that fail; the client's own 'error' must not crash the process.
    client.on('error', (err: Error) => { this.lastNodeError = err })
  }

  /** Connects (bounded by connectTimeoutMs) and resolves once the slot map is known. */
  static async open(options: ResolvedClusterOptions): Promise<ClusterStore> {
    const clusterOptions: ClusterOptions = {
      lazyConnect: true,
      // Fail fast instead of queueing while a node is away: a swap-in cannot wait for a reconnect.
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      retryDelayOnFailover: 0,
      clusterRetryStrategy: (times) => (times > 3 ? null : Math.min(100 * times, 1000)),
      // Reconnect lost nodes in the background (ioredis's default drops them until a MOVED).
      clusterNodeRetryStrategy: (times) => Math.min(100 * times, 1000),
      slotsRefreshTimeout: options.connectTimeoutMs,
      redisOptions: {
        username: options.username,
        password: options.password,
        tls: options.tls,
        connectTimeout: options.connectTimeoutMs,
        commandTimeout: options.commandTimeoutMs,
        maxRetriesPerRequest: 0,
      },
    }
    const client = new Cluster(options.nodes, clusterOptions)
    const sealer = new Sealer(options.encryption)
    const store = new ClusterStore(options, sealer, client)
    try {
      await withTimeout(client.connect(), options.connectTimeoutMs * 2 + 500, 'connecting to the cluster')
    } catch (err) {
      client.disconnect()
      sealer.destroy()
      const innermost = (e: unknown): Error => {
        let x = e as Error & { lastNodeError?: Error }
        while (x?.lastNodeError) x = x.lastNodeError
        return x
      }
      // The connect rejection often says only "Connection is closed."; the node's own error
      // (WRONGPASS, a TLS certificate failure) came earlier as a 'node error'.
      const direct = innermost(err)
      const nodeError = store.lastNodeError ? innermost(store.lastNodeError) : undefined
      const cause = redisReason(direct) === 'unavailable' && nodeError ? nodeError : direct
      const detail = nodeError && nodeError !== cause ? `${cause.message} (last node error: ${nodeError.message})` : cause.message
      throw new BackingStoreError(redisReason(cause), `cannot connect to the cluster (${options.nodes.map((n) => `${n.host}:${n.port}`).join(', ')}): ${detail}`, { cause: err })
    }
    return store
  }

  /** The store's namespace (in every key's hash tag). */
  get namespace(): string {
    return this.sealer.namespace
  }

  /** The Redis key of a live locator, or undefined (diagnostics and tests). */
  keyOf(locator: number): string | undefined {
    return this.table.isLive(locator) ? this.keyName(this.table.place[locator], locator) : undefined
  }

  async putMany(batch: PutBatch): Promise<Uint32Array> {
    this.checkOpen()
    const n = checkPutBatch(batch)
    const t0 = performance.now()
    if (n === 0) return new Uint32Array(0)
    const overhead = this.sealer.overhead
    const { locators, out, outOffsets, seqs, total } = this.sealer.sealBatch(this.table, batch, n)
    const batchId = this.takeBatchId()
    const args: (string | Buffer)[] = new Array(2 * n)
    for (let i = 0; i < n; i++) {
      args[2 * i] = this.keyName(batchId, locators[i])
      args[2 * i + 1] = out.subarray(outOffsets[i], outOffsets[i] + batch.lengths[i] + overhead)
    }
    let failure: unknown
    try {
      await this.inFlight.track(this.command(this.client.mset(...(args as [string, Buffer]))))
    } catch (err) {
      failure = err
    }
    if (failure !== undefined || this.closed) {
      // The MSET may have been applied with its reply lost: delete the keys too.
      for (let i = 0; i < n; i++) {
        this.table.release(locators[i])
        this.queueDelete(batchId, locators[i])
      }
      this.counters.putFailures++
      if (this.closed) throw new ClosedError('backing store')
      const reason = redisReason(failure)
      this.counters.failures[reason] += n
      throw new BackingStoreError(reason, `writeback of ${n} objects to the cluster failed: ${(failure as Error).message}`, { cause: failure })
    }
    let payload = 0
    for (let i = 0; i < n; i++) {
      this.table.publishRecord(locators[i], batch.keys[i], seqs[i], batch.lengths[i] + overhead, batchId)
      payload += batch.lengths[i]
    }
    this.batches++
    this.counters.countPut(n, payload, total, t0)
    return locators
  }

  async getMany(batch: GetBatch): Promise<GetResult> {
    this.checkOpen()
    const { n, status, tags, checksums } = checkGetBatch(batch)
    const t0 = performance.now()
    const table = this.table
    // Group the wanted objects by writeback batch: one MGET per batch (one slot, one node).
    const groups = new Map<number, number[]>()
    const seqs = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      const loc = batch.locators[i]
      tags[i] = 0
      checksums[i] = 0
      status[i] = table.readStatus(loc, batch.keys[i])
      if (status[i] !== 0) continue
      seqs[i] = table.seq[loc]
      const b = table.place[loc]
      const g = groups.get(b)
      if (g) g.push(i)
      else groups.set(b, [i])
    }
    const entries = [...groups]
    const replies = await this.inFlight.track(Promise.allSettled(entries.map(([b, members]) =>
      this.command(this.client.mgetBuffer(members.map((i) => this.keyName(b, batch.locators[i])))))))
    if (this.closed) throw new ClosedError('backing store')
    const sources: Buffer[] = []
    const sourceIndex = new Uint32Array(n)
    const lengths = new Uint32Array(n)
    const zero = new Uint32Array(n)
    let readBytes = 0
    entries.forEach(([, members], g) => {
      const reply = replies[g]
      if (reply.status === 'rejected') {
        const s = failureStatus(redisReason(reply.reason))
        for (const i of members) status[i] = s
        return
      }
      members.forEach((i, k) => {
        const value = reply.value[k]
        if (value === null || value === undefined) { status[i] = GetStatus.MISSING; return }
        sourceIndex[i] = sources.length
        sources.push(value)
        lengths[i] = value.length
        readBytes += value.length
      })
    })
    if (sources.length === 0) sources.push(Buffer.alloc(0))
    this.sealer.native.openMany(
      n, sources, sourceIndex, zero, lengths, batch.keys, batch.locators, seqs,
      batch.into, batch.offsets, batch.capacities ?? null, PAGE_SIZE, tags, checksums, status,
    )
    const c = this.counters
    const failures = c.countStatuses(status, n)
    c.bytesRead += readBytes
    c.getBatches++
    c.getObjects += n
    c.getReads += entries.length
    c.getLatency.record((performance.now() - t0) * 1000)
    return { status, tags, checksums, failures }
  }

  deleteMany(locators: Uint32Array, count?: number, keys?: Uint32Array): number {
    this.checkOpen()
    const n = checkDeleteArgs(locators, count, keys)
    const table = this.table
    let freed = 0
    for (let i = 0; i < n; i++) {
      const loc = locators[i]
      if (!table.isLive(loc) || (keys !== undefined && table.key[loc] !== keys[i])) continue
      const rec = table.recordLength[loc]
      this.counters.payloadBytes -= rec - this.sealer.overhead
      this.counters.recordBytes -= rec
      this.queueDelete(table.place[loc], loc)
      table.release(loc)
      freed++
    }
    this.counters.deletedObjects += freed
    return freed
  }

  /** Sends every pending deletion now and waits for the replies. */
  async flush(): Promise<void> {
    this.checkOpen()
    await this.flushDeletes()
  }

  stats(): BackingStoreStats {
    const s = this.counters.snapshot('cluster', this.sealer.mode, this.table.live, this.counters.recordBytes, this.pendingCount)
    s.cluster = {
      nodes: this.client.nodes('master').length,
      namespace: this.namespace,
      batches: this.batches,
      delete_failures: this.deleteFailures,
      delete_retry: this.countRetries(),
      node_errors: this.nodeErrors,
    }
    return s
  }

  async close(): Promise<void> {
    if (this.closing) return this.closing
    this.closed = true
    this.closing = (async () => {
      await this.inFlight.drain()
      if (this.options.deleteOnClose) {
        const table = this.table
        for (let loc = 1; loc < table.end; loc++) {
          if (table.isLive(loc)) {
            this.queueDelete(table.place[loc], loc)
            table.release(loc)
          }
        }
      }
      await this.flushDeletes().catch(() => {})
      if (this.deleteTimer) clearTimeout(this.deleteTimer)
      try {
        await withTimeout(this.client.quit(), this.options.commandTimeoutMs + 500, 'closing the cluster connections')
      } catch {
        this.client.disconnect()
      }
      this.sealer.destroy()
    })()
    return this.closing
  }

  private keyName(batch: number, locator: number): string {
    return `${this.options.prefix}:{${this.sealer.namespace}.${batch.toString(36)}}${locator.toString(36)}`
  }

  private takeBatchId(): number {
    const id = this.nextBatch
    // Wraps after 2^32 batches: a key is only ever reused for a locator that is not live,
    // whose older key's deletion was sent long before.
    this.nextBatch = this.nextBatch >= 0xffff_ffff ? 1 : this.nextBatch + 1
    return id
  }

  /** A command bounded in time even if the client never settles it. */
  private command<T>(promise: Promise<T>): Promise<T> {
    return withTimeout(promise, this.options.commandTimeoutMs + 250, 'cluster command')
  }

  private queueDelete(batch: number, locator: number, tries = 0): void {
    const i = this.pendingCount++
    this.pendingBatch = grow(this.pendingBatch, this.pendingCount)
    this.pendingLocator = grow(this.pendingLocator, this.pendingCount)
    this.pendingTries = grow(this.pendingTries, this.pendingCount)
    this.pendingBatch[i] = batch
    this.pendingLocator[i] = locator
    this.pendingTries[i] = tries
    if (this.closed) return
    if (this.pendingCount >= this.options.deleteBatch) {
      void this.flushDeletes().catch(() => {})
    } else if (!this.deleteTimer) {
      this.deleteTimer = setTimeout(() => {
        this.deleteTimer = undefined
        void this.flushDeletes().catch(() => {})
      }, this.options.deleteDelayMs)
      this.deleteTimer.unref()
    }
  }

  /** One UNLINK per batch (its keys share a slot), all sent in one tick. */
  private async flushDeletes(): Promise<void> {
    while (this.flushing) await this.flushing
    if (this.pendingCount === 0) return
    if (this.deleteTimer) { clearTimeout(this.deleteTimer); this.deleteTimer = undefined }
    const count = this.pendingCount
    const batches = this.pendingBatch.slice(0, count)
    const locators = this.pendingLocator.slice(0, count)
    const tries = this.pendingTries.slice(0, count)
    this.pendingCount = 0
    const groups = new Map<number, number[]>()
    for (let i = 0; i < count; i++) {
      const g = groups.get(batches[i])
      if (g) g.push(i)
      else groups.set(batches[i], [i])
    }
    const entries = [...groups]
    const run = (async () => {
      const results = await Promise.allSettled(entries.map(([b, members]) =>
        this.command(this.client.unlink(...members.map((i) => this.keyName(b, locators[i]))))))
      results.forEach((r, g) => {
        if (r.status === 'fulfilled') return
        for (const i of entries[g][1]) {
          if (tries[i] + 1 >= DELETE_RETRIES) this.deleteFailures++
          else this.queueDelete(batches[i], locators[i], tries[i] + 1)
        }
      })
    })()
    this.flushing = run
    try {
      await run
    } finally {
      this.flushing = undefined
    }
  }

  private countRetries(): number {
    let n = 0
    for (let i = 0; i < this.pendingCount; i++) if (this.pendingTries[i] > 0) n++
    return n
  }

  private checkOpen(): void {
    if (this.closed) throw new ClosedError('backing store')
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BackingStoreError('timeout', `${what} timed out after ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** The BackingStoreReason of a client or server error. */
export function redisReason(err: unknown): BackingStoreReason {
  if (err instanceof BackingStoreError) return err.reason
  // ioredis's ClusterAllFailedError ("Failed to refresh slots cache") carries the node's own error.
  const last = (err as { lastNodeError?: unknown } | undefined)?.lastNodeError
  if (last) return redisReason(last)
  const msg = err instanceof Error ? err.message : String(err)
  if (/timed? ?out/i.test(msg)) return 'timeout'
  if (/^(NOAUTH|WRONGPASS|NOPERM)|\bWRONGPASS\b|\bNOAUTH\b|\bNOPERM\b|invalid (username|password)/i.test(msg)) return 'auth'
  if (/^OOM\b/.test(msg)) return 'full'
  return 'unavailable'
}
