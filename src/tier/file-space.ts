/**
 * Space in the swap file: fixed-size segments, filled append-only one at a
 * time (so a writeback batch is one contiguous write, and a readahead of its
 * neighbours one read), emptied by deletes, and reused whole.
 *
 *   Free    holds nothing live; reused (lowest index first) once no read pins it.
 *   Open    the one segment new records are appended to.
 *   Closed  full (its unused tail is dead); only reads and deletes touch it.
 *
 * Each segment counts its live record bytes; a Closed segment whose count
 * drops to 0 (with no write still in flight into it) becomes Free at once.
 * Dead bytes inside partly live segments are what compaction (file-store.ts)
 * reclaims, by moving the live records out and freeing the segment; this file
 * only picks the victims. Allocating the lowest free segment first and
 * evacuating the top segment when there is room below keep the live data at
 * the front, so the file's tail can be truncated.
 */
import { grow } from '../util/grow.js'

export const SegmentState = { Free: 0, Open: 1, Closed: 2 } as const

export class FileSpace {
  readonly segmentBytes: number
  /** Segments the file spans (its size is at most count × segmentBytes). */
  count = 0
  state = new Uint8Array(0)
  live = new Float64Array(0)
  /** Reads in flight per segment: a pinned segment is not reused or truncated. */
  pins = new Uint32Array(0)
  /** Writes in flight per segment: such a segment is not freed. */
  writes = new Uint32Array(0)
  open = -1
  openUsed = 0
  /** Record bytes of every live object. */
  liveBytes = 0
  private readonly maxSegments: number

  constructor(segmentBytes: number, maxBytes: number) {
    this.segmentBytes = segmentBytes
    this.maxSegments = Number.isFinite(maxBytes) ? Math.floor(maxBytes / segmentBytes) : Number.MAX_SAFE_INTEGER
  }

  segmentOf(offset: number): number {
    return Math.floor(offset / this.segmentBytes)
  }

  /**
   * File offset for a record of `length` bytes (≤ segmentBytes), or -1 when the file may
   * not grow. The record's segment counts one write in flight until endWrite(): it cannot
   * be freed (or reused) before the record is written and counted live — even when a
   * later allocation of the same batch closes it.
   */
  allocate(length: number): number {
    if (this.open < 0 || this.openUsed + length > this.segmentBytes) {
      const next = this.lowestReusable()
      if (next < 0 && this.count >= this.maxSegments) return -1
      if (this.open >= 0) this.close(this.open)
      this.open = next >= 0 ? next : this.count++
      this.ensure(this.count)
      this.state[this.open] = SegmentState.Open
      this.openUsed = 0
    }
    const offset = this.open * this.segmentBytes + this.openUsed
    this.openUsed += length
    this.writes[this.open]++
    return offset
  }

  addLive(offset: number, length: number): void {
    this.live[this.segmentOf(offset)] += length
    this.liveBytes += length
  }

  removeLive(offset: number, length: number): void {
    const seg = this.segmentOf(offset)
    this.live[seg] -= length
    this.liveBytes -= length
    this.maybeFree(seg)
  }

  endWrite(seg: number): void {
    this.writes[seg]--
    this.maybeFree(seg)
  }

  pin(seg: number): void {
    this.pins[seg]++
  }

  unpin(seg: number): void {
    this.pins[seg]--
  }

  /** Closes the open segment early (compaction evacuating it). */
  closeOpen(): void {
    if (this.open >= 0) this.close(this.open)
    this.open = -1
    this.openUsed = 0
  }

  /**
   * Drops trailing free, unpinned segments; returns the new count when it shrank, else -1.
   * A Free segment has no write in flight and an unpinned one no read, so the caller may
   * truncate the file to count × segmentBytes at once (synchronously: an append issued
   * after this call must not race an asynchronous truncate).
   */
  trimTail(): number {
    const before = this.count
    while (this.count > 0 && this.state[this.count - 1] === SegmentState.Free && this.pins[this.count - 1] === 0) {
      this.count--
    }
    return this.count < before ? this.count : -1
  }

