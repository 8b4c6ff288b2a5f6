/**
 * zram's recompress: rewrite stored objects with a secondary compressor (a
 * higher level, another format, a trained dictionary), keeping a page only
 * if it got smaller. Runs in background batches, one at a time on the
 * store's Serial (shared with writeback):
 *
 *   select pool entries (idle, or incompressible only, not already in the
 *   target slot) → mark them busy → gather their bytes → recode the batch
 *   (decode, compress with the target, at most one byte shorter than the old
 *   object) in the worker pool or here → for each entry still busy and now
 *   smaller: put the new object in the pool, publish it, free the old one.
 *
 * An entry replaced, invalidated or taken meanwhile loses its busy mark and is
 * left alone; the new object is dropped. A page that did not shrink keeps its
 * object.
 */
import { PAGE_SIZE, PageStatus } from '../codecs/status.js'
import { ClosedError } from '../errors.js'
import { EntryKind, type EntryTable } from '../entries/entry-table.js'
import type { ObjectPool } from '../allocator/object-pool.js'
import type { NativeAddon, NativeCodec } from '../native.js'
import type { CodecSlots } from './codec-slots.js'
import type { ZswapCounters } from './counters.js'
import type { Serial } from './serial.js'

/** One batch to recode: objects back to back in `input`, results in `output` (a page slot each). */
export interface RecodeRequest {
  count: number
  input: Uint8Array
  offsets: Uint32Array
  lengths: Uint32Array
  /** Slot each object was written with (its decoder). */
  slots: Uint8Array
  /** Largest accepted new length per object (old length − 1): anything longer is reported Incompressible. */
  limits: Uint32Array
  output: Uint8Array
  /** New length (> 0), or a PageStatus (≤ 0: keep the old object). */
  status: Int32Array
}

export interface RecompressHost {
  readonly entries: EntryTable
  /** The store's native pool, through the batched seam (gather, put, free). */
  readonly pool: ObjectPool
  readonly counters: ZswapCounters
  readonly slots: CodecSlots
  readonly serial: Serial
  readonly native: NativeAddon
  readonly checksum: boolean
  freeObject(handle: number): void
  isClosing(): boolean
  /** Recodes a batch for `targetSlot` (in the worker pool when there is one). */
  recode(request: RecodeRequest, targetSlot: number): Promise<void>
}

export interface RecompressSelection {
  /** Only raw (incompressible) entries: zram's type=huge. */
  incompressibleOnly: boolean
  /** Only entries not used since the last idle mark. */
  idleOnly: boolean
}

export const RECOMPRESS_BATCH = 64

/**
 * Recompresses up to `maxPages` entries into `targetSlot`. Resolves to
 * [pages rewritten, bytes saved].
 */
export async function recompress(host: RecompressHost, targetSlot: number, selection: RecompressSelection, maxPages: number): Promise<[number, number]> {
  let cursor = 0
  let rewritten = 0
  let saved = 0
  let seen = 0
  const keys = new Uint32Array(RECOMPRESS_BATCH)
  while (seen < maxPages && cursor >= 0) {
    if (host.isClosing()) throw new ClosedError()
    const batch = await host.serial.run(async () => {
      const want = Math.min(RECOMPRESS_BATCH, maxPages - seen)
      const found = host.entries.select(cursor, want, keys, (kind, slot, referenced) =>
        (kind === EntryKind.Raw || (kind === EntryKind.Compressed && !selection.incompressibleOnly)) &&
        slot !== targetSlot && !(selection.idleOnly && referenced))
      cursor = found.next
      if (found.count === 0) return [0, 0, 0]
      const [n, bytes] = await recompressBatch(host, keys, found.count, targetSlot)
      return [found.count, n, bytes]
    })
    seen += batch[0]
    rewritten += batch[1]
    saved += batch[2]
    if (batch[0] === 0) break
  }
  return [rewritten, saved]
}

