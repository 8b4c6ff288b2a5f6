/**
 * Test access to the objects a PageStore keeps in its native pool. Objects
 * live in native memory that JS cannot address, so a test that must damage
 * one (as a bit flip in memory would) reads it out through the pool's gather,
 * changes the copy, puts it back as a new object, and points the entry at it,
 * keeping the entry's length and checksum: a load then sees the damaged bytes
 * where the good ones were.
 */
import type { PageStore, StorePool } from 'zstash/internals'

interface Entries {
  find(k: number): number
  set(key: number, kind: number, slot: number, lo: number, hi: number, sum?: number): void
  lo: number
  hi: number
  sum: number
  slot: number
}

function internals(store: PageStore): { pool: StorePool; entries: Entries } {
  return store as unknown as { pool: StorePool; entries: Entries }
}

/** The stored object of `key` (a compressed or raw entry), copied out of the pool. */
export function readObject(store: PageStore, key: number): Uint8Array {
  const { pool, entries } = internals(store)
  const kind = entries.find(key)
  if (kind !== 1 && kind !== 2) throw new Error(`key ${key} has no object (kind ${kind})`)
  const length = kind === 2 ? 4096 : entries.hi
  const bytes = new Uint8Array(length)
  const copied = pool.gather(Uint32Array.of(entries.lo), Uint32Array.of(length), 1, bytes, Uint32Array.of(0))
  if (copied !== length) throw new Error(`gather returned ${copied}`)
  return bytes
}

/** Replaces the object of `key` by a copy changed by `damage`, keeping the entry's length and checksum. */
export function damageObject(store: PageStore, key: number, damage: (bytes: Uint8Array) => void): void {
  const { pool, entries } = internals(store)
  const bytes = readObject(store, key)
  damage(bytes)
  const kind = entries.find(key)
  const { lo, hi, sum, slot } = entries
  const handle = new Uint32Array(1)
  if (pool.put(bytes, Uint32Array.of(0), Uint32Array.of(bytes.length), 1, handle) !== 1) throw new Error('put failed')
  pool.free(Uint32Array.of(lo), 1)
  entries.set(key, kind, slot, handle[0], hi, sum)
}
