/**
 * zswap's writeback, over the tier below the pool (src/tier/): cold entries'
 * compressed objects are written to the backing store in batches and freed
 * from the pool, so a full pool makes room instead of refusing stores.
 *
 *   select victims (the CLOCK hand with second chance, or idle entries)
 *   → mark them busy → gather their bytes in one copy → putMany (the tier reads
 *   the bytes during the call) → for each entry still busy: it becomes a Tier
 *   entry (locator, length, checksum, format) and its pool object is freed;
 *   an entry replaced meanwhile keeps its new value and the tier copy is deleted.
 *
 * One batch is in flight at a time (the store's Serial, shared with
 * recompression): a busy mark then names exactly one batch, and a locator is never reused while a read of it is in flight
 * (deletes wait for reads to finish). A failed batch leaves every entry in the
 * pool: nothing is lost.
 */
import { PAGE_SIZE } from '../codecs/status.js'
import { ClosedError } from '../errors.js'
import { EntryKind, type EntryTable } from '../entries/entry-table.js'
import type { ObjectPool } from '../allocator/object-pool.js'
import type { BackingStore, BackingStoreStats, GetResult } from '../tier/index.js'
import type { ZswapCounters } from './counters.js'
import type { Serial } from './serial.js'

export interface WritebackOptions {
  /** Pages per putMany. */
  batch: number
  /** Pages written back per period at most (zram's writeback_limit); Infinity for none. */
  limitPages: number
  limitPeriodMs: number
  /** Honour the referenced bit (zswap's second chance); false: the hand takes entries in key order. */
  secondChance: boolean
}

/** What writeback needs from the store. */
export interface WritebackHost {
  readonly entries: EntryTable
  /** The store's native pool, through the batched seam (gather, put, free). */
  readonly pool: ObjectPool
  readonly counters: ZswapCounters
  /** Frees a pool object (the store defers it while readers are in flight). */
  freeObject(handle: number): void
  /** pool_total_size plus the reservations of stores in flight. */
  usedBytes(): number
  isClosing(): boolean
  /** The store's background batches, shared with recompression. */
  readonly serial: Serial
}

export class Writeback {
  private reads = 0
  private deferredLocators: number[] = []
  private deferredKeys: number[] = []
  private periodStart = 0
  private periodPages = 0
  private running: Promise<boolean> | undefined
  private readonly scratchKeys: Uint32Array

  constructor(readonly backing: BackingStore, private readonly host: WritebackHost, readonly options: WritebackOptions) {
    this.scratchKeys = new Uint32Array(options.batch)
  }

  /** Pages the writeback limit still allows in this period. */
  allowance(): number {
    if (!Number.isFinite(this.options.limitPages)) return Infinity
    const now = performance.now()
    if (now - this.periodStart >= this.options.limitPeriodMs) {
      this.periodStart = now
      this.periodPages = 0
    }
    return Math.max(0, this.options.limitPages - this.periodPages)
  }

  /**
   * Writes back cold entries until the pool (with reservations) is at most
   * `targetBytes`, or nothing more can go. Concurrent callers share one run.
   * Resolves true when the target was reached.
   */
  makeRoom(targetBytes: number): Promise<boolean> {
    if (this.host.usedBytes() <= targetBytes) return Promise.resolve(true)
    this.running ??= this.reclaim(targetBytes).finally(() => { this.running = undefined })
    return this.running.then((ok) => ok || this.host.usedBytes() <= targetBytes)
  }

  private async reclaim(targetBytes: number): Promise<boolean> {
    while (this.host.usedBytes() > targetBytes) {
      if (this.host.isClosing()) throw new ClosedError()
      const written = await this.writeColdest(this.options.batch)
      if (written === 0) return false
    }
    return true
  }

  /** One batch of the coldest entries (CLOCK with second chance). Resolves to the pages written back. */
  writeColdest(max: number): Promise<number> {
    return this.serialized(() => {
      const n = Math.min(max, this.options.batch, this.allowance())
      return this.writeBatch(this.host.entries.coldest(n, this.scratchKeys, this.options.secondChance))
    })
  }

  /** One batch of entries not used since the last idle mark. */
  writeIdle(max: number): Promise<number> {
    return this.serialized(() => {
      const n = Math.min(max, this.options.batch, this.allowance())
      return this.writeBatch(this.host.entries.idle(n, this.scratchKeys))
    })
  }