  /** Dead bytes inside segments that hold anything (what cleaning Closed segments reclaims). */
  fragmentedBytes(): number {
    let used = 0
    for (let s = 0; s < this.count; s++) if (this.state[s] !== SegmentState.Free) used++
    const openTail = this.open >= 0 ? this.segmentBytes - this.openUsed : 0
    return used * this.segmentBytes - openTail - this.liveBytes
  }

  freeSegments(): number {
    let n = 0
    for (let s = 0; s < this.count; s++) if (this.state[s] === SegmentState.Free) n++
    return n
  }

  /** Highest segment holding anything (not Free), or -1. */
  top(): number {
    for (let s = this.count - 1; s >= 0; s--) if (this.state[s] !== SegmentState.Free) return s
    return -1
  }

  /** Free, unpinned segments below `limit`. */
  reusableBelow(limit: number): number {
    let n = 0
    for (let s = 0; s < limit; s++) if (this.state[s] === SegmentState.Free && this.pins[s] === 0) n++
    return n
  }

  /**
   * Segments to empty next, at most `max`, together holding at most `budget` live bytes.
   * First choice: the top segments, when free segments below can take their records
   * (the file then shrinks). Otherwise the Closed segments with the fewest live bytes,
   * among those less than `maxLiveFraction` live (cleaning a fuller one costs more I/O
   * than the bound needs).
   */
  pickVictims(max: number, budget: number, maxLiveFraction: number): number[] {
    const S = this.segmentBytes
    let top = this.top()
    if (top >= 0 && top === this.open && this.reusableBelow(top) > 0) {
      this.closeOpen()
      top = this.top()
    }
    const victims: number[] = []
    // The top run of Closed segments, as long as the free segments below the lowest
    // of them can take every record moved (so nothing lands above and the tail empties).
    let moved = 0
    for (let s = top; s >= 0 && victims.length < max; s--) {
      if (this.state[s] !== SegmentState.Closed || this.writes[s] > 0) break
      if (moved + this.live[s] > Math.min(this.reusableBelow(s) * S, budget)) break
      victims.push(s)
      moved += this.live[s]
    }
    if (victims.length > 0) return victims
    const candidates: number[] = []
    for (let s = 0; s < this.count; s++) {
      if (this.state[s] === SegmentState.Closed && this.writes[s] === 0 && this.live[s] < maxLiveFraction * S) candidates.push(s)
    }
    candidates.sort((a, b) => this.live[a] - this.live[b])
    // Move only as much as free space can take (the first victim always goes: with no free
    // segment its records land in the open one). Each step's victims then become the next
    // step's free space, so records move once, not out to the tail and back.
    const room = Math.max(this.reusableBelow(this.count) * S + (this.open >= 0 ? S - this.openUsed : 0), 1)
    moved = 0
    for (const s of candidates) {
      if (victims.length >= max || moved + this.live[s] > Math.min(budget, room) && victims.length > 0) break
      victims.push(s)
      moved += this.live[s]
    }
    return victims
  }

  private close(seg: number): void {
    this.state[seg] = SegmentState.Closed
    this.maybeFree(seg)
  }

  private maybeFree(seg: number): void {
    if (this.state[seg] === SegmentState.Closed && this.live[seg] <= 0 && this.writes[seg] === 0) {
      this.state[seg] = SegmentState.Free
      this.live[seg] = 0
    }
  }

  private lowestReusable(): number {
    for (let s = 0; s < this.count; s++) if (this.state[s] === SegmentState.Free && this.pins[s] === 0) return s
    return -1
  }

  private ensure(n: number): void {
    if (this.state.length >= n) return
    this.state = grow(this.state, n)
    this.live = grow(this.live, n)
    this.pins = grow(this.pins, n)
    this.writes = grow(this.writes, n)
  }
}
