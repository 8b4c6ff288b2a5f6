/**
 * usemem --reread: after every task finished writing, each task reads its
 * pages back N times — in order, uniformly at random, or skewed (80 % of the
 * reads to a fixed 20 % of the pages, scattered over the task's area) — and
 * checks every page against the pattern. The phase is timed and its swap-ins
 * counted on their own: from the pool (zswpin) and from the backing store
 * (pswpin), per 1,000 page reads. That is the number a writeback policy is
 * judged by (second chance keeps the pages that come back in the pool).
 *
 * A page read is synchronous when it can be (the page is resident, or in the
 * pool: a fault on the calling thread); a page in the backing store, or a
 * read that needs a frame when none is free, goes through readAsync, which
 * makes room and reads the tier with one loadMany.
 */
import { PAGE_SIZE } from '../codecs/status.js'
import { WouldBlockError } from '../errors.js'
import { ResidentLimitError } from '../swapcache/errors.js'
import type { Region } from '../swapcache/region.js'
import { throughputLine } from './format.js'
import type { RereadPattern } from './options.js'
import type { RereadResult, TaskLine } from './result.js'
import { breathe, checkRandomChunk, compareChunk, fillChunk, line, type TaskContext } from './task-io.js'

/** Share of the pages that take HOT_READS of the reads in the skewed pattern. */
export const HOT_PAGES = 0.2
export const HOT_READS = 0.8

export async function rereadPhase(ctx: TaskContext, regions: Region[]): Promise<RereadResult> {
  const { o, cache } = ctx
  await cache.settle()
  const before = cache.stats()
  const start = performance.now()
  const results = await Promise.all(regions.map((r, task) => rereadTask(ctx, task, r)))
  const elapsed = (performance.now() - start) / 1000
  await cache.settle()
  const after = cache.stats()
  const reads = results.reduce((s, r) => s + r.reads, 0)
  const zswpin = after.store.zswpin - before.store.zswpin
  const pswpin = after.store.pswpin - before.store.pswpin
  const tasks = results.map((r) => r.line)
  return {
    pattern: o.rereadPattern,
    passes: o.reread,
    reads,
    tasks,
    total_kbps: tasks.reduce((s, l) => s + l.kbps, 0),
    elapsed_sec: elapsed,
    zswpin,
    pswpin,
    zswpin_per_1000_reads: reads ? (1000 * zswpin) / reads : 0,
    pswpin_per_1000_reads: reads ? (1000 * pswpin) / reads : 0,
    pswpout: after.store.pswpout - before.store.pswpout,
    pgmajfault: after.pgmajfault - before.pgmajfault,
  }
}

async function rereadTask(ctx: TaskContext, task: number, region: Region): Promise<{ line: TaskLine; reads: number }> {
  const { o, io } = ctx
  const start = performance.now()
  let bytes = 0
  let reads = 0
  for (let pass = 0; pass < o.reread; pass++) {
    const r = o.rereadPattern === 'seq' ? await sequentialReread(ctx, task, region) : await pageReread(ctx, task, region, pass)
    bytes += r.bytes
    reads += r.reads
  }
  const l = line(bytes, start)
  io.line(throughputLine(l.bytes, l.usecs, `reread ${o.rereadPattern} `))
  return { line: l, reads }
}

/** Every page in order, a chunk per readAsync (one batched swap-in per piece). */
async function sequentialReread(ctx: TaskContext, task: number, region: Region): Promise<{ bytes: number; reads: number }> {
  const { o, cache, progress } = ctx
  const buf = new Uint8Array(o.chunk)
  const want = new Uint8Array(o.chunk)
  let reads = 0
  for (let off = 0; off < o.size; off += o.chunk) {
    const n = Math.min(o.chunk, o.size - off)
    await region.readAsync(off, buf.subarray(0, n))
    check(ctx, task, off, buf, want, n)
    reads += Math.ceil(n / PAGE_SIZE)
    progress.add(n)
    await breathe(cache)
  }
  return { bytes: o.size, reads }
}

/** One page per read, as many reads as the task has pages, picked by the pattern. */
async function pageReread(ctx: TaskContext, task: number, region: Region, pass: number): Promise<{ bytes: number; reads: number }> {
  const { o, cache, progress } = ctx
  const pages = Math.ceil(o.size / PAGE_SIZE)
  const pick = pagePicker(o.rereadPattern, pages, o.seed, task, pass)
  const buf = new Uint8Array(PAGE_SIZE)
  const want = new Uint8Array(PAGE_SIZE)
  // Frames are reserved a batch at a time, so the synchronous reads in between cannot run out.
  const batch = Math.max(1, Math.min(256, Math.floor(cache.totalSlots / 2)))
  let bytes = 0
  for (let i = 0; i < pages; ) {
    while (cache.freeSlots < batch) await cache.reserve(batch)
    const first = i
    for (const end = Math.min(pages, i + batch); i < end; i++) {
      const off = pick() * PAGE_SIZE
      const n = Math.min(PAGE_SIZE, o.size - off)
      const dst = buf.subarray(0, n)
      try {
        region.read(off, dst)
      } catch (err) {
        // In the backing store (a read cannot wait for I/O), or out of frames: the async path waits.
        if (!(err instanceof WouldBlockError) && !(err instanceof ResidentLimitError)) throw err
        await region.readAsync(off, dst)
      }
      check(ctx, task, off, buf, want, n)
      bytes += n
    }
    progress.add((i - first) * PAGE_SIZE)
    await breathe(cache)
  }
  return { bytes, reads: pages }
}

/** The bytes read at `off` are what the write passes wrote there. */
function check(ctx: TaskContext, task: number, off: number, got: Uint8Array, want: Uint8Array, n: number): void {
  if (ctx.o.random) checkRandomChunk(task, off, got, n)
  else {
    fillChunk(ctx.data, task, off, want, n)
    compareChunk(task, off, want, got, n)
  }
}

/**
 * Page indexes for one pass. 'random': uniform. 'skew': HOT_READS of the
 * reads go to a fixed HOT_PAGES share of the pages. The hot pages are
 * scattered over the area by a multiplicative permutation (not the first
 * fifth), so they share folios and writeback batches with cold ones, as a
 * real hot set does. Seeded by (seed, task, pass): runs are repeatable.
 */
export function pagePicker(pattern: RereadPattern, pages: number, seed: number, task: number, pass: number): () => number {
  let x = (Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(task + 1, 0x85ebca6b) ^ Math.imul(pass + 1, 0xc2b2ae35)) >>> 0 || 1
  const next = () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5; x >>>= 0
    return x / 2 ** 32
  }
  if (pattern !== 'skew') return () => Math.floor(next() * pages)
  const hot = Math.max(1, Math.round(pages * HOT_PAGES))
  const stride = coprimeStride(pages)
  // The permutation is per task (not per pass): the hot set stays the same across passes.
  const offset = (Math.imul(seed + 1, 0x27d4eb2f) ^ Math.imul(task + 1, 0x165667b1)) >>> 0
  const permute = (i: number) => ((i * stride) + offset) % pages
  return () => {
    const i = next() < HOT_READS || hot >= pages ? Math.floor(next() * hot) : hot + Math.floor(next() * (pages - hot))
    return permute(i)
  }
}

/** A stride near pages × 0.618 with gcd(stride, pages) = 1, so i → i × stride mod pages is a permutation. */
function coprimeStride(pages: number): number {
  if (pages <= 2) return 1
  let s = Math.max(1, Math.floor(pages * 0.6180339887) % 2 ** 20)
  while (gcd(s, pages) !== 1) s++
  return s
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b]
  return a
}
