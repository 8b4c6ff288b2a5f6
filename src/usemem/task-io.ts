/**
 * What every usemem pass shares: the task context, the per-task throughput
 * line, the pause between chunks, and the page checks (usemem's "Data wrong
 * at offset").
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import { PAGE_SIZE } from '../codecs/status.js'
import type { SwapCache } from '../swapcache/swap-cache.js'
import type { DataSource } from './pattern.js'
import type { Progress } from './progress.js'
import type { UsememOptions } from './options.js'
import type { UsememIo } from './run.js'
import type { TaskLine } from './result.js'
import { DataMismatchError } from './errors.js'
import { kbPerSec } from './format.js'

const WORD = 8

export interface TaskContext {
  o: UsememOptions
  io: UsememIo
  cache: SwapCache
  data: DataSource
  progress: Progress
  start: number
}

export function line(bytes: number, since: number): TaskLine {
  const usecs = Math.max(1, Math.round((performance.now() - since) * 1000))
  return { bytes, usecs, kbps: kbPerSec(bytes, usecs) }
}

/** Lets finished stores (worker messages) and other tasks in between chunks. */
export async function breathe(cache: SwapCache): Promise<void> {
  if (cache.writebackFolios > 0) await yieldToLoop()
}

export function fillChunk(data: DataSource, task: number, off: number, dst: Uint8Array, n: number): void {
  const first = off / PAGE_SIZE
  for (let p = 0; p * PAGE_SIZE < n; p++) {
    if ((p + 1) * PAGE_SIZE <= dst.length) data.fill(task, first + p, dst, p * PAGE_SIZE)
    else {
      // A chunk ends mid-page only at the end of SIZE: generate the page aside and take its head.
      const page = new Uint8Array(PAGE_SIZE)
      data.fill(task, first + p, page, 0)
      dst.set(page.subarray(0, dst.length - p * PAGE_SIZE), p * PAGE_SIZE)
    }
  }
}

export function compareChunk(task: number, off: number, want: Uint8Array, got: Uint8Array, n: number): void {
  if (Buffer.compare(Buffer.from(want.buffer, want.byteOffset, n), Buffer.from(got.buffer, got.byteOffset, n)) === 0) return
  const wv = new DataView(want.buffer, want.byteOffset, n)
  const gv = new DataView(got.buffer, got.byteOffset, n)
  for (let i = 0; i + WORD <= n; i += WORD) {
    if (wv.getBigUint64(i, true) !== gv.getBigUint64(i, true)) {
      throw new DataMismatchError(task, off + i, wv.getBigUint64(i, true), gv.getBigUint64(i, true))
    }
  }
  throw new DataMismatchError(task, off + n - 1, BigInt(want[n - 1]), BigInt(got[n - 1]))
}

export function checkRandomChunk(task: number, off: number, got: Uint8Array, n: number): void {
  const u32 = new Uint32Array(got.buffer, got.byteOffset, Math.floor(n / 4))
  for (let i = 0; i + 1 < u32.length; i += 2) {
    const idx = off / WORD + i / 2
    const lo = u32[i]
    const hi = u32[i + 1]
    if ((lo === 0 && hi === 0) || (lo === idx >>> 0 && hi === Math.floor(idx / 2 ** 32))) continue
    throw new DataMismatchError(task, off + i * 4, BigInt(idx), (BigInt(hi) << 32n) | BigInt(lo))
  }
}
