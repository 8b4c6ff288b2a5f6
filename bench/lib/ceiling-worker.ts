/**
 * One thread of a ceiling: the raw native per-page loop over a slice of shared
 * pages, with nothing of zstash around it. On 'compress' it times one
 * compressBatch call over the slice (same-filled detection on, threshold 4095,
 * as the store does); on 'decompress' one decompressBatch call over the slice's
 * compressed pages plus the copies and fills a store's load does for raw and
 * same-filled pages, into a destination page per source page (as loadMany
 * writes its result); on 'decompress-one' the same into one reused destination
 * page (as a loadSync loop with `into` does).
 */
import { parentPort, workerData } from 'node:worker_threads'
import { loadNative } from '../../src/native.js'

const PAGE = 4096
const { pages, first, count, format, level } = workerData as {
  pages: SharedArrayBuffer; first: number; count: number; format: string; level: number
}
const native = loadNative()
const codec = new native.Codec(format, level)
const src = new Uint8Array(pages, first * PAGE, count * PAGE)
const out = new Uint8Array(count * PAGE)
const status = new Int32Array(count)
const words = new Uint32Array(out.buffer)

// Decompress jobs for the compressed pages: [arena 0, offset, length, dstPage].
let jobs = new Int32Array(0)
let jobsOne = new Int32Array(0)
const one = new Uint8Array(PAGE)
let jobCount = 0
const rawPages: number[] = []
const fillPages: number[] = []
const dst = new Uint8Array(count * PAGE)
const jobStatus = new Int32Array(count)

// Compressed objects packed end to end, as a pool packs them: reading them from
// their 4 KiB compress slots instead costs cache and TLB misses (every object
// starting at the same cache set) that no store pays.
let packed = new Uint8Array(0)

function prepareDecompress(): void {
  codec.compressBatch(src, 0, count, out, 0, status, 0, PAGE - 1, true)
  let total = 0
  for (let i = 0; i < count; i++) if (status[i] > 0) total += status[i]
  packed = new Uint8Array(total)
  jobs = new Int32Array(count * 4)
  jobCount = 0
  rawPages.length = 0
  fillPages.length = 0
  let at = 0
  for (let i = 0; i < count; i++) {
    if (status[i] > 0) {
      packed.set(out.subarray(i * PAGE, i * PAGE + status[i]), at)
      jobs.set([0, at, status[i], i], 4 * jobCount++)
      at += status[i]
    }
    else if (status[i] === 0) fillPages.push(i)
    else if (status[i] === -1) rawPages.push(i)
    else throw new Error(`ceiling: page ${first + i} compress status ${status[i]}`)
  }
  jobsOne = jobs.slice(0, 4 * jobCount)
  for (let j = 0; j < jobCount; j++) jobsOne[4 * j + 3] = 0
}

function decompressAllIntoOne(): void {
  codec.decompressBatch([packed], jobsOne, jobCount, one, jobStatus)
  for (const i of rawPages) one.set(src.subarray(i * PAGE, (i + 1) * PAGE))
  for (const i of fillPages) native.fillPage(one, 0, words[i * 1024], words[i * 1024 + 1])
}

function decompressAll(): void {
  codec.decompressBatch([packed], jobs, jobCount, dst, jobStatus)
  for (const i of rawPages) dst.set(src.subarray(i * PAGE, (i + 1) * PAGE), i * PAGE)
  for (const i of fillPages) native.fillPage(dst, i * PAGE, words[i * 1024], words[i * 1024 + 1])
}

parentPort!.on('message', (msg: { op: 'compress' | 'decompress' | 'decompress-one' | 'prepare' | 'verify' }) => {
  if (msg.op === 'compress') {
    const t0 = performance.now()
    codec.compressBatch(src, 0, count, out, 0, status, 0, PAGE - 1, true)
    parentPort!.postMessage(performance.now() - t0)
  } else if (msg.op === 'prepare') {
    prepareDecompress()
    parentPort!.postMessage(0)
  } else if (msg.op === 'decompress') {
    const t0 = performance.now()
    decompressAll()
    parentPort!.postMessage(performance.now() - t0)
  } else if (msg.op === 'decompress-one') {
    const t0 = performance.now()
    decompressAllIntoOne()
    parentPort!.postMessage(performance.now() - t0)
  } else if (msg.op === 'verify') {
    decompressAll()
    for (let i = 0; i < jobCount; i++) if (jobStatus[i] !== PAGE) throw new Error(`ceiling: decompress status ${jobStatus[i]}`)
    if (Buffer.compare(dst, src) !== 0) throw new Error('ceiling: decompressed pages differ from the source')
    parentPort!.postMessage(0)
  }
})