async function recompressBatch(host: RecompressHost, scratchKeys: Uint32Array, n: number, targetSlot: number): Promise<[number, number]> {
  const { entries, pool, counters, slots } = host
  const keys = scratchKeys.slice(0, n)
  const handles = new Uint32Array(n)
  const lengths = new Uint32Array(n)
  const offsets = new Uint32Array(n)
  const limits = new Uint32Array(n)
  const srcSlots = new Uint8Array(n)
  let total = 0
  for (let i = 0; i < n; i++) {
    const kind = entries.findAny(keys[i])
    handles[i] = entries.lo
    lengths[i] = kind === EntryKind.Raw ? PAGE_SIZE : entries.hi
    srcSlots[i] = entries.slot
    limits[i] = lengths[i] - 1
    offsets[i] = total
    total += lengths[i]
    entries.setBusy(true)
  }
  const input = new Uint8Array(new SharedArrayBuffer(Math.max(1, total)))
  if (pool.gather(handles, lengths, n, input, offsets) < 0) {
    // An entry named no live object of its length (a bug, never a caller's doing): rewrite nothing.
    for (let i = 0; i < n; i++) if (ownsPoolEntry(entries, keys[i])) entries.setBusy(false)
    return [0, 0]
  }
  const output = new Uint8Array(new SharedArrayBuffer(n * PAGE_SIZE))
  const status = new Int32Array(new SharedArrayBuffer(n * 4))
  try {
    await host.recode({ count: n, input, offsets, lengths, slots: srcSlots, limits, output, status }, targetSlot)
  } catch (err) {
    for (let i = 0; i < n; i++) if (ownsPoolEntry(entries, keys[i])) entries.setBusy(false)
    throw err
  }
  let rewritten = 0
  let saved = 0
  const handle = new Uint32Array(1)
  for (let i = 0; i < n; i++) {
    const key = keys[i]
    if (!ownsPoolEntry(entries, key)) continue // replaced, invalidated or taken meanwhile: left alone
    const s = status[i]
    const wasRaw = entries.findAny(key) === EntryKind.Raw
    if (entries.taken || s <= PageStatus.SameFilled || s >= lengths[i]) {
      entries.setBusy(false)
      counters.recompress_kept++
      continue
    }
    if (pool.put(output, Uint32Array.of(i * PAGE_SIZE), Uint32Array.of(s), 1, handle) !== 1) {
      entries.setBusy(false)
      counters.recompress_kept++
      continue
    }
    const sum = host.checksum ? host.native.checksum(output, i * PAGE_SIZE, s) : 0
    const oldHandle = entries.lo
    entries.set(key, EntryKind.Compressed, targetSlot, handle[0], s, sum)
    host.freeObject(oldHandle)
    slots.remove(srcSlots[i], lengths[i])
    slots.add(targetSlot, s)
    counters.compressed_bytes += s - lengths[i]
    if (wasRaw) counters.stored_incompressible_pages--
    rewritten++
    saved += lengths[i] - s
  }
  counters.recompressed_pages += rewritten
  counters.recompress_saved_bytes += saved
  return [rewritten, saved]
}

function ownsPoolEntry(entries: EntryTable, key: number): boolean {
  const kind = entries.findAny(key)
  return (kind === EntryKind.Compressed || kind === EntryKind.Raw) && entries.busy
}

/**
 * The recode step on the calling thread: decode each object with its slot's
 * decoder, compress the page with the target codec under its limit. Used
 * when the store has no worker pool.
 */
export function recodeHere(request: RecodeRequest, slots: CodecSlots, target: NativeCodec): void {
  const page = new Uint8Array(PAGE_SIZE)
  const one = new Int32Array(1)
  for (let i = 0; i < request.count; i++) {
    const len = request.lengths[i]
    const at = request.offsets[i]
    if (len === PAGE_SIZE) page.set(request.input.subarray(at, at + PAGE_SIZE))
    else if (slots.decoder(request.slots[i]).decompress(request.input, at, len, page, 0) !== PAGE_SIZE) {
      request.status[i] = PageStatus.CompressError
      continue
    }
    target.compressBatch(page, 0, 1, request.output, i, one, 0, Math.max(1, request.limits[i]), false)
    request.status[i] = one[0]
  }
}
