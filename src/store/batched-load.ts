/**
 * loadMany's batched path, for a call with enough compressed pages for the
 * backend's batched decoder (worker pool, device) or with written-back pages:
 * one decode request for the pool objects, largest first, dealt into the
 * decoding threads' shares, and one read of the tier in the same call;
 * then every page is checked and the call settles (exclusive entries dropped
 * or given back, tier pages brought back into the pool). The other pages of
 * the call (same-filled, raw, pending) are read on the calling thread.
 */
import { BackingStoreError, ClosedError, DecompressError, InvalidArgumentError, ZstashError } from '../errors.js'
import { PAGE_SIZE, DecodeStatus, decodeStatusName } from '../codecs/status.js'
import { shareStart } from '../codecs/backend.js'
import type { NativeAddon } from '../native.js'
import type { StorePool } from '../allocator/object-pool.js'
import { EntryKind, type EntryTable } from '../entries/entry-table.js'
import { statusReason } from '../tier/index.js'
import type { ZswapCounters } from './counters.js'
import type { ResolvedOptions } from './options.js'
import type { Admission } from './admission.js'
import type { Writeback } from './writeback.js'
import type { CodecSlots } from './codec-slots.js'
import type { Backends } from './backend-lifecycle.js'
import type { DeferredFrees } from './deferred-frees.js'
import { DecodeJobPool, type DecodeJobs } from './decode-jobs.js'

/** What a batched load needs from the store. */
export interface BatchedLoadHost {
  /** checksum (objects are checked on load) and maxPoolBytes (a tier page comes back only under it). */
  readonly options: Readonly<ResolvedOptions>
  readonly entries: EntryTable
  readonly counters: ZswapCounters
  /** The pool the decoders read in place, and tier pages are put back into. */
  readonly pool: StorePool
  readonly admission: Admission
  readonly slots: CodecSlots
  readonly native: NativeAddon
  /** The decoding backend, held for the call. */
  readonly backends: Backends
  /** Frees wait while the decoders read. */
  readonly frees: DeferredFrees
  /** Where written-back pages are read from (present when any entry is Tier). */
  readonly writeback: Writeback | undefined
  /** Writes the entry positioned by entries.find() as one page at dst[offset]; returns PAGE_SIZE or a DecodeStatus. */
  readEntry(kind: EntryKind, dst: Uint8Array, offset: number): number
  /** Drops the entry for `key` (its object freed, counters updated). */
  dropEntry(key: number): boolean
  isClosing(): boolean
}

export class BatchedLoads {
  private readonly options: Readonly<ResolvedOptions>
  private readonly entries: EntryTable
  private readonly counters: ZswapCounters
  private readonly pool: StorePool
  private readonly admission: Admission
  private readonly slots: CodecSlots
  private readonly native: NativeAddon
  private readonly backends: Backends
  private readonly frees: DeferredFrees
  private readonly writeback: Writeback | undefined
  private readonly decodeJobs = new DecodeJobPool()
  private lastJobs: DecodeJobs | undefined
  private lastCount = 0

  constructor(private readonly host: BatchedLoadHost) {
    this.options = host.options
    this.entries = host.entries
    this.counters = host.counters
    this.pool = host.pool
    this.admission = host.admission
    this.slots = host.slots
    this.native = host.native
    this.backends = host.backends
    this.frees = host.frees
    this.writeback = host.writeback
  }

  /** Test support: the order in which the last batched load submitted its pages (indexes into keys). */
  get lastOrder(): ArrayLike<number> {
    // A view of the job buffer's scratch (no copy per call): valid until another batched load runs.
    return this.lastJobs ? this.lastJobs.submitted.subarray(0, this.lastCount) : []
  }

