/**
 * usemem over a SwapCache. Tasks are async tasks in this process sharing one
 * cache, so the resident limit is shared like a cgroup's memory.high. Each
 * task works in chunks: a chunk is written synchronously (faults on the
 * calling thread), and between chunks the task awaits, which is where reclaim
 * runs and finished worker-pool stores are collected.
 */
import os from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { writeFileSync } from 'node:fs'
import { PageStore } from '../store/page-store.js'
import { PAGE_SIZE } from '../codecs/status.js'
import { SwapCache } from '../swapcache/swap-cache.js'
import type { Region } from '../swapcache/region.js'
import { dataSource } from './pattern.js'
import { throughputLine, initTimeLine } from './format.js'
import { coverLetterCounters } from './counters.js'
import { Progress, type ProgressSink } from './progress.js'
import { USEMEM_SCHEMA, type TaskLine, type UsememResult, type TierResult } from './result.js'
import { breathe, checkRandomChunk, compareChunk, fillChunk, line, type TaskContext } from './task-io.js'
import type { UsememOptions } from './options.js'
import { describeBacking } from './backing-spec.js'
import { rereadPhase } from './reread.js'
import { recompressPhase } from './recompress-phase.js'
import type { SwapCacheStats } from '../swapcache/swap-cache.js'

export interface UsememIo {
  /** One line of usemem output (stdout). */
  line(text: string): void
  /** Unterminated output: the dots between passes. */
  write(text: string): void
  /** Progress bar sink (stderr). */
  progress: ProgressSink
}

export const processIo: UsememIo = {
  line: (t) => process.stdout.write(t + '\n'),
  write: (t) => process.stdout.write(t),
  progress: process.stderr,
}

/** Called with the store and cache once both are open (e.g. to serve their metrics while the run goes on). */
export type UsememStartHook = (store: PageStore, cache: SwapCache) => void

export const silentIo: UsememIo = { line: () => {}, write: () => {}, progress: { isTTY: false, write: () => true } }

const WORD = 8

