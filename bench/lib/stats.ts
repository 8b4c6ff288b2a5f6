/** Small statistics helpers for benchmarks. */
export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]
}

export function bestOf(n: number, fn: () => void): number {
  let best = Infinity
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    fn()
    best = Math.min(best, performance.now() - t0)
  }
  return best
}

export async function bestOfAsync(n: number, fn: () => Promise<void>): Promise<number> {
  let best = Infinity
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await fn()
    best = Math.min(best, performance.now() - t0)
  }
  return best
}

/** Bytes the process holds in JS heap, external memory and array buffers. */
export function heapBytes(): number {
  const m = process.memoryUsage()
  return m.heapUsed + m.external
}

export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc
  if (g) { g(); g() }
}

/** Runs `setup` (untimed) then `fn` (timed), `rounds` times; the ms of each timed run. */
export async function timeRounds(rounds: number, fn: () => unknown, setup?: () => unknown): Promise<number[]> {
  const ms: number[] = []
  for (let r = 0; r < rounds; r++) {
    if (setup) await setup()
    const t0 = performance.now()
    await fn()
    ms.push(performance.now() - t0)
  }
  return ms
}
