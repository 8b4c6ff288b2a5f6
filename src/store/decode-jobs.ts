/**
 * The job arrays of one batched load, in one SharedArrayBuffer: worker
 * threads read them in place, and a task message then carries one buffer and
 * byte offsets (posting a SharedArrayBuffer costs tens of µs; six of them per
 * task did). Buffers are kept for the next load: fresh memory costs a page
 * fault per 4 KiB on first touch, more than filling it.
 */
export class DecodeJobs {
  readonly buffer: SharedArrayBuffer
  readonly handles: Uint32Array
  readonly lengths: Uint32Array
  readonly dstPages: Uint32Array
  readonly status: Int32Array
  readonly sums: Uint32Array
  readonly slots: Uint8Array
  /** Owner-thread scratch: the sort keys (largest first) and the submission order. */
  readonly order: Float64Array
  readonly submitted: Uint32Array
  /** Owner-thread scratch: each compressed entry as found, in key order (read once, not again after the sort). */
  readonly foundLo: Uint32Array
  readonly foundHi: Uint32Array
  readonly foundSum: Uint32Array
  readonly foundSlot: Uint8Array
  readonly foundKey: Uint32Array

  constructor(readonly capacity: number) {
    const c = capacity
    this.buffer = new SharedArrayBuffer(c * 21 + 4)
    this.handles = new Uint32Array(this.buffer, 0, c)
    this.lengths = new Uint32Array(this.buffer, 4 * c, c)
    this.dstPages = new Uint32Array(this.buffer, 8 * c, c)
    this.status = new Int32Array(this.buffer, 12 * c, c)
    this.sums = new Uint32Array(this.buffer, 16 * c, c)
    this.slots = new Uint8Array(this.buffer, 20 * c, c)
    this.order = new Float64Array(c)
    this.submitted = new Uint32Array(c)
    this.foundLo = new Uint32Array(c)
    this.foundHi = new Uint32Array(c)
    this.foundSum = new Uint32Array(c)
    this.foundSlot = new Uint8Array(c)
    this.foundKey = new Uint32Array(c)
  }
}

/** A few job buffers kept for reuse (concurrent loads each take their own). */
export class DecodeJobPool {
  private spare: DecodeJobs[] = []

  take(count: number): DecodeJobs {
    const i = this.spare.findIndex((j) => j.capacity >= count)
    if (i >= 0) return this.spare.splice(i, 1)[0]
    let capacity = 64
    while (capacity < count) capacity *= 2
    return new DecodeJobs(capacity)
  }

  give(jobs: DecodeJobs): void {
    if (this.spare.length < 4) this.spare.push(jobs)
  }
}
