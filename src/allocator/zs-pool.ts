/**
 * A zsmalloc-like allocator for compressed pages. Objects live in slabs of one
 * size class; slabs live in shared-memory arenas. A handle is a compact 32-bit
 * integer naming (slab, slot); compaction moves objects and hands the owner of
 * each moved handle its new value through a callback, so no separate handle
 * table is kept (zsmalloc needs one because kernel callers hold the handle in
 * many places; here the entry table is the only holder). That saves 4–8 bytes
 * per stored page.
 *
 * Every piece of metadata is a typed array indexed by slab id: the pool makes
 * no JS object per stored page.
 */
import { PAGE_SIZE } from '../codecs/status.js'
import { ArenaSet, type Arena } from './arenas.js'
import { buildSizeClasses, classIndexFor, CLASS_DELTA, MAX_OBJECTS_PER_SLAB, type SizeClass } from './size-classes.js'
import { grow } from '../util/grow.js'

const OBJ_BITS = Math.log2(MAX_OBJECTS_PER_SLAB) // 10
const OBJ_MASK = MAX_OBJECTS_PER_SLAB - 1
/** Fullness groups as in zsmalloc: 0..9 = (used/capacity) in 10% steps, 10 = full. */
const GROUPS = 11
const FULL = GROUPS - 1
const NONE = -1
/** Slab ids must leave encode() below 2^32: 4 M slabs, 16 GiB or more of pool. */
const MAX_SLABS = 2 ** (32 - OBJ_BITS) - 1

/** A handle is the object's (slab, slot) + 1, as an unsigned 32-bit value; 0 means "no object". */
function encode(slab: number, obj: number): number {
  return (((slab << OBJ_BITS) | obj) >>> 0) + 1
}

export interface ClassStats {
  size: number
  pagesPerSlab: number
  objectsPerSlab: number
  obj_allocated: number
  obj_used: number
  pages_used: number
  freeable: number
}

export interface PoolStats {
  /** zswap's pool_total_size: bytes of pages in slabs, fragmentation included. */
  pool_total_size: number
  /** Sum of the requested object sizes. */
  object_bytes: number
  objects: number
  /** Arena bytes reserved (virtual); pool_total_size is what holds data. */
  reserved_bytes: number
  /** Bytes of allocator metadata (slab and handle tables). */
  metadata_bytes: number
  pages_compacted: number
  classes: ClassStats[]
}

export interface ZsPoolOptions {
  /** Hard cap on arena memory; alloc() returns 0 past it. */
  maxBytes?: number
}

export class ZsPool {
  readonly classes: readonly SizeClass[]
  private readonly table = buildSizeClasses()
  private readonly arenaSet: ArenaSet

  // Slab table.
  private slabArena = new Uint16Array(64)
  private slabFirstPage = new Uint16Array(64)
  private slabClass = new Uint8Array(64)
  private slabInuse = new Uint16Array(64)
  private slabBump = new Uint16Array(64)
  private slabFreeHead = new Int16Array(64)
  private slabPrev = new Int32Array(64)
  private slabNext = new Int32Array(64)
  private slabGroup = new Uint8Array(64)
  private slabCount = 0
  private freeSlabIds = new Int32Array(16)
  private freeSlabTop = 0

  // Per-class lists and counters.
  private readonly groupHead: Int32Array
  private readonly classSlabs: Uint32Array
  private readonly classUsed: Float64Array


  private objectBytes = 0
  private objects = 0
  private pagesCompacted = 0

  /** Set by locate(): where the object is. Reading fields avoids allocating a result object. */
  arena!: Arena
  arenaIndex = 0
  offset = 0

  constructor(options: ZsPoolOptions = {}) {
    this.classes = this.table.classes
    this.arenaSet = new ArenaSet(options.maxBytes ?? Infinity)
    const n = this.classes.length
    this.groupHead = new Int32Array(n * GROUPS).fill(NONE)
    this.classSlabs = new Uint32Array(n)
    this.classUsed = new Float64Array(n)
  }

  /** Allocates room for `length` bytes (1..PAGE_SIZE). Returns a handle, or 0 when the pool is full. */
  alloc(length: number): number {
    if (!(length >= 1 && length <= PAGE_SIZE)) throw new RangeError(`object length ${length} outside 1..${PAGE_SIZE}`)
    const cls = classIndexFor(this.table, length)
    let slab = this.fullestSlab(cls)
    if (slab === NONE) {
      slab = this.newSlab(cls)
      if (slab === NONE) return 0
    }
    const obj = this.takeObject(slab)
    this.objectBytes += length
    this.objects++
    return encode(slab, obj)
  }

