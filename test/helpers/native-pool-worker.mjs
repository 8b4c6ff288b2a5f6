// A worker thread for test/native-pool.test.ts: attaches to a native pool by id
// and compresses its slice of shared pages into it, batch after batch, writing
// status/handles/lengths into shared result arrays. Plain JS so it runs without
// a build step; it imports the built package like the tests do.
import { workerData, parentPort } from 'node:worker_threads'
import { attachNativePool, nativeAllocator, loadNative, CompressToPool } from 'zstash/internals'

const { poolId, format, pages, first, count, batch, status, lo, hi, progress, slot, rounds, exitAfter } = workerData
const A = nativeAllocator()
const pool = attachNativePool(poolId)
const codec = new (loadNative().Codec)(format, 1)
const src = new Uint8Array(pages)
const st = new Int32Array(status)
const l = new Uint32Array(lo)
const h = new Uint32Array(hi)
const done = new Int32Array(progress)
const flags = CompressToPool.SameFilled | CompressToPool.StoreRaw

// Each round stores the slice again into fresh result rows: row r covers [r * total, (r + 1) * total).
const total = st.length / rounds
let batches = 0
for (let r = 0; r < rounds; r++) {
  for (let p = first; p < first + count; p += batch) {
    const n = Math.min(batch, first + count - p)
    A.compressBatchToPool(codec, pool, src, p, n, st, l, h, r * total + p, null, 4095, flags)
    batches++
    Atomics.store(done, slot, batches)
    Atomics.notify(done, slot)
    if (exitAfter !== undefined && batches === exitAfter) process.exit(0)
  }
}
parentPort.postMessage({ batches })
