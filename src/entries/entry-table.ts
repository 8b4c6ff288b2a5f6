/**
 * The entry table: what zswap keeps in its xarrays. Keys are split into chunks
 * of 16384 (zswap's ZSWAP_ADDRESS_SPACE_SHIFT: one tree per 64 MiB of swap),
 * each chunk four typed arrays, so an entry costs 14 bytes and no JS object.
 *
 *   lo    handle (compressed, raw) | low word of the fill (same-filled) | page index (pending) | locator (tier)
 *   hi    object length            | high word of the fill              | store ticket (pending) | object length (tier)
 *   sum   checksum of the stored object (compressed, raw, tier)
 *   meta  bits 0-2 kind, bits 3-6 stream format slot, bit 7 taken, bit 8 busy, bit 9 referenced
 *
 * Every operation acts on the table when it is *called*, which is what makes
 * the last issued operation win (docs/reliability.md):
 *   - a store marks its keys Pending at call time (ticket = the store's number);
 *     when it completes it publishes only the keys still Pending with its ticket,
 *     and when it fails it erases only those — a later store, invalidate or
 *     exclusive load has replaced the others, and they are left alone;
 *   - an exclusive load whose decompression runs asynchronously marks its
 *     entries taken: they read as absent from then on, and are erased when the
 *     load completes, or un-taken if it fails (the entry is kept on a decode
 *     error, as zswap keeps it on -EIO), unless something replaced them meanwhile;
 *   - a writeback or a read from the tier marks its entries busy: any call that
 *     replaces an entry rewrites its meta and so clears the mark, and the
 *     completion acts only on entries still busy.
 *
 * Cold entries for writeback are found by a CLOCK hand over the keys with
 * zswap's second chance: stores and loads set the referenced bit, the hand
 * clears it and passes over the entry once, and takes the first unreferenced
 * one. It costs one bit per entry, where an LRU list would cost two links.
 *
 * A chunk is allocated when its first key is stored and dropped with its last.
 */
export const CHUNK_SHIFT = 14
export const CHUNK_KEYS = 1 << CHUNK_SHIFT
const CHUNK_MASK = CHUNK_KEYS - 1

export const EntryKind = {
  Empty: 0,
  Compressed: 1,
  Raw: 2,
  SameFilled: 3,
  /** A store of this key is in flight: its bytes are in the store's staging copy. */
  Pending: 4,
  /** Written back: the object is in the backing store under the locator in `lo`. */
  Tier: 5,
} as const
export type EntryKind = (typeof EntryKind)[keyof typeof EntryKind]

const KIND_MASK = 0b111
const SLOT_SHIFT = 3
const SLOT_MASK = 0b1111
const TAKEN = 1 << 7
const BUSY = 1 << 8
const REFERENCED = 1 << 9
/** Number of distinct stream-format slots an entry can name. */
export const MAX_COMPRESSOR_SLOTS = SLOT_MASK + 1
/** Bytes of table per key. */
export const ENTRY_BYTES = 4 + 4 + 4 + 2

interface Chunk {
  lo: Uint32Array
  hi: Uint32Array
  sum: Uint32Array
  meta: Uint16Array
  count: number
}

export class EntryTable {
  private readonly chunks = new Map<number, Chunk>()
  private entries = 0

  /** Set by find(): the chunk and index of the last key found. */
  private chunk: Chunk | undefined
  private index = 0

  /** Entries of every kind, pending and taken ones included. */
  get size(): number {
    return this.entries
  }

  /**
   * Looks a key up; returns its kind (Empty when absent or taken by an
   * exclusive load in flight) and positions the accessors below.
   */
  find(key: number): EntryKind {
    const kind = this.findAny(key)
    return kind !== EntryKind.Empty && this.taken ? EntryKind.Empty : kind
  }

