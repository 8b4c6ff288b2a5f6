/**
 * Real compressed pages laid out the way the pool holds them: lz4 objects in
 * SharedArrayBuffer arenas, named by (arena, offset, length), plus helpers to
 * build putMany / getMany batches from them.
 */
import { loadNative, PAGE_SIZE, tier } from 'zstash/internals'
import { readCorpusPages } from './corpus.js'

export interface CompressedPages {
  count: number
  arenas: Uint8Array[]
  sourceIndex: Uint32Array
  offsets: Uint32Array
  lengths: Uint32Array
  /** The object bytes of page i (a view into its arena). */
  object(i: number): Uint8Array
}

/**
 * The first `n` pages of the node-2k fixture, lz4-compressed (incompressible pages kept raw),
 * packed into 1 MiB shared arenas with 16-byte alignment, alternating arenas every 97 objects
 * so batches read from more than one source.
 */
export function compressedCorpus(n: number): CompressedPages {
  const pages = readCorpusPages('node-2k', n)
  const count = pages.length / PAGE_SIZE
  const codec = new (loadNative().Codec)('lz4', 1)
  const out = new Uint8Array(count * PAGE_SIZE)
  const status = new Int32Array(count)
  codec.compressBatch(pages, 0, count, out, 0, status, 0, PAGE_SIZE - 1, false)
  const arenas = [new Uint8Array(new SharedArrayBuffer(1 << 20))]
  const used = [0]
  const sourceIndex = new Uint32Array(count)
  const offsets = new Uint32Array(count)
  const lengths = new Uint32Array(count)
  let a = 0
  for (let i = 0; i < count; i++) {
    const raw = status[i] <= 0
    const len = raw ? PAGE_SIZE : status[i]
    const src = raw ? pages.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE) : out.subarray(i * PAGE_SIZE, i * PAGE_SIZE + len)
    if (i % 97 === 0) a = (a + 1) % 2
    if (a >= arenas.length) { arenas.push(new Uint8Array(new SharedArrayBuffer(1 << 20))); used.push(0) }
    if (used[a] + len > arenas[a].length) {
      arenas.push(new Uint8Array(new SharedArrayBuffer(1 << 20)))
      used.push(0)
      a = arenas.length - 1
    }
    arenas[a].set(src, used[a])
    sourceIndex[i] = a
    offsets[i] = used[a]
    lengths[i] = len
    used[a] += (len + 15) & ~15
  }
  return {
    count, arenas, sourceIndex, offsets, lengths,
    object: (i) => arenas[sourceIndex[i]].subarray(offsets[i], offsets[i] + lengths[i]),
  }
}

/** A putMany batch of the objects `indexes` of `c`, under keys keyOf(i), tags i ^ 0x5a5a, checksums ~i. */
export function putBatchOf(c: CompressedPages, indexes: number[], keyOf = (i: number) => 100_000 + i): tier.PutBatch {
  const n = indexes.length
  const b = {
    count: n,
    keys: new Uint32Array(n), tags: new Uint32Array(n), checksums: new Uint32Array(n),
    sources: c.arenas, sourceIndex: new Uint32Array(n), offsets: new Uint32Array(n), lengths: new Uint32Array(n),
  }
  indexes.forEach((i, k) => {
    b.keys[k] = keyOf(i)
    b.tags[k] = (i ^ 0x5a5a) >>> 0
    b.checksums[k] = ~i >>> 0
    b.sourceIndex[k] = c.sourceIndex[i]
    b.offsets[k] = c.offsets[i]
    b.lengths[k] = c.lengths[i]
  })
  return b
}

/** A getMany batch into a fresh buffer of PAGE_SIZE slots (pre-filled with 0xee to catch stray bytes). */
export function getBatchOf(locators: ArrayLike<number>, keys: ArrayLike<number>): tier.GetBatch & { into: Uint8Array } {
  const n = locators.length
  const into = new Uint8Array(n * PAGE_SIZE).fill(0xee)
  return {
    count: n,
    locators: Uint32Array.from(locators),
    keys: Uint32Array.from(keys),
    into,
    offsets: Uint32Array.from({ length: n }, (_, i) => i * PAGE_SIZE),
  }
}

/** Bytes of object k of a getMany result. */
export function slot(into: Uint8Array, k: number, length: number): Uint8Array {
  return into.subarray(k * PAGE_SIZE, k * PAGE_SIZE + length)
}