  /** Frees the object; `length` is the size it was allocated with (for the byte accounting). */
  free(handle: number, length: number): void {
    const loc = handle - 1
    this.releaseObject(loc >>> OBJ_BITS, loc & OBJ_MASK)
    this.objectBytes -= length
    this.objects--
  }

  /** Points `arena`/`offset` at the object's bytes. */
  locate(handle: number): void {
    const loc = handle - 1
    const slab = loc >>> OBJ_BITS
    this.arenaIndex = this.slabArena[slab]
    this.arena = this.arenaSet.arenas[this.arenaIndex]!
    this.offset = this.slabFirstPage[slab] * PAGE_SIZE + (loc & OBJ_MASK) * this.classes[this.slabClass[slab]].size
  }

  /**
   * Copies objects into one buffer: object i (handles[i], lengths[i] bytes) to
   * into[offsets[i]]. The writeback tier reads a batch this way.
   */
  gather(handles: Uint32Array, lengths: Uint32Array, count: number, into: Uint8Array, offsets: Uint32Array): void {
    for (let i = 0; i < count; i++) {
      this.locate(handles[i])
      into.set(this.arena.bytes.subarray(this.offset, this.offset + lengths[i]), offsets[i])
    }
  }

  /**
   * Allocates and writes objects from one buffer (pages read back from the
   * tier): object i is bytes[offsets[i], +lengths[i]). Stops at the first that
   * does not fit; returns how many were stored, their handles in `handles`.
   */
  put(bytes: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, handles: Uint32Array): number {
    for (let i = 0; i < count; i++) {
      const handle = this.alloc(lengths[i])
      if (handle === 0) return i
      this.locate(handle)
      this.arena.bytes.set(bytes.subarray(offsets[i], offsets[i] + lengths[i]), this.offset)
      handles[i] = handle
    }
    return count
  }

  /** Byte views of all arenas (undefined where released), indexed by arena number. */
  arenaBytes(): readonly (Uint8Array | undefined)[] {
    return this.arenaSet.views
  }

  /**
   * Moves objects out of the least used slabs of each class into free slots of
   * the others, then releases the emptied slabs (zsmalloc's __zs_compact).
   * `forEachHandle` must call `visit` once for every live handle and store the
   * handle it returns in place of the old one. Returns the number of pages released.
   */
  compact(forEachHandle: (visit: (handle: number) => number) => void): number {
    const before = this.arenaSet.pagesInUse
    this.planAndMove(forEachHandle)
    const released = before - this.arenaSet.pagesInUse
    this.pagesCompacted += released
    return released
  }

  stats(): PoolStats {
    const classes: ClassStats[] = []
    for (const c of this.classes) {
      const slabs = this.classSlabs[c.index]
      const allocated = slabs * c.objectsPerSlab
      const used = this.classUsed[c.index]
      classes.push({
        size: c.size,
        pagesPerSlab: c.pagesPerSlab,
        objectsPerSlab: c.objectsPerSlab,
        obj_allocated: allocated,
        obj_used: used,
        pages_used: slabs * c.pagesPerSlab,
        freeable: Math.floor((allocated - used) / c.objectsPerSlab) * c.pagesPerSlab,
      })
    }
    return {
      pool_total_size: this.arenaSet.pagesInUse * PAGE_SIZE,
      object_bytes: this.objectBytes,
      objects: this.objects,
      reserved_bytes: this.arenaSet.reservedBytes(),
      metadata_bytes: this.metadataBytes(),
      pages_compacted: this.pagesCompacted,
      classes,
    }
  }

  /** pool_total_size, without building the per-class table. */
  totalSize(): number {
    return this.arenaSet.pagesInUse * PAGE_SIZE
  }

  metadataBytes(): number {
    const perSlab = 2 + 2 + 1 + 2 + 2 + 2 + 4 + 4 + 1
    return this.slabArena.length * perSlab + this.freeSlabIds.byteLength
  }

  /** The byte range of a handle's slot: (arena, start, end), for invariant checks. */
  slotRange(handle: number): { arena: number; start: number; end: number } {
    const loc = handle - 1
    const slab = loc >>> OBJ_BITS
    const size = this.classes[this.slabClass[slab]].size
    const start = this.slabFirstPage[slab] * PAGE_SIZE + (loc & OBJ_MASK) * size
    return { arena: this.slabArena[slab], start, end: start + size }
  }

