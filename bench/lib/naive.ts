/**
 * The naive alternative, timed wall-clock like the zstash rows: Map +
 * lz4-napi on the calling thread, and its natural parallel form, N worker
 * threads each with its own Map over a contiguous slice of the pages.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { NaiveStore } from './naive-core.js'
import { ThreadGroup } from './thread-group.js'
import { gc, heapBytes } from './stats.js'

const here = path.dirname(fileURLToPath(import.meta.url))

export interface NaiveTimes {
  threads: number
  storeMs: number[]
  loadMs: number[]
  compressedBytes: number
  /** Heap bytes per page beyond the compressed bytes (1 thread only; needs --expose-gc). */
  overheadPerPage?: number
}

export async function measureNaive(pages: SharedArrayBuffer, threads: number, rounds: number): Promise<NaiveTimes> {
  const n = pages.byteLength / 4096
  if (threads === 1) {
    const src = new Uint8Array(pages)
    const naive = new NaiveStore()
    const storeMs: number[] = []
    const loadMs: number[] = []
    naive.store(src, 0, n) // warm-up
    naive.verify(src, 0, n)
    for (let r = 0; r < rounds; r++) {
      naive.clear()
      let t0 = performance.now()
      naive.store(src, 0, n)
      storeMs.push(performance.now() - t0)
      t0 = performance.now()
      naive.load(0, n)
      loadMs.push(performance.now() - t0)
    }
    naive.clear()
    gc()
    const before = heapBytes()
    naive.store(src, 0, n)
    gc()
    const overheadPerPage = (heapBytes() - before - naive.compressedBytes) / n
    return { threads, storeMs, loadMs, compressedBytes: naive.compressedBytes, overheadPerPage }
  }
  const per = Math.ceil(n / threads)
  const group = await ThreadGroup.start(path.join(here, 'naive-worker.js'), Array.from({ length: threads }, (_, i) => ({
    pages, first: Math.min(n, i * per), count: Math.max(0, Math.min(per, n - i * per)),
  })))
  try {
    await group.round('store')
    await group.round('verify')
    await group.round('clear')
    const storeMs: number[] = []
    const loadMs: number[] = []
    let compressedBytes = 0
    for (let r = 0; r < rounds; r++) {
      await group.round('clear')
      const s = await group.round<number>('store')
      storeMs.push(s.ms)
      compressedBytes = s.answers.reduce((a, b) => a + b, 0)
      loadMs.push((await group.round('load')).ms)
    }
    return { threads, storeMs, loadMs, compressedBytes }
  } finally {
    await group.close()
  }
}
