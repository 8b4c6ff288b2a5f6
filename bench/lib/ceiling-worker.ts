/**
 * One thread of the measured parallel ceiling: the raw native codec loop over
 * a slice of shared pages, with no zstash around it.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { loadNative } from '../../src/native.js'

const { pages, first, count, format, rounds } = workerData as {
  pages: SharedArrayBuffer; first: number; count: number; format: string; rounds: number
}
const native = loadNative()
const codec = new native.Codec(format, 1)
const src = new Uint8Array(pages)
const out = new Uint8Array(count * 4096)
const status = new Int32Array(count)
parentPort!.once('message', () => {
  const times: number[] = []
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now()
    codec.compressBatch(src, first, count, out, 0, status, 0, 4095, true)
    times.push(performance.now() - t0)
  }
  parentPort!.postMessage(times)
})