export async function runUsemem(o: UsememOptions, io: UsememIo = processIo, command = '', onStart?: UsememStartHook): Promise<UsememResult> {
  const t0 = performance.now()
  const data = dataSource(o.data, o.seed)
  const store = await PageStore.open({
    compressor: o.compressor, workers: o.workers,
    ...(o.poolLimit !== undefined ? { maxPoolBytes: o.poolLimit } : {}),
    ...(o.backing ? { backing: o.backing, secondChance: o.secondChance } : {}),
  })
  let cache: SwapCache | undefined
  try {
    cache = await SwapCache.create({ store, residentLimit: o.limit, folioSize: o.folio, chargePool: o.chargePool })
    onStart?.(store, cache)
    const initUsecs = Math.round((performance.now() - t0) * 1000)
    if (o.initTime) io.line(initTimeLine(initUsecs))

    const passes = o.repeat + (o.readAgain ? o.repeat : 0) + o.reread
    const progress = new Progress(o.size * o.tasks * passes, io.progress, o.progress && !o.quiet)
    const start = performance.now()
    const cpuStart = process.cpuUsage()
    const lines: TaskLine[] = new Array(o.tasks)
    const readLines: TaskLine[] = new Array(o.tasks)
    const regions: Region[] = []
    const ctx: TaskContext = { o, io, cache, data, progress, start }
    // Regions are freed after the counters are taken (and after --verify), so free time is not measured here.
    await Promise.all(Array.from({ length: o.tasks }, async (_, task) => {
      const region = cache!.alloc(o.size)
      regions[task] = region
      const r = await runTask(ctx, task, region)
      lines[task] = r.write
      if (r.read) readLines[task] = r.read
    }))
    await cache.settle()
    const elapsed = (performance.now() - start) / 1000
    const cpu = process.cpuUsage(cpuStart)
    // --reread: after every task wrote, so its swap-ins are counted apart from the write passes'.
    const reread = o.reread > 0 ? await rereadPhase(ctx, regions) : undefined
    progress.finish()
    const snapshot = cache.stats()
    // Operating the store live comes after the counters of the timed phases, and before --verify reads it all back.
    const recompress = o.recompress || o.dictionary ? await recompressPhase(o, store, io.line) : undefined

    let verify: UsememResult['verify'] = null
    if (o.verify) verify = await verifyAll(ctx, regions)

    const total = lines.reduce((s, l) => s + l.kbps, 0)
    const stored = snapshot.store
    const result: UsememResult = {
      schema: USEMEM_SCHEMA,
      label: o.label ?? o.compressor,
      command,
      config: {
        size: o.size, tasks: o.tasks, sleep: o.sleep, initTime: o.initTime, random: o.random, repeat: o.repeat,
        readAgain: o.readAgain, data: o.data, data_description: data.description, limit: o.limit, chargePool: o.chargePool, folio: o.folio,
        compressor: o.compressor, workers: o.workers, verify: o.verify, seed: o.seed, chunk: o.chunk, label: o.label,
        poolLimit: o.poolLimit, backing: o.backing ? describeBacking(o.backing) : null, reread: o.reread,
        rereadPattern: o.rereadPattern, secondChance: o.secondChance, recompress: o.recompress, dictionary: o.dictionary,
      },
      init_usecs: initUsecs,
      tasks: lines,
      read_again: o.readAgain ? readLines : [],
      total_throughput_kbps: total,
      avg_throughput_kbps: Math.round(total / o.tasks),
      read_again_total_kbps: o.readAgain ? readLines.reduce((s, l) => s + l.kbps, 0) : 0,
      elapsed_sec: elapsed,
      user_sec: cpu.user / 1e6,
      sys_sec: cpu.system / 1e6,
      max_rss_bytes: process.resourceUsage().maxRSS * 1024,
      counters: coverLetterCounters(snapshot),
      store: {
        compressor: o.compressor,
        backend: `${stored.backend.name} (${stored.backend.path})`,
        stored_pages: stored.stored_pages,
        pool_total_size: stored.pool_total_size,
        compressed_bytes: stored.compressed_bytes,
        // Pages in the pool (written-back ones are in the backing store, not in pool_total_size).
        compression_ratio: stored.pool_total_size ? ((stored.stored_pages - stored.tier_pages) * PAGE_SIZE) / stored.pool_total_size : 0,
        same_filled_pages: stored.same_filled_pages,
      },
      verify,
      ...(reread ? { reread } : {}),
      ...(o.backing ? { tier: tierResult(o, snapshot) } : {}),
      ...(recompress ? { recompress } : {}),
      host: { node: process.version, platform: process.platform, arch: process.arch, cpus: os.availableParallelism(), cpu_model: os.cpus()[0]?.model ?? '' },
      started_at: new Date(Date.now() - (performance.now() - t0)).toISOString(),
    }
    if (o.json) writeFileSync(o.json, JSON.stringify(result, null, 2) + '\n')
    return result
  } finally {
    await cache?.close()
    await store.close()
  }
}

/** The tier's rows: the store's writeback counters and its backing store's, and the swap-in latency per tier. */
function tierResult(o: UsememOptions, s: SwapCacheStats): TierResult {
  const st = s.store
  const b = st.backing
  return {
    backing: describeBacking(o.backing!),
    sealing: b?.sealing ?? '',
    pool_limit: o.poolLimit ?? 0,
    second_chance: o.secondChance,
    written_back_pages: st.written_back_pages,
    pswpout: st.pswpout,
    pswpin: st.pswpin,
    writeback_batches: st.writeback_batches,
    writeback_fail: st.writeback_fail,
    backing_load_fail: st.backing_load_fail,
    reject_reclaim_fail: st.reject_reclaim_fail,
    tier_pages: st.tier_pages,
    tier_bytes: st.tier_bytes,
    backing_bytes: b?.backing_bytes ?? 0,
    bytes_written: b?.bytes_written ?? 0,
    bytes_read: b?.bytes_read ?? 0,
    load_latency_us: s.swapin_latency_us,
  }
}

