/**
 * One thread of the allocator benchmark. On each message it runs one round over
 * its slice of shared pages and replies with the round's time:
 *   raw:  the native codec loop into a scratch buffer, nothing kept (the ceiling);
 *   pool: compressBatchToPool into the native pool, handles into shared rows.
 * Both modes run on the same threads over the same pages, alternately.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { loadNative } from '../../src/native.js'
import { attachNativePool, nativeAllocator, type NativePool } from '../../src/allocator/native-pool.js'

export interface RoundRequest {
  mode: 'raw' | 'pool'
  poolId?: number
  batch: number
  flags: number
  /** Ask for the pool's checksum of every object (the pool's kind decides which). */
  checksums?: boolean
  /** Results go to rows [rowBase + page]: the owner alternates two row sets. */
  rowBase?: number
}

const { pages, first, count, format, level, status, lo, hi, sums } = workerData as {
  pages: SharedArrayBuffer; first: number; count: number; format: string; level: number
  status: SharedArrayBuffer; lo: SharedArrayBuffer; hi: SharedArrayBuffer; sums: SharedArrayBuffer
}
const native = loadNative()
const A = nativeAllocator()
const codec = new native.Codec(format, level)
const src = new Uint8Array(pages)
const scratch = new Uint8Array(256 * 4096)
const scratchStatus = new Int32Array(256)
const st = new Int32Array(status)
const l = new Uint32Array(lo)
const h = new Uint32Array(hi)
const c = new Uint32Array(sums)
let pool: NativePool | undefined

parentPort!.on('message', (req: RoundRequest) => {
  if (req.mode === 'pool' && (!pool || pool.id !== req.poolId)) {
    pool?.close()
    pool = attachNativePool(req.poolId!)
  }
  const t0 = performance.now()
  const c0 = A.threadCpuMs()
  if (req.mode === 'raw') {
    for (let p = first; p < first + count; p += req.batch) {
      const n = Math.min(req.batch, first + count - p)
      for (let q = 0; q < n; q += 256) {
        codec.compressBatch(src, p + q, Math.min(256, n - q), scratch, 0, scratchStatus, 0, 4095, true)
      }
    }
  } else {
    for (let p = first; p < first + count; p += req.batch) {
      const n = Math.min(req.batch, first + count - p)
      A.compressBatchToPool(codec, pool!, src, p, n, st, l, h, (req.rowBase ?? 0) + p, req.checksums ? c : null, 4095, req.flags)
    }
  }
  parentPort!.postMessage({ wall: performance.now() - t0, cpu: A.threadCpuMs() - c0 })
})
