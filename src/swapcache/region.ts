/**
 * A region of a SwapCache's virtual memory. Its tables are typed arrays indexed
 * by folio (→ slot) and by page (→ state); the bytes live in the cache's frame
 * buffer or in the store. Synchronous accessors fault on the calling thread;
 * the async ones wait for free frames first.
 */
import { InvalidArgumentError, WouldBlockError, ZstashError } from '../errors.js'
import { describe } from '../util/validate.js'
import { realBytes } from '../store/arguments.js'
import { RegionFreedError, ResidentLimitError } from './errors.js'
import type { SwapCache } from './swap-cache.js'

export const enum PageState {
  /** Never touched: reads as zeros, has neither frame nor store entry. */
  Untouched = 0,
  /** In the folio's frame; the store holds no entry for it. */
  Resident = 1,
  /** In the store only. */
  Swapped = 2,
}

export class Region {
  /** @internal */ readonly id: number
  /** Store key of the region's first page. */
  readonly baseKey: number
  readonly byteLength: number
  /** @internal */ readonly folios: number
  /** @internal Slot of each folio, or -1. */
  readonly folioSlot: Int32Array
  /** @internal PageState of each page. */
  readonly pageState: Uint8Array
  /** @internal */ freed = false
  /** @internal Writebacks of this region's folios in flight: its keys stay reserved until they end. */
  writebacks = 0
  /** @internal */ keysReleased = false
  private readonly cache: SwapCache
  // Scratch for scalar values that straddle a folio boundary.
  private readonly scratch = new Uint8Array(8)
  private readonly scratchView = new DataView(this.scratch.buffer)

  /** @internal Use SwapCache.alloc(). */
  constructor(cache: SwapCache, id: number, baseKey: number, byteLength: number, folios: number, folioPages: number) {
    this.cache = cache
    this.id = id
    this.baseKey = baseKey
    this.byteLength = byteLength
    this.folios = folios
    this.folioSlot = new Int32Array(folios).fill(-1)
    this.pageState = new Uint8Array(folios * folioPages)
  }

  /** Copies dst.length bytes at `offset` into dst. Throws ResidentLimitError (having done nothing) when frames run out. */
  read(offset: number, dst: Uint8Array): void {
    this.cache.access(this, offset, checkBuffer(dst, 'dst'), false)
  }

  /** Copies src to `offset`. Throws ResidentLimitError (having written nothing) when frames run out. */
  write(offset: number, src: Uint8Array): void {
    this.cache.access(this, offset, checkBuffer(src, 'src'), true)
  }

  /** read(), waiting for reclaim whenever frames run out; any size. */
  readAsync(offset: number, dst: Uint8Array): Promise<void> {
    return this.inPieces(offset, dst, checkBuffer(dst, 'dst'), false)
  }

  /** write(), waiting for reclaim whenever frames run out; any size. */
  writeAsync(offset: number, src: Uint8Array): Promise<void> {
    return this.inPieces(offset, src, checkBuffer(src, 'src'), true)
  }

  getUint8(offset: number): number {
    const at = this.cache.locate(this, offset, 1, false)
    return this.cache.frames[at]
  }

  setUint8(offset: number, value: number): void {
    const at = this.cache.locate(this, offset, 1, true)
    this.cache.frames[at] = value
  }

  getUint32(offset: number, littleEndian = true): number {
    const at = this.cache.locate(this, offset, 4, false)
    if (at >= 0) return this.cache.view.getUint32(at, littleEndian)
    this.read(offset, this.scratch.subarray(0, 4))
    return this.scratchView.getUint32(0, littleEndian)
  }

  setUint32(offset: number, value: number, littleEndian = true): void {
    const at = this.cache.locate(this, offset, 4, true)
    if (at >= 0) return this.cache.view.setUint32(at, value, littleEndian)
    this.scratchView.setUint32(0, value, littleEndian)
    this.write(offset, this.scratch.subarray(0, 4))
  }

  getBigUint64(offset: number, littleEndian = true): bigint {
    const at = this.cache.locate(this, offset, 8, false)
    if (at >= 0) return this.cache.view.getBigUint64(at, littleEndian)
    this.read(offset, this.scratch)
    return this.scratchView.getBigUint64(0, littleEndian)
  }

  setBigUint64(offset: number, value: bigint, littleEndian = true): void {
    const at = this.cache.locate(this, offset, 8, true)
    if (at >= 0) return this.cache.view.setBigUint64(at, value, littleEndian)
    this.scratchView.setBigUint64(0, value, littleEndian)
    this.write(offset, this.scratch)
  }

  /** Releases the region's frames and store entries. Further use throws RegionFreedError. */
  free(): void {
    this.cache.freeRegion(this)
  }

  /** @internal */
  throwFreed(): never {
    throw new RegionFreedError(`region at key ${this.baseKey}`)
  }

  /**
   * Piece by piece (up to a quarter of the frames each): reserve the frames a
   * piece needs, batch-load its swapped pages with one loadMany, then do the
   * synchronous access. A ResidentLimitError means another task took the
   * frames in between: wait again.
   */
  private async inPieces(offset: number, arg: Uint8Array, buf: Uint8Array, write: boolean): Promise<void> {
    const cache = this.cache
    // The whole range is checked before the first piece: a bad range touches nothing.
    cache.checkAccess(this, offset, buf.length)
    let done = 0
    try {
      done = await this.eachPiece(offset, arg, buf.length, write, (n) => { done = n })
    } catch (err) {
      if (err instanceof ZstashError && err.bytesDone === undefined) err.bytesDone = done
      throw err
    }
  }

  private async eachPiece(offset: number, arg: Uint8Array, length: number, write: boolean, progress: (done: number) => void): Promise<number> {
    const cache = this.cache
    const fb = cache.folioBytes
    let done = 0
    while (done < length) {
      // Per piece: under chargePool the frames allowed shrink as the pool grows.
      const pieceFolios = Math.max(1, Math.min(64, Math.floor(cache.frameLimit / 4)))
      const at = offset + done
      const n = Math.min(length - done, pieceFolios * fb - (at % fb))
      for (;;) {
        const need = cache.framesNeeded(this, at, n)
        if (need > cache.freeSlots) {
          try {
            await cache.reserve(need)
          } catch (err) {
            if (!(err instanceof ResidentLimitError)) throw err
            throw new ResidentLimitError(`${err.message}; ${done} of ${length} bytes done`, err.needed, err.free, done)
          }
        }
        if (cache.hasSwapped(this, at, n)) await cache.prefetch(this, at, n)
        // The caller's buffer as it is now, after the waits: one detached or shrunk meanwhile is refused, not half-read.
        const buf = realBytes(arg)
        if (!buf || buf.byteLength < done + n) {
          throw new InvalidArgumentError(`the ${write ? 'source' : 'destination'} buffer was detached or shrunk during the ${write ? 'write' : 'read'}`)
        }
        try {
          cache.access(this, at, buf.subarray(done, done + n), write)
          break
        } catch (err) {
          // Frames taken, or a page written back, between the read-ahead and the access: go round again.
          if (!(err instanceof ResidentLimitError) && !(err instanceof WouldBlockError)) throw err
        }
      }
      done += n
      progress(done)
    }
    return done
  }
}

/** The caller's bytes as they really are (a subclass cannot lie about its length). */
function checkBuffer(buf: Uint8Array, name: string): Uint8Array {
  const real = realBytes(buf)
  if (!real) throw new InvalidArgumentError(`${name} must be a Uint8Array, got ${describe(buf)}`)
  return real
}
