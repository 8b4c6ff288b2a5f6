/**
 * Page-granular memory for slabs: SharedArrayBuffer arenas (so worker threads
 * read and write objects in place) handing out runs of 1..8 contiguous pages.
 * An arena that empties is released, which is how the pool gives memory back.
 */
import { PAGE_SIZE } from '../codecs/status.js'

export const ARENA_PAGES = 4096 // 16 MiB: large enough to amortise, small enough to release

export interface Arena {
  /** Byte view over the whole arena (shared memory). */
  bytes: Uint8Array
  /** Int32 view over the same memory, for slab free lists kept inside free slots. */
  words: Int32Array
  /** 1 where the page belongs to a slab. */
  used: Uint8Array
  usedPages: number
  /** First page that may be free; runs are searched from here. */
  hint: number
}

export class ArenaSet {
  readonly arenas: (Arena | undefined)[] = []
  /** Byte views of the arenas, same indexes, kept in step: handed to native copies and workers as is. */
  readonly views: (Uint8Array | undefined)[] = []
  /** Pages handed out to slabs, over all arenas: zsmalloc's pages_used summed. */
  pagesInUse = 0
  private readonly maxArenas: number
  private readonly maxPages: number

  constructor(maxBytes: number) {
    this.maxArenas = Number.isFinite(maxBytes) ? Math.max(1, Math.ceil(maxBytes / (ARENA_PAGES * PAGE_SIZE))) : 4096
    this.maxPages = Number.isFinite(maxBytes) ? Math.floor(maxBytes / PAGE_SIZE) : Infinity
  }

  /** Returns (arena << 16 | firstPage) of a run of `pages` pages, or -1 when the pool is at its limit. */
  allocRun(pages: number): number {
    if (this.pagesInUse + pages > this.maxPages) return -1
    for (let a = 0; a < this.arenas.length; a++) {
      const arena = this.arenas[a]
      if (!arena || ARENA_PAGES - arena.usedPages < pages) continue
      const first = this.findRun(arena, pages)
      if (first >= 0) return this.take(a, arena, first, pages)
    }
    const slot = this.openArena()
    if (slot < 0) return -1
    return this.take(slot, this.arenas[slot]!, 0, pages)
  }

  freeRun(arenaIndex: number, first: number, pages: number): void {
    const arena = this.arenas[arenaIndex]!
    arena.used.fill(0, first, first + pages)
    arena.usedPages -= pages
    this.pagesInUse -= pages
    if (first < arena.hint) arena.hint = first
    if (arena.usedPages === 0 && this.liveArenas() > 1) {
      this.arenas[arenaIndex] = undefined
      this.views[arenaIndex] = undefined
    }
  }

  /** Bytes reserved as arenas (virtual; pages never written stay unbacked). */
  reservedBytes(): number {
    return this.liveArenas() * ARENA_PAGES * PAGE_SIZE
  }

  liveArenas(): number {
    let n = 0
    for (const a of this.arenas) if (a) n++
    return n
  }

  private findRun(arena: Arena, pages: number): number {
    const used = arena.used
    let runStart = -1
    for (let p = arena.hint; p < ARENA_PAGES; p++) {
      if (used[p]) {
        runStart = -1
        continue
      }
      if (runStart < 0) runStart = p
      if (p - runStart + 1 === pages) return runStart
    }
    return -1
  }

  private take(index: number, arena: Arena, first: number, pages: number): number {
    arena.used.fill(1, first, first + pages)
    arena.usedPages += pages
    this.pagesInUse += pages
    if (first === arena.hint) {
      let h = first + pages
      while (h < ARENA_PAGES && arena.used[h]) h++
      arena.hint = h
    }
    return (index << 16) | first
  }

  private openArena(): number {
    let slot = this.arenas.indexOf(undefined)
    if (slot < 0) {
      if (this.arenas.length >= this.maxArenas) return -1
      slot = this.arenas.length
      this.arenas.push(undefined)
      this.views.push(undefined)
    } else if (this.liveArenas() >= this.maxArenas) {
      return -1
    }
    const sab = new SharedArrayBuffer(ARENA_PAGES * PAGE_SIZE)
    this.arenas[slot] = {
      bytes: new Uint8Array(sab),
      words: new Int32Array(sab),
      used: new Uint8Array(ARENA_PAGES),
      usedPages: 0,
      hint: 0,
    }
    this.views[slot] = this.arenas[slot]!.bytes
    return slot
  }
}