  // --- slabs --------------------------------------------------------------

  private fullestSlab(cls: number): number {
    const base = cls * GROUPS
    for (let g = FULL - 1; g >= 0; g--) {
      const head = this.groupHead[base + g]
      if (head !== NONE) return head
    }
    return NONE
  }

  private newSlab(cls: number): number {
    const c = this.classes[cls]
    const run = this.arenaSet.allocRun(c.pagesPerSlab)
    if (run < 0) return NONE
    if (this.freeSlabTop === 0 && this.slabCount >= MAX_SLABS) return NONE
    const slab = this.freeSlabTop > 0 ? this.freeSlabIds[--this.freeSlabTop] : this.slabCount++
    this.ensureSlabCapacity(slab + 1)
    this.slabArena[slab] = run >>> 16
    this.slabFirstPage[slab] = run & 0xffff
    this.slabClass[slab] = cls
    this.slabInuse[slab] = 0
    this.slabBump[slab] = 0
    this.slabFreeHead[slab] = NONE
    this.classSlabs[cls]++
    this.link(slab, cls, 0)
    return slab
  }

  private takeObject(slab: number): number {
    let obj = this.slabFreeHead[slab]
    if (obj !== NONE) {
      this.objectWordIndex(slab, obj)
      this.slabFreeHead[slab] = this.arenaSet.arenas[this.slabArena[slab]]!.words[this.wordIndex]
    } else {
      obj = this.slabBump[slab]++
    }
    const cls = this.slabClass[slab]
    this.slabInuse[slab]++
    this.classUsed[cls]++
    this.regroup(slab, cls)
    return obj
  }

  /**
   * Puts a slot back on its slab's free list; an emptied slab goes back to the
   * arena. `parked` slabs (compaction sources) are on no fullness list.
   */
  private releaseObject(slab: number, obj: number, parked = false): void {
    const cls = this.slabClass[slab]
    this.objectWordIndex(slab, obj)
    // The free list lives in the free slots themselves, as zsmalloc's link_free does.
    this.arenaSet.arenas[this.slabArena[slab]]!.words[this.wordIndex] = this.slabFreeHead[slab]
    this.slabFreeHead[slab] = obj
    this.slabInuse[slab]--
    this.classUsed[cls]--
    if (this.slabInuse[slab] === 0) {
      if (!parked) this.unlink(slab, cls)
      this.arenaSet.freeRun(this.slabArena[slab], this.slabFirstPage[slab], this.classes[cls].pagesPerSlab)
      this.classSlabs[cls]--
      this.freeSlabIds = grow(this.freeSlabIds, this.freeSlabTop + 1)
      this.freeSlabIds[this.freeSlabTop++] = slab
    } else if (!parked) {
      this.regroup(slab, cls)
    }
  }

  private wordIndex = 0
  private objectWordIndex(slab: number, obj: number): void {
    this.wordIndex = (this.slabFirstPage[slab] * PAGE_SIZE + obj * this.classes[this.slabClass[slab]].size) >>> 2
  }

  private groupOf(slab: number, cls: number): number {
    const used = this.slabInuse[slab]
    const cap = this.classes[cls].objectsPerSlab
    return used >= cap ? FULL : Math.floor((used * 10) / cap)
  }

  private regroup(slab: number, cls: number): void {
    const g = this.groupOf(slab, cls)
    if (g === this.slabGroup[slab]) return
    this.unlink(slab, cls)
    this.link(slab, cls, g)
  }

  private link(slab: number, cls: number, group: number): void {
    const at = cls * GROUPS + group
    const head = this.groupHead[at]
    this.slabPrev[slab] = NONE
    this.slabNext[slab] = head
    if (head !== NONE) this.slabPrev[head] = slab
    this.groupHead[at] = slab
    this.slabGroup[slab] = group
  }

  private unlink(slab: number, cls: number): void {
    const prev = this.slabPrev[slab]
    const next = this.slabNext[slab]
    if (prev !== NONE) this.slabNext[prev] = next
    else this.groupHead[cls * GROUPS + this.slabGroup[slab]] = next
    if (next !== NONE) this.slabPrev[next] = prev
  }

