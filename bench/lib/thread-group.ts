/**
 * A group of worker threads driven in lock-step rounds: every thread gets the
 * same message at once, and a round lasts until the last one answers (wall
 * clock on the calling thread). Used by the ceilings and the naive alternative,
 * so both are timed the same way as the zstash rows they stand next to.
 */
import { Worker } from 'node:worker_threads'

export class ThreadGroup {
  private pending: ((value: unknown) => void)[] = []
  private failure: Error | undefined

  private constructor(private readonly workers: Worker[]) {
    workers.forEach((w, i) => {
      w.on('message', (m) => { const p = this.pending[i]; this.pending[i] = noop; p(m) })
      w.on('error', (err) => { this.failure = err; this.pending[i](undefined) })
    })
  }

  static async start(file: string, data: unknown[]): Promise<ThreadGroup> {
    const workers = data.map((workerData) => new Worker(file, { workerData }))
    await Promise.all(workers.map((w) => new Promise((resolve, reject) => { w.once('online', resolve); w.once('error', reject) })))
    return new ThreadGroup(workers)
  }

  get size(): number {
    return this.workers.length
  }

  /** Sends `message` to every thread; resolves with the wall-clock ms until all answered, and their answers. */
  async round<T = unknown>(message: unknown): Promise<{ ms: number; answers: T[] }> {
    const t0 = performance.now()
    const answers = await Promise.all(this.workers.map((w, i) => new Promise<T>((resolve) => {
      this.pending[i] = resolve as (v: unknown) => void
      w.postMessage(message)
    })))
    const ms = performance.now() - t0
    if (this.failure) throw this.failure
    return { ms, answers }
  }

  async rounds(message: unknown, count: number): Promise<number[]> {
    const ms: number[] = []
    for (let r = 0; r < count; r++) ms.push((await this.round(message)).ms)
    return ms
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
  }
}

function noop(): void {}
