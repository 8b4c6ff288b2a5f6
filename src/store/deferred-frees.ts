/**
 * Frees held back while decoders on other threads read pool objects in
 * place (a batched loadMany): no slot is reused (by a worker's compress)
 * under a reader. Frees issued meanwhile are kept in one growable list and
 * handed to the pool in one call when the last reader ends. Moves need no
 * such care: a move holds the pool's move lock, and a moved object keeps its
 * handle (PageStore.compact()).
 */

/** The pool's batched free (object-pool.ts). */
export interface Frees {
  free(handles: Uint32Array, count: number): number
}

export class DeferredFrees {
  private readers = 0
  private deferred = new Uint32Array(64)
  private count = 0
  private readonly oneHandle = new Uint32Array(1)

  constructor(private readonly pool: Frees) {}

  /** A decoder starts reading pool objects in place: frees wait from now on. */
  beginRead(): void {
    this.readers++
  }

  /** A decoder is done reading; the last one hands every deferred free to the pool. */
  endRead(): void {
    if (--this.readers === 0) this.flush()
  }

  freeObject(handle: number): void {
    this.oneHandle[0] = handle
    this.freeObjects(this.oneHandle, 1)
  }

  freeObjects(handles: Uint32Array, count: number): void {
    if (this.readers === 0) {
      this.pool.free(handles, count)
      return
    }
    if (this.count + count > this.deferred.length) {
      const grown = new Uint32Array(Math.max(this.deferred.length * 2, this.count + count))
      grown.set(this.deferred.subarray(0, this.count))
      this.deferred = grown
    }
    this.deferred.set(handles.subarray(0, count), this.count)
    this.count += count
  }

  private flush(): void {
    this.pool.free(this.deferred, this.count)
    this.count = 0
    if (this.deferred.length > 4096) this.deferred = new Uint32Array(64)
  }
}
