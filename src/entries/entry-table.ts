/**
 * The entry table: what zswap keeps in its xarrays. Keys are split into chunks
 * of 16384 (zswap's ZSWAP_ADDRESS_SPACE_SHIFT: one tree per 64 MiB of swap),
 * each chunk three typed arrays, so an entry costs 9 bytes and no JS object.
 *
 *   lo  handle (compressed, raw) | low word of the fill (same-filled)
 *   hi  compressed length         | high word of the fill
 *   meta  bits 0-1 kind, bits 2-5 compressor slot
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
} as const
export type EntryKind = (typeof EntryKind)[keyof typeof EntryKind]

const KIND_MASK = 0b11
const SLOT_SHIFT = 2
const SLOT_MASK = 0b1111
/** Number of distinct compressor slots an entry can name. */
export const MAX_COMPRESSOR_SLOTS = SLOT_MASK + 1

interface Chunk {
  lo: Uint32Array
  hi: Uint32Array
  meta: Uint8Array
  count: number
}

export class EntryTable {
  private readonly chunks = new Map<number, Chunk>()
  private entries = 0

  /** Set by find(): the chunk and index of the last key found. */
  private chunk: Chunk | undefined
  private index = 0

  get size(): number {
    return this.entries
  }

  /** Looks a key up; returns its kind (Empty when absent) and positions the accessors below. */
  find(key: number): EntryKind {
    const chunk = this.chunks.get(key >>> CHUNK_SHIFT)
    this.chunk = chunk
    if (!chunk) return EntryKind.Empty
    this.index = key & CHUNK_MASK
    return (chunk.meta[this.index] & KIND_MASK) as EntryKind
  }

  // Accessors for the entry positioned by find(); valid only after it returned non-Empty.
  get lo(): number { return this.chunk!.lo[this.index] }
  get hi(): number { return this.chunk!.hi[this.index] }
  get slot(): number { return (this.chunk!.meta[this.index] >>> SLOT_SHIFT) & SLOT_MASK }

  /** Publishes an entry. The caller must have freed any object the key held before. */
  set(key: number, kind: EntryKind, slot: number, lo: number, hi: number): void {
    const id = key >>> CHUNK_SHIFT
    let chunk = this.chunks.get(id)
    if (!chunk) {
      chunk = { lo: new Uint32Array(CHUNK_KEYS), hi: new Uint32Array(CHUNK_KEYS), meta: new Uint8Array(CHUNK_KEYS), count: 0 }
      this.chunks.set(id, chunk)
    }
    const i = key & CHUNK_MASK
    if ((chunk.meta[i] & KIND_MASK) === EntryKind.Empty) {
      chunk.count++
      this.entries++
    }
    chunk.lo[i] = lo
    chunk.hi[i] = hi
    chunk.meta[i] = kind | (slot << SLOT_SHIFT)
  }

  /** Removes the entry positioned by find(). */
  erase(key: number): void {
    const id = key >>> CHUNK_SHIFT
    const chunk = this.chunks.get(id)
    if (!chunk) return
    const i = key & CHUNK_MASK
    if ((chunk.meta[i] & KIND_MASK) === EntryKind.Empty) return
    chunk.meta[i] = 0
    this.entries--
    if (--chunk.count === 0) this.chunks.delete(id)
  }

  /** Bytes of typed arrays held by the table. */
  metadataBytes(): number {
    return this.chunks.size * CHUNK_KEYS * (4 + 4 + 1)
  }

  /** Passes every object handle (compressed and raw entries) to `visit` and stores what it returns. */
  relocateObjects(visit: (handle: number) => number): void {
    for (const chunk of this.chunks.values()) {
      const { lo, meta } = chunk
      for (let i = 0; i < CHUNK_KEYS; i++) {
        const kind = meta[i] & KIND_MASK
        if (kind === EntryKind.Compressed || kind === EntryKind.Raw) lo[i] = visit(lo[i])
      }
    }
  }
}