  private ensureSlabCapacity(n: number): void {
    if (this.slabArena.length >= n) return
    this.slabArena = grow(this.slabArena, n)
    this.slabFirstPage = grow(this.slabFirstPage, n)
    this.slabClass = grow(this.slabClass, n)
    this.slabInuse = grow(this.slabInuse, n)
    this.slabBump = grow(this.slabBump, n)
    this.slabFreeHead = grow(this.slabFreeHead, n)
    this.slabPrev = grow(this.slabPrev, n)
    this.slabNext = grow(this.slabNext, n)
    this.slabGroup = grow(this.slabGroup, n)
  }

  // --- compaction ---------------------------------------------------------
  //
  // zsmalloc compacts within a class, which leaves up to one partly used slab per
  // class: with ~120 classes that tail is several MiB, a large share of a small
  // pool. An object may also live in a slightly larger slot (the entry table, not
  // the slot, records its length), so a source slab may empty into free slots of
  // larger classes, up to twice the object's slot size. The rounding cost falls
  // only on the few objects moved out of partly used slabs; measured on the
  // node corpus after churn, pool/objects went 1.088 (within-class) → 1.037
  // (+1/4) → 1.030 (×2).

  /** Classes whose slots may take objects of class `cls` (up to twice its size), nearest first. */
  private targetClasses(cls: number): number[] {
    const size = this.classes[cls].size
    const limit = size * 2
    const out = [cls]
    for (let d = cls + 1; d < this.classes.length && this.classes[d].size <= limit; d++) out.push(d)
    return out
  }

  private planAndMove(forEachHandle: (visit: (handle: number) => number) => void): void {
    const n = this.classes.length
    // Free slots per class that are still open to incoming objects.
    const open = new Float64Array(n)
    for (let c = 0; c < n; c++) open[c] = this.classSlabs[c] * this.classes[c].objectsPerSlab - this.classUsed[c]
    const sources = new Set<number>()
    // Largest classes first: their leftover free slots can then absorb smaller objects.
    for (let cls = n - 1; cls >= 0; cls--) {
      const targets = this.targetClasses(cls)
      const objs = this.classes[cls].objectsPerSlab
      const candidates: number[] = []
      const base = cls * GROUPS
      for (let g = 0; g < FULL; g++) for (let s = this.groupHead[base + g]; s !== NONE; s = this.slabNext[s]) candidates.push(s)
      if (candidates.length === 0) continue
      candidates.sort((a, b) => this.slabInuse[a] - this.slabInuse[b])
      let capacity = 0
      for (const t of targets) capacity += open[t]
      let moving = 0
      for (const s of candidates) {
        const used = this.slabInuse[s]
        // Choosing s removes its own free slots from the capacity and adds its objects to the load.
        if (moving + used > capacity - (objs - used)) break
        capacity -= objs - used
        open[cls] -= objs - used
        moving += used
        sources.add(s)
      }
      // Reserve the planned capacity, nearest class first.
      for (const t of targets) {
        const take = Math.min(open[t], moving)
        open[t] -= take
        moving -= take
      }
    }
    if (sources.size === 0) return
    for (const s of sources) {
      this.unlink(s, this.slabClass[s])
      this.slabGroup[s] = FULL // parked: regroup() must not relink it, fullestSlab() never returns it
    }
    forEachHandle((handle) => {
      const loc = handle - 1
      const slab = loc >>> OBJ_BITS
      if (!sources.has(slab)) return handle
      const cls = this.slabClass[slab]
      let dst = NONE
      for (const t of this.targetClasses(cls)) if ((dst = this.fullestSlab(t)) !== NONE) break
      if (dst === NONE) return handle // the plan guarantees room; stay put rather than lose anything
      const obj = this.takeObject(dst)
      const size = this.classes[cls].size
      const from = this.arenaSet.arenas[this.slabArena[slab]]!
      const fromOffset = this.slabFirstPage[slab] * PAGE_SIZE + (loc & OBJ_MASK) * size
      const to = this.arenaSet.arenas[this.slabArena[dst]]!
      const toOffset = this.slabFirstPage[dst] * PAGE_SIZE + obj * this.classes[this.slabClass[dst]].size
      to.bytes.set(from.bytes.subarray(fromOffset, fromOffset + size), toOffset)
      this.releaseObject(slab, loc & OBJ_MASK, true)
      if (this.slabInuse[slab] === 0) sources.delete(slab)
      return encode(dst, obj)
    })
    // Sources that kept objects go back on their lists.
    for (const s of sources) {
      const cls = this.slabClass[s]
      this.link(s, cls, this.groupOf(s, cls))
    }
  }
}
