/**
 * The naive alternative, timed wall-clock like the zstash rows: Map +
 * lz4-napi on the calling thread, and its natural parallel form, N worker
 * threads each with its own Map over a contiguous slice of the pages. One round
 * at a time, so a bench can interleave its rounds with the zstash rows' rounds
 * and both see the same moment of a noisy host.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { NaiveStore } from './naive-core.js'
import { ThreadGroup } from './thread-group.js'
import { gc, heapBytes } from './stats.js'

const here = path.dirname(fileURLToPath(import.meta.url))

export class NaiveAlternative {
  compressedBytes = 0

  private constructor(
    readonly threads: number,
    private readonly pages: Uint8Array,
    private readonly local: NaiveStore | undefined,
    private readonly group: ThreadGroup | undefined,
  ) {}

  static async start(pages: SharedArrayBuffer, threads: number): Promise<NaiveAlternative> {
    const n = pages.byteLength / 4096
    const src = new Uint8Array(pages)
    if (threads === 1) {
      const local = new NaiveStore()
      local.store(src, 0, n) // warm-up, and a check that it stores what it was given
      local.verify(src, 0, n)
      const a = new NaiveAlternative(1, src, local, undefined)
      a.compressedBytes = local.compressedBytes
      return a
    }
    const per = Math.ceil(n / threads)
    const group = await ThreadGroup.start(path.join(here, 'naive-worker.js'), Array.from({ length: threads }, (_, i) => ({
      pages, first: Math.min(n, i * per), count: Math.max(0, Math.min(per, n - i * per)),
    })))
    const s = await group.round<number>('store')
    await group.round('verify')
    const a = new NaiveAlternative(threads, src, undefined, group)
    a.compressedBytes = s.answers.reduce((x, y) => x + y, 0)
    return a
  }

  /** One timed store of every page into emptied Maps (emptying is not timed); ms. */
  async store(): Promise<number> {
    const n = this.pages.length / 4096
    if (this.local) {
      this.local.clear()
      const t0 = performance.now()
      this.local.store(this.pages, 0, n)
      return performance.now() - t0
    }
    await this.group!.round('clear')
    return (await this.group!.round('store')).ms
  }

  /** One timed load of every page; ms. */
  async load(): Promise<number> {
    const n = this.pages.length / 4096
    if (this.local) {
      const t0 = performance.now()
      this.local.load(0, n)
      return performance.now() - t0
    }
    return (await this.group!.round('load')).ms
  }

  /** Heap bytes per page beyond the compressed bytes (calling-thread form; needs --expose-gc). */
  overheadPerPage(): number | undefined {
    if (!this.local) return undefined
    const n = this.pages.length / 4096
    this.local.clear()
    gc()
    const before = heapBytes()
    this.local.store(this.pages, 0, n)
    gc()
    return (heapBytes() - before - this.local.compressedBytes) / n
  }

  async close(): Promise<void> {
    this.local?.clear()
    await this.group?.close()
  }
}
