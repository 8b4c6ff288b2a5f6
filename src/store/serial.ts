/**
 * One background batch at a time. Writeback and recompression both mark the
 * entries of their batch busy and act, when the batch completes, only on
 * entries still busy; running their batches one after the other keeps a busy
 * mark naming exactly one batch.
 */
export class Serial {
  private chain: Promise<unknown> = Promise.resolve()

  run<T>(work: () => Promise<T>): Promise<T> {
    const next = this.chain.then(work, work)
    this.chain = next.catch(() => undefined)
    return next
  }

  /** Resolves when every batch queued so far has finished. */
  idle(): Promise<void> {
    return this.chain.then(() => undefined)
  }
}
