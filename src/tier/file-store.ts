/**
 * The file backing store: one swap file, objects packed back to back.
 *
 * putMany seals the batch into one buffer (synchronously: the caller's pool
 * slots are free once the call returns), takes space for each record from the
 * open segment (file-space.ts) and writes the batch with one positional write
 * per contiguous run — one write for a batch that fits its segment. A record
 * is `payload + 24` bytes sealed (`+ 12` with encryption 'none'), with no
 * padding and no 4 KiB slot per object.
 *
 * getMany sorts the wanted records by offset and reads each run of records
 * that lie close together (gaps ≤ 16 KiB) with one positional read, so the
 * neighbours of one writeback batch come back in one read; then it opens
 * every record in one native call into the caller's buffer.
 *
 * Deletes only update counters in memory. When the file exceeds
 * compactRatio × the live record bytes (+ one segment), compaction moves the
 * live records out of the emptiest segments (or, when there is room below,
 * out of the top ones), frees those segments and truncates the tail. A moved
 * record keeps its locator (the locator table holds its offset) and its
 * sealed bytes (the AAD binds the locator, not the offset). A victim segment
 * stays readable until its records' new copies are written and published, so
 * a failed move loses nothing; a read in flight pins its segments so they are
 * not reused under it. No fsync: swap is volatile; a write that resolved is
 * in the page cache, readable until the file is closed.
 */