  private serialized(run: () => Promise<number>): Promise<number> {
    return this.host.serial.run(run)
  }

  /** Writes back the `n` entries named in scratchKeys; returns how many left the pool. */
  private async writeBatch(n: number): Promise<number> {
    if (n === 0) return 0
    const { entries, pool, counters } = this.host
    const keys = this.scratchKeys.slice(0, n)
    const handles = new Uint32Array(n)
    const lengths = new Uint32Array(n)
    const sums = new Uint32Array(n)
    const tags = new Uint32Array(n)
    const offsets = new Uint32Array(n)
    let total = 0
    for (let i = 0; i < n; i++) {
      const kind = entries.findAny(keys[i])
      handles[i] = entries.lo
      lengths[i] = kind === EntryKind.Raw ? PAGE_SIZE : entries.hi
      sums[i] = entries.sum
      tags[i] = entries.slot
      offsets[i] = total
      total += lengths[i]
      entries.setBusy(true)
    }
    const bytes = new Uint8Array(total)
    if (pool.gather(handles, lengths, n, bytes, offsets) < 0) {
      // An entry named no live object of its length (a bug, never a caller's doing): write nothing back.
      for (let i = 0; i < n; i++) if (this.ownsPoolEntry(keys[i])) entries.setBusy(false)
      counters.writeback_fail++
      return 0
    }
    let locators: Uint32Array
    try {
      locators = await this.backing.putMany({ count: n, keys, tags, checksums: sums, sources: [bytes], offsets, lengths })
    } catch (err) {
      // Nothing of the batch is in the tier: every entry stays in the pool as it was.
      for (let i = 0; i < n; i++) if (this.ownsPoolEntry(keys[i])) entries.setBusy(false)
      counters.writeback_fail++
      if (this.host.isClosing()) throw new ClosedError()
      return 0
    }
    let written = 0
    for (let i = 0; i < n; i++) {
      const key = keys[i]
      if (!this.ownsPoolEntry(key) || entries.taken) {
        // Replaced, invalidated or being taken by an exclusive load while it was written: the tier copy is garbage.
        if (entries.findAny(key) !== EntryKind.Empty && entries.busy) entries.setBusy(false)
        this.delete(locators[i], key)
        continue
      }
      const raw = entries.findAny(key) === EntryKind.Raw
      const handle = entries.lo
      entries.set(key, EntryKind.Tier, tags[i], locators[i], lengths[i], sums[i])
      this.host.freeObject(handle)
      counters.compressed_bytes -= lengths[i]
      if (raw) counters.stored_incompressible_pages--
      counters.tier_pages++
      counters.tier_bytes += lengths[i]
      written++
    }
    counters.written_back_pages += written
    counters.pswpout += written
    counters.writeback_batches++
    this.periodPages += n
    return written
  }

  /** Whether `key` is a pool entry still marked busy by the batch in flight (positions the table). */
  private ownsPoolEntry(key: number): boolean {
    const kind = this.host.entries.findAny(key)
    return (kind === EntryKind.Compressed || kind === EntryKind.Raw) && this.host.entries.busy
  }

  /** Reads tier objects; deletes wait until no read is in flight, so a locator is never reused under one. */
  async read(locators: Uint32Array, keys: Uint32Array, count: number, into: Uint8Array, offsets: Uint32Array): Promise<GetResult> {
    this.reads++
    try {
      return await this.backing.getMany({ count, locators, keys, into, offsets })
    } finally {
      if (--this.reads === 0) this.flushDeletes()
    }
  }

  /** Frees a tier object (deferred while reads are in flight). */
  delete(locator: number, key: number): void {
    this.deferredLocators.push(locator)
    this.deferredKeys.push(key)
    if (this.reads === 0) this.flushDeletes()
  }

  private flushDeletes(): void {
    const n = this.deferredLocators.length
    if (n === 0 || this.backing.closed) return
    this.backing.deleteMany(Uint32Array.from(this.deferredLocators), n, Uint32Array.from(this.deferredKeys))
    this.deferredLocators = []
    this.deferredKeys = []
  }

  stats(): BackingStoreStats {
    return this.backing.stats()
  }

  /** Waits for the batch in flight, then closes the backing store. */
  async close(): Promise<void> {
    await this.host.serial.idle()
    await this.running?.catch(() => undefined)
    this.flushDeletes()
    await this.backing.close()
  }
}
