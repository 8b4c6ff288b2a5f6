/**
 * The entry table: what zswap keeps in its xarrays. Keys are split into chunks
 * of 16384 (zswap's ZSWAP_ADDRESS_SPACE_SHIFT: one tree per 64 MiB of swap),
 * each chunk four typed arrays, so an entry costs 14 bytes and no JS object.
 *
 *   lo    handle (compressed, raw) | low word of the fill (same-filled) | page index (pending)
 *   hi    compressed length        | high word of the fill              | store ticket (pending)
 *   sum   checksum of the stored object (compressed, raw)
 *   meta  bits 0-2 kind, bits 3-6 stream format slot, bit 7 taken
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
 *     error, as zswap keeps it on -EIO), unless something replaced them meanwhile.
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
} as const
export type EntryKind = (typeof EntryKind)[keyof typeof EntryKind]

const KIND_MASK = 0b111
const SLOT_SHIFT = 3
const SLOT_MASK = 0b1111
const TAKEN = 1 << 7
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
    }
    const i = key & CHUNK_MASK
    if ((chunk.meta[i] & KIND_MASK) === EntryKind.Empty) {
      chunk.count++
      this.entries++
    }
    chunk.lo[i] = lo
    chunk.hi[i] = hi
    chunk.sum[i] = sum
    chunk.meta[i] = kind | (slot << SLOT_SHIFT)
  }

  /** Marks or unmarks the entry positioned by find()/findAny() as taken by an exclusive load in flight. */
  setTaken(taken: boolean): void {
    const meta = this.chunk!.meta
    meta[this.index] = taken ? meta[this.index] | TAKEN : meta[this.index] & ~TAKEN
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
      if (this.chunk === chunk) this.chunk = undefined
    }
  }

  /** Bytes of typed arrays held by the table. */
  metadataBytes(): number {
    return this.chunks.size * CHUNK_KEYS * ENTRY_BYTES
  }
}
