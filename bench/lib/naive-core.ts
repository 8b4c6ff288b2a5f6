/**
 * What a Node user writes instead of zstash: a Map<number, Buffer> of pages,
 * each compressed with lz4-napi's compressSync and read back with
 * uncompressSync. The same code runs on the calling thread (1 thread) and in
 * each worker of the parallel form (naive-worker.ts, one Map per thread).
 */
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const lz4 = require('lz4-napi') as {
  compressSync: (b: Buffer) => Buffer
  uncompressSync: (b: Uint8Array) => Buffer
}
const PAGE = 4096

export class NaiveStore {
  readonly map = new Map<number, Buffer>()
  compressedBytes = 0

  /** Empties the Map (untimed between rounds, as zstash's invalidation is). */
  clear(): void {
    this.map.clear()
    this.compressedBytes = 0
  }

  /** Stores pages [0, count) of `pages` under keys first.. */
  store(pages: Uint8Array, first: number, count: number): void {
    const buf = Buffer.from(pages.buffer, pages.byteOffset, pages.byteLength)
    for (let i = 0; i < count; i++) {
      const c = lz4.compressSync(buf.subarray(i * PAGE, (i + 1) * PAGE))
      this.map.set(first + i, c)
      this.compressedBytes += c.length
    }
  }

  /** Loads every stored page; returns a checksum so the work cannot be skipped. */
  load(first: number, count: number): number {
    let sum = 0
    for (let i = 0; i < count; i++) sum += lz4.uncompressSync(this.map.get(first + i)!)[i & 4095]
    return sum
  }

  verify(pages: Uint8Array, first: number, count: number): void {
    for (let i = 0; i < count; i++) {
      const back = lz4.uncompressSync(this.map.get(first + i)!)
      if (Buffer.compare(back, pages.subarray(i * PAGE, (i + 1) * PAGE)) !== 0) throw new Error(`naive store: page ${first + i} differs`)
    }
  }
}