  /**
   * Same-filled, raw and pending pages are copied here at once; compressed
   * ones go to the backend in one request, largest first (by 256-byte band);
   * written-back ones are read from the backing store in one request and
   * decoded here. An exclusive load takes its entries now (they read as absent
   * from here on) and drops them when every page decoded and reached the
   * caller's buffer, or gives them back otherwise — unless a later call
   * replaced them meanwhile. A non-exclusive load brings written-back pages
   * back into the pool when there is room. Frees of objects being read wait
   * until the request is done; compaction may run (the pool's move lock keeps
   * it off objects being read, and handles do not change).
   */
  async load(
    keys: Uint32Array, into: Uint8Array | undefined, present: Uint8Array, exclusive: boolean, count: number, tier: number,
  ): Promise<{ pages: Uint8Array; count: number }> {
    const n = keys.length
    const backend = this.backends.current
    const decodes = backend.decodes?.bind(backend)
    // Workers and devices write the destination from other threads: it must be shared memory.
    const dst = into && into.buffer instanceof SharedArrayBuffer ? into : new Uint8Array(count > 0 ? new SharedArrayBuffer(n * PAGE_SIZE) : new ArrayBuffer(n * PAGE_SIZE))
    // Largest first, by 256-byte length band, in key order within a band: sort packed
    // (band, position) keys, a native numeric sort. Exact length order scatters the reads
    // and writes over the pool and the destination: measured +33% decode CPU (lz4, node
    // corpus, TLB and cache misses) against +9% for bands. The job buffer comes first:
    // its scratch holds the sort keys (no allocation per call).
    const job = this.decodeJobs.take(count)
    const order = job.order.subarray(0, count)
    // Written-back pages: position in keys, and the entry as it was at the call.
    const tierAt = new Uint32Array(tier)
    const tierLocators = new Uint32Array(tier)
    const tierKeys = new Uint32Array(tier)
    const tierOffsets = new Uint32Array(tier)
    const tierMeta = new Uint32Array(tier * 3) // slot, length, checksum
    let found = 0
    let j = 0
    let t = 0
    let firstBad = -1
    let failure: ZstashError | undefined
    const fail = (i: number, err: ZstashError) => {
      if (firstBad < 0 || i < firstBad) { firstBad = i; failure = err }
    }
    for (let i = 0; i < n; i++) {
      const kind = this.entries.find(keys[i])
      if (kind === EntryKind.Empty) continue
      present[i] = 1
      found++
      if (exclusive) this.entries.setTaken(true)
      if (kind === EntryKind.Tier) {
        if (!exclusive) this.entries.setBusy(true)
        tierAt[t] = i
        tierLocators[t] = this.entries.lo
        tierKeys[t] = keys[i]
        tierOffsets[t] = t * PAGE_SIZE
        tierMeta[t * 3] = this.entries.slot
        tierMeta[t * 3 + 1] = this.entries.hi
        tierMeta[t * 3 + 2] = this.entries.sum
        t++
        continue
      }
      if (kind === EntryKind.Compressed && j < count && (!decodes || decodes(this.entries.slot))) {
        const { entries } = this
        job.foundLo[j] = entries.lo
        job.foundHi[j] = entries.hi
        job.foundSum[j] = entries.sum
        job.foundSlot[j] = entries.slot
        job.foundKey[j] = i
        // j grows with i: (band, j) orders as (band, key position).
        order[j] = lengthBand(entries.hi) * 2 ** 32 + j
        j++
        continue
      }
      const status = this.host.readEntry(kind, dst, i * PAGE_SIZE)
      if (status !== PAGE_SIZE) {
        this.counters.decompress_fail++
        fail(i, new DecompressError(keys[i], status, decodeStatusName(status)))
      }
    }
    order.sort()
    // Jobs in shared arrays the workers read in place, dealt into the backend's
    // shares: job k (k-th largest) goes to share k % shares, so each starts with its longest.
    const shares = Math.max(1, backend.decodeShares ?? 1)
    const handles = job.handles.subarray(0, count)
    const lengths = job.lengths.subarray(0, count)
    const slots = job.slots.subarray(0, count)
    const dstPages = job.dstPages.subarray(0, count)
    const status = job.status.subarray(0, count)
    const sums = this.options.checksum ? job.sums.subarray(0, count) : undefined
    const starts = new Uint32Array(shares)
    for (let s = 0; s < shares; s++) starts[s] = shareStart(count, shares, s)
    const submitted = job.submitted.subarray(0, count)
    const { foundLo, foundHi, foundSum, foundSlot, foundKey } = job
    for (let k = 0; k < count; k++) {
      const f = order[k] % 2 ** 32
      const i = foundKey[f]
      submitted[k] = i
      const at = starts[k % shares] + Math.floor(k / shares)
      handles[at] = foundLo[f]
      lengths[at] = foundHi[f]
      slots[at] = foundSlot[f]
      dstPages[at] = i
      if (sums) sums[at] = foundSum[f]
    }
    if (count > 0) {
      this.lastJobs = job
      this.lastCount = count
    }
    const tierBytes = new Uint8Array(tier * PAGE_SIZE)
    const dicts = count > 0 ? this.slots.dictionariesFor(slots, count) : undefined
    // The backend stays open while it decodes, even if setCompressor() replaces it meanwhile.
    this.backends.acquire(backend)
    // Only decoders read pool objects in place; a read of the tier alone must not hold back frees (a pool at its
    // limit would otherwise wait for room that frees deferred behind back-to-back tier reads keep from coming).
    const readsPool = count > 0
    if (readsPool) this.frees.beginRead()
    const [decoded, read] = await Promise.allSettled([
      count > 0 ? backend.decompressMany!({ pool: this.pool, handles, lengths, slots, sums, dstPages, count, dst, status, dicts }) : undefined,
      tier > 0 ? this.writeback!.read(tierLocators, tierKeys, tier, tierBytes, tierOffsets) : undefined,
    ])
    if (readsPool) this.frees.endRead()
    this.backends.release(backend)
    if (decoded.status === 'rejected') {
      const err = decoded.reason
      fail(submitted[0], err instanceof ZstashError ? err
        : new DecompressError(keys[submitted[0]], 0, `the batched decoder failed: ${(err as Error)?.message ?? err}`, { cause: err }))
    } else {
      // Read the statuses before the job buffer can serve another load.
      for (let k = 0; k < count; k++) {
        if (status[k] !== PAGE_SIZE) {
          this.counters.decompress_fail++
          fail(dstPages[k], new DecompressError(keys[dstPages[k]], status[k], decodeStatusName(status[k])))
        }
      }
    }
    this.decodeJobs.give(job)
    const tierOk = new Uint8Array(tier)
    if (read.status === 'rejected') {
      this.counters.backing_load_fail += tier
      const err = read.reason
      fail(tierAt[0], err instanceof ZstashError ? err : new BackingStoreError('io', `reading ${tier} pages from the backing store failed: ${(err as Error)?.message ?? err}`, { cause: err }))
    } else if (read.value) {
      for (let k = 0; k < tier; k++) {
        const got = read.value.status[k]
        const i = tierAt[k]
        if (got < 0) {
          this.counters.backing_load_fail++
          fail(i, new BackingStoreError(statusReason(got), `page ${keys[i]} could not be read from the backing store (status ${got})`))
          continue
        }
        const decodedStatus = this.decodeTierObject(tierBytes, k * PAGE_SIZE, got, tierMeta[k * 3], tierMeta[k * 3 + 2], dst, i * PAGE_SIZE)
        if (decodedStatus !== PAGE_SIZE) {
          this.counters.decompress_fail++
          fail(i, new DecompressError(keys[i], decodedStatus, decodeStatusName(decodedStatus)))
          continue
        }
        this.counters.pswpin++
        tierOk[k] = 1
      }
    }
    if (!failure && into && dst !== into) {
      // The caller's buffer may have been detached or shrunk while the pages were read.
      if (into.byteLength < n * PAGE_SIZE) failure = new InvalidArgumentError("'into' was detached or shrunk while loadMany ran; nothing was freed")
      else into.set(dst)
    }
    if (this.host.isClosing()) failure = new ClosedError()
    if (exclusive) {
      this.settleTaken(keys, present, !failure)
    } else {
      for (let k = 0; k < tier; k++) this.settleTierRead(tierKeys[k], tierLocators[k], tierOk[k] === 1 && !this.host.isClosing(), tierBytes, k * PAGE_SIZE, tierMeta, k)
      for (let i = 0; i < n; i++) if (present[i] && this.entries.find(keys[i]) !== EntryKind.Empty) this.entries.touch()
    }
    if (failure) throw failure
    // Pages read from the backing store are pswpin, not zswpin (as in the kernel: they were no longer in zswap).
    this.counters.zswpin += found - tier
    return { pages: into ?? dst, count: found }
  }