  /** find(), but a taken entry reports its kind (check `taken`). */
  findAny(key: number): EntryKind {
    const chunk = this.chunks.get(key >>> CHUNK_SHIFT)
    this.chunk = chunk
    if (!chunk) return EntryKind.Empty
    this.index = key & CHUNK_MASK
    return (chunk.meta[this.index] & KIND_MASK) as EntryKind
  }

  // Accessors for the entry positioned by find(); valid only after it returned non-Empty.
  get lo(): number { return this.chunk!.lo[this.index] }
  get hi(): number { return this.chunk!.hi[this.index] }
  get sum(): number { return this.chunk!.sum[this.index] }
  get slot(): number { return (this.chunk!.meta[this.index] >>> SLOT_SHIFT) & SLOT_MASK }
  get taken(): boolean { return (this.chunk!.meta[this.index] & TAKEN) !== 0 }
  get busy(): boolean { return (this.chunk!.meta[this.index] & BUSY) !== 0 }
  get referenced(): boolean { return (this.chunk!.meta[this.index] & REFERENCED) !== 0 }

  /** Publishes an entry. The caller must have freed any object the key held before. */
  set(key: number, kind: EntryKind, slot: number, lo: number, hi: number, sum = 0): void {
    const id = key >>> CHUNK_SHIFT
    let chunk = this.chunks.get(id)
    if (!chunk) {
      chunk = {
        lo: new Uint32Array(CHUNK_KEYS), hi: new Uint32Array(CHUNK_KEYS), sum: new Uint32Array(CHUNK_KEYS),
        meta: new Uint16Array(CHUNK_KEYS), count: 0,
      }
      this.chunks.set(id, chunk)
      this.chunkIds = undefined
    }
    const i = key & CHUNK_MASK
    if ((chunk.meta[i] & KIND_MASK) === EntryKind.Empty) {
      chunk.count++
      this.entries++
    }
    chunk.lo[i] = lo
    chunk.hi[i] = hi
    chunk.sum[i] = sum
    // A new or rewritten entry starts referenced (zswap puts a stored entry at the LRU's head).
    chunk.meta[i] = kind | (slot << SLOT_SHIFT) | REFERENCED
  }

  /** Marks or unmarks the entry positioned by find()/findAny() as taken by an exclusive load in flight. */
  setTaken(taken: boolean): void {
    const meta = this.chunk!.meta
    meta[this.index] = taken ? meta[this.index] | TAKEN : meta[this.index] & ~TAKEN
  }

  /** Marks or unmarks the positioned entry as held by a writeback or a tier read in flight. */
  setBusy(busy: boolean): void {
    const meta = this.chunk!.meta
    meta[this.index] = busy ? meta[this.index] | BUSY : meta[this.index] & ~BUSY
  }

  /** Marks the positioned entry as used (a load): the writeback hand passes over it once. */
  touch(): void {
    this.chunk!.meta[this.index] |= REFERENCED
  }

  /** Whether `key` is Pending under `ticket`, i.e. still owned by that store. */
  isPendingFor(key: number, ticket: number): boolean {
    return this.findAny(key) === EntryKind.Pending && this.hi === ticket
  }

  /** Removes the entry of `key`, whatever its kind. */
  erase(key: number): void {
    const id = key >>> CHUNK_SHIFT
    const chunk = this.chunks.get(id)
    if (!chunk) return
    const i = key & CHUNK_MASK
    if ((chunk.meta[i] & KIND_MASK) === EntryKind.Empty) return
    chunk.meta[i] = 0
    this.entries--
    if (--chunk.count === 0) {
      this.chunks.delete(id)
      this.chunkIds = undefined
      if (this.chunk === chunk) this.chunk = undefined
    }
  }

  // --- the writeback hand ----------------------------------------------------

  private chunkIds: number[] | undefined
  private handChunk = 0
  private handIndex = 0

