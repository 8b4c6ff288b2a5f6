/**
 * Locators: the 32-bit names a backing store hands out, one per written-back
 * object, kept in typed arrays (25 bytes per object, no JS object per page).
 * A locator is an index here, not a place, so the file store can move an
 * object (compaction) without the entry table noticing. What a store needs to
 * check a read stays in memory only: the page key, the sequence number the
 * object was sealed with (a replayed older record has an older one) and the
 * record length.
 */
import { grow } from '../util/grow.js'
import { BackingStoreError } from '../errors.js'
import { GetStatus } from './backing-store.js'

export const LocatorState = {
  Free: 0,
  /** Allocated by a putMany that has not resolved: not readable yet. */
  Writing: 1,
  Live: 2,
} as const

const MAX_LOCATOR = 0xffff_ffff

export class LocatorTable {
  key = new Uint32Array(0)
  seq = new Float64Array(0)
  recordLength = new Uint32Array(0)
  /** Where the record is: the file store's byte offset, the cluster store's batch id. */
  place = new Float64Array(0)
  state = new Uint8Array(0)
  /** Live objects. */
  live = 0
  private freeList = new Uint32Array(0)
  private freeCount = 0
  /** Next never-used locator; 0 is NO_LOCATOR and never handed out. */
  private next = 1

  /** Allocates `count` locators into out[0..count) in state Writing. */
  alloc(count: number, out: Uint32Array): void {
    const fresh = Math.max(0, count - this.freeCount)
    if (this.next + fresh - 1 > MAX_LOCATOR) {
      throw new BackingStoreError('full', `backing store has no free locator (${MAX_LOCATOR} in use)`)
    }
    this.ensure(this.next + fresh)
    for (let i = 0; i < count; i++) {
      const loc = this.freeCount > 0 ? this.freeList[--this.freeCount] : this.next++
      this.state[loc] = LocatorState.Writing
      out[i] = loc
    }
  }

  /** Marks an allocated locator live. */
  publish(loc: number): void {
    this.state[loc] = LocatorState.Live
    this.live++
  }

  /** Records what a read of `loc` must check, and where its record is, then marks it live. */
  publishRecord(loc: number, key: number, seq: number, recordLength: number, place: number): void {
    this.key[loc] = key
    this.seq[loc] = seq
    this.recordLength[loc] = recordLength
    this.place[loc] = place
    this.publish(loc)
  }

  /** Whether `loc` can be read as page `key`: 0, or the GetStatus that says why not. */
  readStatus(loc: number, key: number): number {
    if (!this.isLive(loc)) return GetStatus.MISSING
    if (this.key[loc] !== key) return GetStatus.WRONG_KEY
    return 0
  }

  /** Returns a locator (Writing or Live) to the free list. */
  release(loc: number): void {
    if (this.state[loc] === LocatorState.Live) this.live--
    this.state[loc] = LocatorState.Free
    this.seq[loc] = 0
    this.freeList = grow(this.freeList, this.freeCount + 1)
    this.freeList[this.freeCount++] = loc
  }

  isLive(loc: number): boolean {
    return loc > 0 && loc < this.next && this.state[loc] === LocatorState.Live
  }

  /** One past the highest locator ever handed out. */
  get end(): number {
    return this.next
  }

  /** Bytes of memory the table holds. */
  memoryBytes(): number {
    return this.key.byteLength + this.seq.byteLength + this.recordLength.byteLength + this.place.byteLength +
      this.state.byteLength + this.freeList.byteLength
  }

  private ensure(length: number): void {
    if (this.state.length >= length) return
    this.key = grow(this.key, length)
    this.seq = grow(this.seq, length)
    this.recordLength = grow(this.recordLength, length)
    this.place = grow(this.place, length)
    this.state = grow(this.state, length)
  }
}