  /** Decodes an object read from the tier (raw when it is a whole page), checking its checksum first. */
  private decodeTierObject(bytes: Uint8Array, offset: number, length: number, slot: number, sum: number, dst: Uint8Array, at: number): number {
    const checked = this.options.checksum
    if (length === PAGE_SIZE) {
      if (checked && this.native.checksum(bytes, offset, PAGE_SIZE) !== sum) return DecodeStatus.Checksum
      dst.set(bytes.subarray(offset, offset + PAGE_SIZE), at)
      return PAGE_SIZE
    }
    const decoder = this.slots.decoder(slot)
    return checked ? decoder.decompress(bytes, offset, length, dst, at, sum) : decoder.decompress(bytes, offset, length, dst, at)
  }

  /**
   * Ends a non-exclusive read of a written-back page: if the entry is still
   * the one that was read, its object comes back into the pool when there is
   * room under the limit (no waiting), and the tier copy is freed.
   */
  private settleTierRead(key: number, locator: number, ok: boolean, bytes: Uint8Array, offset: number, meta: Uint32Array, k: number): void {
    if (this.entries.findAny(key) !== EntryKind.Tier || !this.entries.busy || this.entries.lo !== locator) return
    this.entries.setBusy(false)
    if (!ok) return
    const length = meta[k * 3 + 1]
    if (this.admission.limited && this.pool.totalSize() + this.admission.reservedBytes + length > this.options.maxPoolBytes) return
    const handle = new Uint32Array(1)
    if (this.pool.put(bytes, Uint32Array.of(offset), Uint32Array.of(length), 1, handle) !== 1) return
    const raw = length === PAGE_SIZE
    this.entries.set(key, raw ? EntryKind.Raw : EntryKind.Compressed, meta[k * 3], handle[0], length, meta[k * 3 + 2])
    const c = this.counters
    c.tier_pages--
    c.tier_bytes -= length
    c.compressed_bytes += length
    if (raw) c.stored_incompressible_pages++
    this.writeback!.delete(locator, key)
  }

  /** Ends an exclusive batched load: drop (ok) or give back (failed) the entries still taken by it. */
  private settleTaken(keys: Uint32Array, present: Uint8Array, ok: boolean): void {
    for (let i = 0; i < keys.length; i++) {
      if (!present[i]) continue
      const kind = this.entries.findAny(keys[i])
      // Not taken any more: a later store or invalidate replaced the entry, and it stays.
      if (kind === EntryKind.Empty || !this.entries.taken) continue
      if (ok) this.host.dropEntry(keys[i])
      else this.entries.setTaken(false)
    }
  }
}

/** 0 for the largest objects (3841..4096 bytes), up to 15 for the smallest: loadMany's submission order. */
export function lengthBand(length: number): number {
  return (PAGE_SIZE - length) >>> 8
}