async function runTask(ctx: TaskContext, task: number, region: Region): Promise<{ write: TaskLine; read?: TaskLine }> {
  const { o, io } = ctx
  // do_unit() credits the allocation as size/8 bytes, then 8 bytes per word access.
  let bytes = Math.floor(o.size / 8)
  for (let rep = 0; rep < o.repeat; rep++) {
    if (rep > 0 && !o.quiet) io.write('.')
    bytes += o.random ? await randomPass(ctx, task, region, false) : await sequentialPass(ctx, task, region, rep > 0)
  }
  const write = line(bytes, ctx.start)
  io.line(throughputLine(write.bytes, write.usecs))
  let read: TaskLine | undefined
  if (o.readAgain) {
    const readStart = performance.now()
    let rw = 0
    for (let rep = 0; rep < o.repeat; rep++) {
      if (rep > 0 && !o.quiet) io.write('.')
      rw += o.random ? await randomPass(ctx, task, region, true) : await readPass(ctx, task, region)
    }
    read = line(rw, readStart)
    io.line(throughputLine(read.bytes, read.usecs, 'read again '))
  }
  if (o.sleep > 0) await sleep(o.sleep * 1000)
  return { write, read }
}

/** Writes the pattern; on passes after the first, checks each chunk first (usemem's "verify last write"). */
async function sequentialPass(ctx: TaskContext, task: number, region: Region, check: boolean): Promise<number> {
  const { o, cache, data, progress } = ctx
  const buf = new Uint8Array(o.chunk)
  const want = new Uint8Array(o.chunk)
  for (let off = 0; off < o.size; off += o.chunk) {
    const n = Math.min(o.chunk, o.size - off)
    fillChunk(data, task, off, want, n)
    if (check) {
      await region.readAsync(off, buf.subarray(0, n))
      compareChunk(task, off, want, buf, n)
    }
    await region.writeAsync(off, want.subarray(0, n))
    progress.add(n)
    await breathe(cache)
  }
  return o.size
}

async function readPass(ctx: TaskContext, _task: number, region: Region): Promise<number> {
  const { o, cache, progress } = ctx
  const buf = new Uint8Array(o.chunk)
  for (let off = 0; off < o.size; off += o.chunk) {
    const n = Math.min(o.chunk, o.size - off)
    await region.readAsync(off, buf.subarray(0, n))
    progress.add(n)
    await breathe(cache)
  }
  return o.size
}

/**
 * -R: m = size/8 accesses at random word indexes (usemem's lrand48-scaled
 * index in [0, m−1)); writes store the index. Done in batches of K accesses
 * after reserving K frames, so the synchronous accesses cannot run out.
 */
async function randomPass(ctx: TaskContext, task: number, region: Region, read: boolean): Promise<number> {
  const { o, cache, progress } = ctx
  const m = Math.floor(o.size / WORD)
  let x = (o.seed * 0x9e3779b1 + task * 0x85ebca6b + (read ? 77 : 0)) >>> 0 || 1
  for (let i = 0; i < m; ) {
    // Per batch: under --charge-pool the frames allowed shrink as the pool grows.
    const batch = Math.max(1, Math.min(256, Math.floor(cache.frameLimit / 2)))
    // Checked again after every await: another task may have taken the frames before this one resumed.
    while (cache.freeSlots < batch) await cache.reserve(batch)
    const end = Math.min(m, i + batch)
    for (; i < end; i++) {
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5; x >>>= 0
      const idx = Math.floor(((m - 1) * x) / 2 ** 32)
      if (read) region.getUint32(idx * WORD)
      else {
        region.setUint32(idx * WORD, idx >>> 0)
        region.setUint32(idx * WORD + 4, Math.floor(idx / 2 ** 32))
      }
    }
    progress.add(batch * WORD)
    await breathe(cache)
  }
  return m * WORD
}

/** --verify: every byte of every task read back (random passes: each word is 0 or its index). */
async function verifyAll(ctx: TaskContext, regions: Region[]): Promise<{ checked_bytes: number; ok: boolean }> {
  const { o, data } = ctx
  const buf = new Uint8Array(o.chunk)
  const want = new Uint8Array(o.chunk)
  let checked = 0
  for (let task = 0; task < regions.length; task++) {
    for (let off = 0; off < o.size; off += o.chunk) {
      const n = Math.min(o.chunk, o.size - off)
      await regions[task].readAsync(off, buf.subarray(0, n))
      if (o.random) checkRandomChunk(task, off, buf, n)
      else {
        fillChunk(data, task, off, want, n)
        compareChunk(task, off, want, buf, n)
      }
      checked += n
    }
  }
  return { checked_bytes: checked, ok: true }
}

