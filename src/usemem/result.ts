/** The JSON a usemem run writes (--json) and `zstash report` reads. */
import type { UsememOptions, RereadPattern } from './options.js'
import type { SwapInLatencySummary } from '../swapcache/swapin-latency.js'

export const USEMEM_SCHEMA = 'zstash-usemem/1'

export interface TaskLine {
  bytes: number
  usecs: number
  kbps: number
}

export interface UsememResult {
  schema: typeof USEMEM_SCHEMA
  label: string
  command: string
  /** The options, with the backing store as a description (never a password). */
  config: Omit<UsememOptions, 'json' | 'quiet' | 'progress' | 'backing'> & { data_description: string; backing: string | null }
  init_usecs: number
  tasks: TaskLine[]
  read_again: TaskLine[]
  /** Σ of the task lines' KB/s (the letters' "Total throughput"). */
  total_throughput_kbps: number
  avg_throughput_kbps: number
  read_again_total_kbps: number
  /** Wall time from the start (after init) until every task freed its memory. */
  elapsed_sec: number
  /** Process CPU time over the same span (worker threads included). */
  user_sec: number
  sys_sec: number
  max_rss_bytes: number
  counters: Record<string, number>
  store: {
    compressor: string
    backend: string
    stored_pages: number
    pool_total_size: number
    compressed_bytes: number
    /** Pages in the pool (stored_pages − tier_pages) × 4096 / pool_total_size, when the timed phases ended. */
    compression_ratio: number
    same_filled_pages: number
  }
  verify: { checked_bytes: number; ok: boolean } | null
  /** --reread passes (absent without them). */
  reread?: RereadResult
  /** The tier below the pool (absent without --backing). */
  tier?: TierResult
  /** --recompress / --dictionary, after the timed phases (absent without them). */
  recompress?: RecompressResult
  host: { node: string; platform: string; arch: string; cpus: number; cpu_model: string }
  started_at: string
}

/** The --reread phase: every task's read passes, after the write passes, counted on their own. */
export interface RereadResult {
  pattern: RereadPattern
  passes: number
  /** Page reads (4 KiB each, the last page of a task may be shorter), every one checked against the pattern. */
  reads: number
  tasks: TaskLine[]
  total_kbps: number
  elapsed_sec: number
  /** Pages swapped in during the phase: from the pool (zswpin) and from the backing store (pswpin). */
  zswpin: number
  pswpin: number
  /** Swap-ins per 1,000 page reads. */
  zswpin_per_1000_reads: number
  pswpin_per_1000_reads: number
  /** Pages written back during the phase (evictions that pushed cold pages below the pool). */
  pswpout: number
  /** Major faults (swap-in calls) during the phase. */
  pgmajfault: number
}

/** The tier below the pool at the end of the timed phases. */
export interface TierResult {
  backing: string
  sealing: string
  pool_limit: number
  second_chance: boolean
  written_back_pages: number
  pswpout: number
  pswpin: number
  writeback_batches: number
  writeback_fail: number
  backing_load_fail: number
  reject_reclaim_fail: number
  /** Pages (and their compressed bytes) in the backing store at the end. */
  tier_pages: number
  tier_bytes: number
  /** What the backing store holds (file size, or record bytes in the cluster), and its write/read bytes. */
  backing_bytes: number
  bytes_written: number
  bytes_read: number
  /** µs per swap-in call over the whole run, by the tier it read from (SwapCache.stats().swapin_latency_us). */
  load_latency_us: { pool: SwapInLatencySummary; backing: SwapInLatencySummary }
}

/** The pool at one moment: its bytes, and pages in it × 4096 / its bytes. */
export interface PoolSnapshot {
  pool_total_size: number
  compressed_bytes: number
  pool_pages: number
  compression_ratio: number
}

/** --recompress / --dictionary: what rewriting the pool's pages bought. */
export interface RecompressResult {
  /** 'zstd:9', or 'zstd:3+dictionary'. */
  target: string
  dictionary: boolean
  /** The slot's name ('zstd+dict1') when a dictionary was trained. */
  dictionary_name: string | null
  /** Pages rewritten smaller, the bytes that saved, and pages tried that did not shrink (kept as they were). */
  pages: number
  saved_bytes: number
  kept: number
  dictionaries_trained: number
  elapsed_sec: number
  before: PoolSnapshot
  after: PoolSnapshot
}
