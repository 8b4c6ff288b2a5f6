/**
 * Which worker threads have finished loading the addon. piscina replaces a
 * worker that died, and ending a thread while it is still inside a native
 * addon's init is a fatal error of the whole process, so the pool waits for
 * every live thread to be loaded before it ends them. Each worker records its
 * threadId in a small shared ring: [count, id, id, …].
 */
const SLOTS = 255

export function makeLoadedThreads(): Int32Array {
  return new Int32Array(new SharedArrayBuffer((1 + SLOTS) * 4))
}

/** Called by a worker once its module (and the addon) has loaded. */
export function markLoaded(loaded: Int32Array, threadId: number): void {
  const n = Atomics.add(loaded, 0, 1)
  Atomics.store(loaded, 1 + (n % SLOTS), threadId)
}

export function isLoaded(loaded: Int32Array, threadId: number): boolean {
  const n = Math.min(Atomics.load(loaded, 0), SLOTS)
  for (let i = 1; i <= n; i++) if (Atomics.load(loaded, i) === threadId) return true
  return false
}
