/**
 * Ceilings measured in the same run as the rows they bound: the raw native
 * per-page loop on N worker threads at once, over the same pages, split into N
 * contiguous slices. A round starts every thread together and ends when the last
 * one finishes, so an N-thread ceiling is what N threads of this machine can do
 * right now, not N times one thread.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ThreadGroup } from './thread-group.js'

const here = path.dirname(fileURLToPath(import.meta.url))

export class Ceiling {
  private constructor(private readonly group: ThreadGroup, readonly threads: number) {}

  static async start(pages: SharedArrayBuffer, format: string, threads: number, level = 1): Promise<Ceiling> {
    const n = pages.byteLength / 4096
    const per = Math.ceil(n / threads)
    const data = Array.from({ length: threads }, (_, i) => ({
      pages, first: Math.min(n, i * per), count: Math.max(0, Math.min(per, n - i * per)), format, level,
    }))
    const group = await ThreadGroup.start(path.join(here, 'ceiling-worker.js'), data)
    await group.round({ op: 'compress' }) // warm-up: output pages faulted in, code and tables in cache
    await group.round({ op: 'prepare' })
    await group.round({ op: 'verify' })
    return new Ceiling(group, threads)
  }

  /** Wall-clock ms of each round of compressing every page. */
  compress(rounds: number): Promise<number[]> {
    return this.group.rounds({ op: 'compress' }, rounds)
  }

  /** Wall-clock ms of each round of decompressing every page, each into its own destination page (as loadMany). */
  decompress(rounds: number): Promise<number[]> {
    return this.group.rounds({ op: 'decompress' }, rounds)
  }

  /** The same, every page into one reused destination page (as a loadSync loop with `into`). */
  decompressIntoOne(rounds: number): Promise<number[]> {
    return this.group.rounds({ op: 'decompress-one' }, rounds)
  }

  close(): Promise<void> {
    return this.group.close()
  }
}
