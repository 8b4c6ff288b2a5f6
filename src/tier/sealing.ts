/**
 * Sealing of written-back objects: pages of process memory hold secrets, and a
 * cluster is shared. Each store has its own random key, generated in native
 * memory and never exposed to JS; each object gets a fresh sequence number
 * (the nonce is a random per-store prefix | that number, so a nonce is never
 * reused under a key); and the associated data binds the store's namespace id,
 * the page key, the locator and the sequence number. So an object that was
 *   tampered with           fails its auth tag,
 *   swapped (another key's) fails: the page key / locator in the AAD differ,
 *   stale (replayed older)  fails: the store expects the newer sequence number,
 *   foreign (another store) fails: another key and another namespace id,
 * and a failure is a per-object CORRUPT status, never plaintext.
 *
 * Why native: node:crypto needs a Cipher object per object (createCipheriv
 * repeats the key schedule and allocates); measured on 1.5 KiB objects on this
 * 2-vCPU VM it costs 7–9 µs per object against 1.5 µs for the batched EVP loop
 * in native/tier/object_sealer.cc, which sets the key once and only re-inits
 * the nonce (bench/tier.ts prints both every run). The native code calls the
 * same OpenSSL Node links (Node exports its OpenSSL symbols; libcrypto from
 * libssl-dev provides the headers and the link), so both run the same cipher code.
 *
 * Mode 'none' (the file store's default) keeps a CRC32C over the same bound
 * data instead: it catches torn, misplaced and stale records, not an attacker.
 */
import { randomBytes } from 'node:crypto'
import { loadNative } from '../native.js'
import type { PutBatch } from './backing-store.js'
import type { LocatorTable } from './locator-table.js'

export type SealingMode = 'aes-256-gcm' | 'chacha20-poly1305' | 'none'
export const SEALING_MODES: readonly SealingMode[] = ['aes-256-gcm', 'chacha20-poly1305', 'none']

/** Bytes a record adds to its payload: aead 8 (sealed tag + checksum) + 16 (auth tag); none 12 (crc, tag, checksum). */
export const RECORD_OVERHEAD: Record<SealingMode, number> = { 'aes-256-gcm': 24, 'chacha20-poly1305': 24, none: 12 }

export const NAMESPACE_ID_BYTES = 16

export interface NativeObjectSealer {
  sealMany(
    count: number, sources: readonly (Uint8Array | undefined)[], sourceIndex: Uint32Array | null,
    offsets: Uint32Array, lengths: Uint32Array, keys: Uint32Array, locators: Uint32Array,
    tags: Uint32Array, checksums: Uint32Array, out: Uint8Array, outOffsets: Uint32Array, seqs: Float64Array,
  ): void
  openMany(
    count: number, sources: readonly (Uint8Array | undefined)[], sourceIndex: Uint32Array | null,
    offsets: Uint32Array, lengths: Uint32Array, keys: Uint32Array, locators: Uint32Array, seqs: Float64Array,
    dst: Uint8Array, dstOffsets: Uint32Array, capacities: Uint32Array | null, defaultCapacity: number,
    tags: Uint32Array, checksums: Uint32Array, status: Int32Array,
  ): number
  overhead(): number
  nextSeq(): number
  destroy(): void
}

/** A sealed writeback batch: record i is out[outOffsets[i], + lengths[i] + overhead), sealed with seqs[i]. */
export interface SealedBatch {
  locators: Uint32Array
  out: Buffer
  outOffsets: Uint32Array
  seqs: Float64Array
  /** Bytes of all records. */
  total: number
}

type SealerConstructor = new (mode: SealingMode, namespaceId: Uint8Array) => NativeObjectSealer

/** A store's sealer: its key, its namespace id and its sequence numbers. */
export class Sealer {
  readonly mode: SealingMode
  readonly overhead: number
  readonly namespaceId: Uint8Array
  /** The namespace id as 16 hex digits (its first 8 bytes), for key names and file names. */
  readonly namespace: string
  readonly native: NativeObjectSealer

  constructor(mode: SealingMode, namespaceId: Uint8Array = randomBytes(NAMESPACE_ID_BYTES)) {
    const Native = loadNative().ObjectSealer as SealerConstructor
    this.mode = mode
    this.namespaceId = Uint8Array.from(namespaceId)
    this.namespace = Buffer.from(this.namespaceId.subarray(0, 8)).toString('hex')
    this.native = new Native(mode, this.namespaceId)
    this.overhead = this.native.overhead()
  }

  /**
   * Seals a writeback batch into one buffer, records back to back, each under a
   * locator taken from `table` (state Writing). On a sealing error the locators
   * go back to the table and the error is thrown.
   */
  sealBatch(table: LocatorTable, batch: PutBatch, n: number): SealedBatch {
    const overhead = this.overhead
    const outOffsets = new Uint32Array(n)
    let total = 0
    for (let i = 0; i < n; i++) {
      outOffsets[i] = total
      total += batch.lengths[i] + overhead
    }
    const locators = new Uint32Array(n)
    table.alloc(n, locators)
    const out = Buffer.allocUnsafe(total)
    const seqs = new Float64Array(n)
    try {
      this.native.sealMany(
        n, batch.sources, batch.sourceIndex ?? null, batch.offsets, batch.lengths, batch.keys, locators,
        batch.tags, batch.checksums, out, outOffsets, seqs,
      )
    } catch (err) {
      for (let i = 0; i < n; i++) table.release(locators[i])
      throw err
    }
    return { locators, out, outOffsets, seqs, total }
  }

  /** Wipes the key. */
  destroy(): void {
    this.native.destroy()
  }
}