import { open as openFile, unlink, type FileHandle } from 'node:fs/promises'
import { ftruncateSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { BackingStoreError, ClosedError, type BackingStoreReason } from '../errors.js'
import { PAGE_SIZE } from '../codecs/status.js'
import {
  GetStatus, type BackingStore, type BackingStoreStats, type GetBatch, type GetResult, type PutBatch,
} from './backing-store.js'
import { checkDeleteArgs, checkGetBatch, checkPutBatch } from './batch-args.js'
import { FileSpace } from './file-space.js'
import { InFlight } from './in-flight.js'
import { LocatorState, LocatorTable } from './locator-table.js'
import type { ResolvedFileOptions } from './options.js'
import { Sealer } from './sealing.js'
import { TierCounters } from './tier-counters.js'

/** Records closer than this are read with one pread (reading the gap costs less than a second call). */
const READ_GAP_BYTES = 16 * 1024
/** Largest single read of a coalesced run. */
const MAX_READ_BYTES = 4 * 1024 * 1024
/** Segments one compaction step empties at most. */
const VICTIMS_PER_STEP = 8

export class FileStore implements BackingStore {
  readonly type = 'file' as const
  private readonly fh: FileHandle
  /** The file's path; undefined for the default temp file, which is unlinked right after it is opened. */
  readonly path: string | undefined
  private readonly tempDir: string | undefined
  private readonly sealer: Sealer
  private readonly space: FileSpace
  private readonly table = new LocatorTable()
  private readonly counters = new TierCounters()
  private readonly inFlight = new InFlight()
  private readonly ratio: number
  private fileEnd = 0
  private compaction: Promise<void> | undefined
  private compactions = 0
  private relocatedObjects = 0
  private relocatedBytes = 0
  private compactionFailures = 0
  private closing: Promise<void> | undefined
  closed = false

  private constructor(fh: FileHandle, filePath: string | undefined, tempDir: string | undefined, options: ResolvedFileOptions, sealer: Sealer) {
    this.fh = fh
    this.path = filePath
    this.tempDir = tempDir
    this.sealer = sealer
    this.space = new FileSpace(options.segmentBytes, options.maxBytes)
    this.ratio = options.compactRatio
  }

  /**
   * Opens a store. With `path` the file is created (it must not exist: a swap file never
   * overwrites a file it did not make) and removed at close; without, a temp file is made
   * in `dir` and unlinked at once, so it disappears even if the process dies. Mode 0600.
   */
  static async open(options: ResolvedFileOptions): Promise<FileStore> {
    const sealer = new Sealer(options.encryption)
    const dir = options.path === undefined ? (options.dir ?? os.tmpdir()) : undefined
    const file = options.path ?? path.join(dir!, `zstash-${process.pid}-${sealer.namespace}.swap`)
    let fh: FileHandle
    try {
      fh = await openFile(file, 'wx+', 0o600)
    } catch (err) {
      sealer.destroy()
      throw new BackingStoreError(ioReason(err), `cannot create the swap file ${file}: ${(err as Error).message}`, { cause: err })
    }
    if (options.path === undefined) {
      try {
        await unlink(file)
      } catch (err) {
        await fh.close()
        sealer.destroy()
        throw new BackingStoreError('io', `cannot unlink the temp swap file ${file}: ${(err as Error).message}`, { cause: err })
      }
    }
    return new FileStore(fh, options.path, dir, options, sealer)
  }

  /** File offset and record length of a live locator (diagnostics and tests). */
  placeOf(locator: number): { offset: number; length: number } | undefined {
    if (!this.table.isLive(locator)) return undefined
    return { offset: this.table.place[locator], length: this.table.recordLength[locator] }
  }

  async putMany(batch: PutBatch): Promise<Uint32Array> {
    this.checkOpen()
    const n = checkPutBatch(batch)
    const t0 = performance.now()
    if (n === 0) return new Uint32Array(0)
    const overhead = this.sealer.overhead
    const { locators, out, outOffsets, seqs, total } = this.sealer.sealBatch(this.table, batch, n)
    // Place the records. A record never straddles two segments; consecutive records in one
    // segment (or in adjacent ones) form one run, written with one call.
    const places = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      const place = this.space.allocate(batch.lengths[i] + overhead)
      if (place < 0) {
        // The space taken so far is dead (never counted live): compaction reclaims it.
        for (let k = 0; k < i; k++) this.space.endWrite(this.space.segmentOf(places[k]))
        this.releaseAll(locators, n)
        return this.failPut(new BackingStoreError('full', `swap file is at its maxBytes (${this.space.count * this.space.segmentBytes} bytes)`), n)
      }
      places[i] = place
    }
    const writes: Promise<unknown>[] = []
    for (let i = 0; i < n;) {
      let j = i + 1
      let end = places[i] + batch.lengths[i] + overhead
      while (j < n && places[j] === end) end += batch.lengths[j++] + overhead
      writes.push(writeFully(this.fh, out, outOffsets[i], end - places[i], places[i]))
      i = j
    }
    let failure: unknown
    try {
      await this.inFlight.track(Promise.all(writes))
    } catch (err) {
      failure = err
    }
    if (failure !== undefined || this.closed) {
      for (let i = 0; i < n; i++) this.space.endWrite(this.space.segmentOf(places[i]))
      this.releaseAll(locators, n)
      if (this.closed) return this.failPut(new ClosedError('backing store'), n)
      return this.failPut(new BackingStoreError(ioReason(failure), `writeback to the swap file failed: ${(failure as Error).message}`, { cause: failure }), n)
    }
    let payload = 0
    for (let i = 0; i < n; i++) {
      const rec = batch.lengths[i] + overhead
      this.table.publishRecord(locators[i], batch.keys[i], seqs[i], rec, places[i])
      this.space.addLive(places[i], rec)
      this.space.endWrite(this.space.segmentOf(places[i]))
      if (places[i] + rec > this.fileEnd) this.fileEnd = places[i] + rec
      payload += batch.lengths[i]
    }
    this.counters.countPut(n, payload, total, t0)
    return locators
  }

  async getMany(batch: GetBatch): Promise<GetResult> {
    this.checkOpen()
    const { n, status, tags, checksums } = checkGetBatch(batch)
    const t0 = performance.now()
    const table = this.table
    const wanted: number[] = []
    for (let i = 0; i < n; i++) {
      const loc = batch.locators[i]
      tags[i] = 0
      checksums[i] = 0
      status[i] = table.readStatus(loc, batch.keys[i])
      if (status[i] === 0) wanted.push(i)
    }
    const seqs = new Float64Array(n)
    const lengths = new Uint32Array(n)
    const bufOffsets = new Uint32Array(n)
    const places = new Float64Array(n)
    for (const i of wanted) {
      const loc = batch.locators[i]
      seqs[i] = table.seq[loc]
      lengths[i] = table.recordLength[loc]
      places[i] = table.place[loc]
      this.space.pin(this.space.segmentOf(places[i]))
    }
    wanted.sort((a, b) => places[a] - places[b])
    // Coalesce into runs; each object's bytes sit at bufOffsets[i] in one read buffer.
    const runs: { pos: number; length: number; buf: number; first: number; last: number }[] = []
    let bufBytes = 0
    for (let w = 0; w < wanted.length; w++) {
      const i = wanted[w]
      const run = runs[runs.length - 1]
      const end = places[i] + lengths[i]
      if (run && places[i] >= run.pos + run.length && places[i] - (run.pos + run.length) <= READ_GAP_BYTES &&
          end - run.pos <= MAX_READ_BYTES) {
        const grown = end - run.pos
        if (grown > run.length) { bufBytes += grown - run.length; run.length = grown }
        bufOffsets[i] = run.buf + (places[i] - run.pos)
        run.last = w
      } else if (run && places[i] < run.pos + run.length) {
        // Overlaps the previous run (cannot happen for distinct live records; kept safe for duplicates).
        const grown = Math.max(run.length, end - run.pos)
        bufBytes += grown - run.length
        run.length = grown
        bufOffsets[i] = run.buf + (places[i] - run.pos)
        run.last = w
      } else {
        runs.push({ pos: places[i], length: lengths[i], buf: bufBytes, first: w, last: w })
        bufOffsets[i] = bufBytes
        bufBytes += lengths[i]
      }
    }
    const buf = Buffer.allocUnsafe(bufBytes)
    const reads = runs.map((r) => this.fh.read(buf, r.buf, r.length, r.pos))
    const results = await this.inFlight.track(Promise.allSettled(reads))
    for (const i of wanted) this.space.unpin(this.space.segmentOf(places[i]))
    if (this.closed) throw new ClosedError('backing store')
    let readBytes = 0
    for (let r = 0; r < runs.length; r++) {
      const res = results[r]
      const run = runs[r]
      const got = res.status === 'fulfilled' ? res.value.bytesRead : -1
      if (got > 0) readBytes += got
      if (got === run.length) continue
      const fail = got < 0 ? GetStatus.UNAVAILABLE : GetStatus.CORRUPT
      for (let w = run.first; w <= run.last; w++) status[wanted[w]] = fail
    }
    this.sealer.native.openMany(
      n, [buf], null, bufOffsets, lengths, batch.keys, batch.locators, seqs,
      batch.into, batch.offsets, batch.capacities ?? null, PAGE_SIZE, tags, checksums, status,
    )
    const c = this.counters
    const failures = c.countStatuses(status, n)
    c.bytesRead += readBytes
    c.getBatches++
    c.getObjects += n
    c.getReads += runs.length
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
      this.space.removeLive(table.place[loc], rec)
      this.counters.payloadBytes -= rec - this.sealer.overhead
      this.counters.recordBytes -= rec
      table.release(loc)
      freed++
    }
    this.counters.deletedObjects += freed
    if (freed > 0) this.maybeCompact()
    return freed
  }

  /** Waits for a compaction in progress. */
  async flush(): Promise<void> {
    this.checkOpen()
    if (this.compaction) await this.compaction
  }

  /**
   * Compacts now, down to halfway between 1 and compactRatio (waits for a compaction
   * already running first). Resolves with the bytes the file shrank by.
   */
  async compact(): Promise<number> {
    this.checkOpen()
    if (this.compaction) await this.compaction
    const before = this.backingBytes()
    const run = this.inFlight.track(this.compactLoop())
    this.compaction = run
    try {
      await run
    } finally {
      if (this.compaction === run) this.compaction = undefined
    }
    return before - this.backingBytes()
  }

  stats(): BackingStoreStats {
    const s = this.counters.snapshot('file', this.sealer.mode, this.table.live, this.backingBytes(), 0)
    s.file = {
      path: this.path ?? `(unlinked temp file in ${this.tempDir})`,
      segment_bytes: this.space.segmentBytes,
      segments: this.space.count,
      free_segments: this.space.freeSegments(),
      compactions: this.compactions,
      relocated_objects: this.relocatedObjects,
      relocated_bytes: this.relocatedBytes,
      compaction_failures: this.compactionFailures,
    }
    return s
  }

  async close(): Promise<void> {
    if (this.closing) return this.closing
    this.closed = true
    this.closing = (async () => {
      await this.inFlight.drain()
      await this.fh.close().catch(() => {})
      if (this.path !== undefined) await unlink(this.path).catch(() => {})
      this.sealer.destroy()
    })()
    return this.closing
  }

  /** Bytes of the swap file: up to the end of the last segment that holds anything. */
  private backingBytes(): number {
    return Math.min(this.fileEnd, this.space.count * this.space.segmentBytes)
  }

  /** Compaction runs down to halfway between 1 and compactRatio. */
  private target(): number {
    return 1 + (this.ratio - 1) / 2
  }

  private overThreshold(ratio: number): boolean {
    return this.backingBytes() > ratio * this.space.liveBytes + this.space.segmentBytes
  }

  private maybeCompact(): void {
    if (this.compaction || this.closed || !this.overThreshold(this.ratio)) return
    const run = this.inFlight.track(this.compactLoop())
    this.compaction = run
    const done = () => { if (this.compaction === run) this.compaction = undefined }
    run.then(done, done)
  }

  private async compactLoop(): Promise<void> {
    const target = this.target()
    try {
      this.trimTail()
      // Progress is a new low of the file size (top segments evacuated) or of the dead bytes
      // inside used segments (sparse ones cleaned; the file may grow by a segment meanwhile).
      // A few steps with neither end the run, and so does a hard cap, so it cannot cycle.
      let minBacking = this.backingBytes()
      let minFragmented = this.space.fragmentedBytes()
      let stalled = 0
      let steps = 4 * this.space.count + 16
      while (!this.closed && this.overThreshold(target) && stalled < 4 && steps-- > 0) {
        if (!(await this.compactStep())) break
        const backing = this.backingBytes()
        const fragmented = this.space.fragmentedBytes()
        stalled = backing < minBacking || fragmented < minFragmented ? 0 : stalled + 1
        minBacking = Math.min(minBacking, backing)
        minFragmented = Math.min(minFragmented, fragmented)
      }
      // Picking victims may close an empty open segment at the top: drop it too.
      this.trimTail()
    } catch {
      // A failed truncate leaves the file larger, nothing else: records are only
      // republished after their new copies are written.
      this.compactionFailures++
    }
  }

  /** Empties up to VICTIMS_PER_STEP segments; false when nothing could be moved. */
  private async compactStep(): Promise<boolean> {
    const space = this.space
    const S = space.segmentBytes
    const victims = space.pickVictims(VICTIMS_PER_STEP, VICTIMS_PER_STEP * S, 1 / this.target())
    if (victims.length === 0) return false
    for (const v of victims) space.pin(v)
    const image = Buffer.allocUnsafe(victims.length * S)
    let ok = true
    try {
      await Promise.all(victims.map((v, k) => this.fh.read(image, k * S, S, v * S)))
    } catch {
      ok = false
    }
    if (!ok || this.closed) {
      for (const v of victims) space.unpin(v)
      if (!ok) this.compactionFailures++
      return false
    }
    // The live records in the victims, found by one pass over the locator table.
    const victimOf = new Int32Array(space.count).fill(-1)
    victims.forEach((v, k) => { victimOf[v] = k })
    const table = this.table
    const moved: number[] = []
    for (let loc = 1; loc < table.end; loc++) {
      if (table.state[loc] === LocatorState.Live && victimOf[space.segmentOf(table.place[loc])] >= 0) moved.push(loc)
    }
    const m = moved.length
    const oldPlaces = new Float64Array(m)
    const newPlaces = new Float64Array(m)
    const seqs = new Float64Array(m)
    let bytes = 0
    for (let k = 0; k < m; k++) bytes += table.recordLength[moved[k]]
    const out = Buffer.allocUnsafe(bytes)
    let pos = 0
    let placed = 0
    for (; placed < m; placed++) {
      const loc = moved[placed]
      const rec = table.recordLength[loc]
      const at = space.allocate(rec)
      if (at < 0) break
      oldPlaces[placed] = table.place[loc]
      newPlaces[placed] = at
      seqs[placed] = table.seq[loc]
      const v = victimOf[space.segmentOf(oldPlaces[placed])]
      const from = v * S + (oldPlaces[placed] - victims[v] * S)
      image.copy(out, pos, from, from + rec)
      pos += rec
    }
    const writes: Promise<unknown>[] = []
    let bufPos = 0
    for (let k = 0; k < placed;) {
      let j = k + 1
      let end = newPlaces[k] + table.recordLength[moved[k]]
      while (j < placed && newPlaces[j] === end) end += table.recordLength[moved[j++]]
      writes.push(writeFully(this.fh, out, bufPos, end - newPlaces[k], newPlaces[k]))
      bufPos += end - newPlaces[k]
      k = j
    }
    let written = true
    try {
      await Promise.all(writes)
    } catch {
      written = false
      this.compactionFailures++
    }
    for (let k = 0; k < placed; k++) {
      const loc = moved[k]
      const rec = table.recordLength[loc]
      // Publish the new place only if the object is still the one that was copied:
      // a delete (or a delete and a reuse of the locator) meanwhile makes the copy dead.
      if (written && table.state[loc] === LocatorState.Live && table.seq[loc] === seqs[k] && table.place[loc] === oldPlaces[k]) {
        table.place[loc] = newPlaces[k]
        space.addLive(newPlaces[k], rec)
        space.removeLive(oldPlaces[k], rec)
        if (newPlaces[k] + rec > this.fileEnd) this.fileEnd = newPlaces[k] + rec
        this.relocatedObjects++
        this.relocatedBytes += rec
      }
      space.endWrite(space.segmentOf(newPlaces[k]))
    }
    for (const v of victims) space.unpin(v)
    if (written) {
      this.counters.bytesWritten += bytes
      this.counters.bytesRead += victims.length * S
      this.compactions++
    }
    this.trimTail()
    return written && placed > 0
  }

  private trimTail(): void {
    const count = this.space.trimTail()
    if (count < 0) return
    const size = count * this.space.segmentBytes
    // Synchronous on purpose: an append issued after this must not race the truncate.
    ftruncateSync(this.fh.fd, size)
    if (this.fileEnd > size) this.fileEnd = size
  }

  private releaseAll(locators: Uint32Array, n: number): void {
    for (let i = 0; i < n; i++) this.table.release(locators[i])
  }

  private failPut(err: Error, objects: number): never {
    this.counters.putFailures++
    if (err instanceof BackingStoreError) this.counters.failures[err.reason] += objects
    throw err
  }

  private checkOpen(): void {
    if (this.closed) throw new ClosedError('backing store')
  }
}

async function writeFully(fh: FileHandle, buf: Buffer, offset: number, length: number, position: number): Promise<void> {
  while (length > 0) {
    const { bytesWritten } = await fh.write(buf, offset, length, position)
    if (bytesWritten <= 0) throw Object.assign(new Error('short write'), { code: 'EIO' })
    offset += bytesWritten
    position += bytesWritten
    length -= bytesWritten
  }
}

function ioReason(err: unknown): BackingStoreReason {
  const code = (err as { code?: string } | undefined)?.code
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG' ? 'full' : 'io'
}
