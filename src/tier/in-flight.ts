/**
 * Operations in flight, so close() can wait for every one of them to settle
 * before it releases the file, the connections and the key: a call in flight
 * at close resolves or rejects, it never hangs on a released resource.
 */
export class InFlight {
  private readonly pending = new Set<Promise<unknown>>()

  track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise)
    const done = () => { this.pending.delete(promise) }
    promise.then(done, done)
    return promise
  }

  get size(): number {
    return this.pending.size
  }

  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending])
  }
}
