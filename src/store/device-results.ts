/**
 * The store path of a device backend: a device compresses into its own
 * buffers, and the store puts the folio's objects into the pool in one native
 * call, then checks and publishes them like any pooled result (CPU and worker
 * backends allocate in the pool themselves).
 */
import { PAGE_SIZE, PageStatus } from '../codecs/status.js'
import type { CompressResult, PooledResult } from '../codecs/backend.js'
import type { StorePool } from '../allocator/object-pool.js'
import { PoolStatus } from '../allocator/native-pool.js'
import { MAX_FOLIO_PAGES } from './options.js'

export class DeviceResults {
  // Scratch for one folio at a time (commits are synchronous): no per-page objects.
  private readonly scratch = {
    status: new Int32Array(MAX_FOLIO_PAGES), lo: new Uint32Array(MAX_FOLIO_PAGES), hi: new Uint32Array(MAX_FOLIO_PAGES),
    sums: new Uint32Array(MAX_FOLIO_PAGES), offsets: new Uint32Array(MAX_FOLIO_PAGES), lengths: new Uint32Array(MAX_FOLIO_PAGES),
    handles: new Uint32Array(MAX_FOLIO_PAGES), pages: new Uint32Array(MAX_FOLIO_PAGES), objectSums: new Uint32Array(MAX_FOLIO_PAGES),
  }

  /** `storeIncompressible`: kept incompressible pages become raw objects; otherwise they get none (the check rejects the folio). */
  constructor(private readonly pool: StorePool, private readonly storeIncompressible: boolean) {}

  /**
   * A device compressed into its own buffers: put every object into the pool
   * in one native call, and describe the folio as a pooled result. Raw pages
   * (kept incompressible ones) are copied from the input into their output
   * slots first, so the call has one source. Returns arrays of this
   * scratch (one folio at a time: the caller is synchronous until publish).
   */
  put(n: number, input: Uint8Array, result: CompressResult): PooledResult {
    const { status: st, out } = result
    const p = this.scratch
    let m = 0
    for (let i = 0; i < n; i++) {
      const s = st[i]
      p.status[i] = s
      p.lo[i] = 0
      p.hi[i] = 0
      if (s === PageStatus.SameFilled) {
        p.lo[i] = readU32(out, i * PAGE_SIZE)
        p.hi[i] = readU32(out, i * PAGE_SIZE + 4)
        continue
      }
      let length = 0
      if (s > 0 && s < PAGE_SIZE) length = s
      else if (s === PageStatus.Incompressible && this.storeIncompressible) {
        out.set(input.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE), i * PAGE_SIZE)
        length = PAGE_SIZE
      }
      if (length === 0) continue
      p.offsets[m] = i * PAGE_SIZE
      p.lengths[m] = length
      p.pages[m++] = i
    }
    const sums = this.pool.checksummed ? p.sums : undefined
    this.pool.put(out, p.offsets, p.lengths, m, p.handles, sums ? p.objectSums : undefined)
    for (let k = 0; k < m; k++) {
      const i = p.pages[k]
      if (p.handles[k] === 0) p.status[i] = PoolStatus.AllocFail
      p.lo[i] = p.handles[k]
      p.hi[i] = p.lengths[k]
      if (sums) sums[i] = p.objectSums[k]
    }
    return { pooled: true, status: p.status, lo: p.lo, hi: p.hi, sums, release: () => {} }
  }
}

/** Little-endian 32-bit read without allocating a DataView per folio. */
function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0
}