  /**
   * Up to `max` cold pool entries (compressed or raw, not held by an operation
   * in flight), into `keys`, from where the hand stopped last. With
   * `secondChance`, a referenced entry loses its bit and is passed over once.
   * Returns how many were found; fewer than `max` after two full turns.
   */
  coldest(max: number, keys: Uint32Array, secondChance: boolean): number {
    const ids = (this.chunkIds ??= [...this.chunks.keys()].sort((a, b) => a - b))
    if (ids.length === 0 || max <= 0) return 0
    let c = ids.indexOf(this.handChunk)
    let i = this.handIndex
    if (c < 0) {
      c = ids.findIndex((id) => id > this.handChunk)
      if (c < 0) c = 0
      i = 0
    }
    let found = 0
    let budget = 2 * ids.length * CHUNK_KEYS
    while (found < max && budget > 0) {
      const meta = this.chunks.get(ids[c])!.meta
      const base = ids[c] * CHUNK_KEYS
      for (; i < CHUNK_KEYS && found < max && budget > 0; i++, budget--) {
        const m = meta[i]
        const kind = m & KIND_MASK
        if ((kind !== EntryKind.Compressed && kind !== EntryKind.Raw) || (m & (TAKEN | BUSY)) !== 0) continue
        if (secondChance && (m & REFERENCED) !== 0) {
          meta[i] = m & ~REFERENCED
          continue
        }
        keys[found++] = base + i
      }
      if (i >= CHUNK_KEYS) {
        i = 0
        c = (c + 1) % ids.length
      }
    }
    this.handChunk = ids[c]
    this.handIndex = i
    return found
  }

  /** Up to `max` pool entries whose referenced bit is clear (idle since the last clearReferenced()). */
  idle(max: number, keys: Uint32Array): number {
    let found = 0
    for (const [id, chunk] of this.chunks) {
      const { meta } = chunk
      for (let i = 0; i < CHUNK_KEYS && found < max; i++) {
        const m = meta[i]
        const kind = m & KIND_MASK
        if ((kind === EntryKind.Compressed || kind === EntryKind.Raw) && (m & (TAKEN | BUSY | REFERENCED)) === 0) keys[found++] = id * CHUNK_KEYS + i
      }
      if (found >= max) break
    }
    return found
  }

  /**
   * Up to `max` keys from `from` on whose entry is not held by an operation in
   * flight and passes `accept(kind, slot, referenced)`. Returns how many were
   * found and the key to continue from (-1 at the end of the table).
   */
  select(from: number, max: number, keys: Uint32Array, accept: (kind: EntryKind, slot: number, referenced: boolean) => boolean): { count: number; next: number } {
    const ids = (this.chunkIds ??= [...this.chunks.keys()].sort((a, b) => a - b))
    let count = 0
    for (const id of ids) {
      const base = id * CHUNK_KEYS
      if (base + CHUNK_KEYS <= from) continue
      const { meta } = this.chunks.get(id)!
      for (let i = Math.max(0, from - base); i < CHUNK_KEYS; i++) {
        const m = meta[i]
        if ((m & KIND_MASK) === EntryKind.Empty || (m & (TAKEN | BUSY)) !== 0) continue
        if (!accept((m & KIND_MASK) as EntryKind, (m >>> SLOT_SHIFT) & SLOT_MASK, (m & REFERENCED) !== 0)) continue
        keys[count++] = base + i
        if (count === max) return { count, next: base + i + 1 }
      }
    }
    return { count, next: -1 }
  }

  /** Clears every referenced bit: entries not used from now on become idle (zram's mark_idle). */
  clearReferenced(): void {
    for (const chunk of this.chunks.values()) {
      const { meta } = chunk
      for (let i = 0; i < CHUNK_KEYS; i++) meta[i] &= ~REFERENCED
    }
  }

  /** Bytes of typed arrays held by the table. */
  metadataBytes(): number {
    return this.chunks.size * CHUNK_KEYS * ENTRY_BYTES
  }
}
