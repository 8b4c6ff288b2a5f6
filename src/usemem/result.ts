/** The JSON a usemem run writes (--json) and `zstash report` reads. */
import type { UsememOptions } from './options.js'

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
  config: Omit<UsememOptions, 'json' | 'quiet' | 'progress'> & { data_description: string }
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
    /** stored_pages × 4096 / pool_total_size, when the write passes ended. */
    compression_ratio: number
    same_filled_pages: number
  }
  verify: { checked_bytes: number; ok: boolean } | null
  host: { node: string; platform: string; arch: string; cpus: number; cpu_model: string }
  started_at: string
}
