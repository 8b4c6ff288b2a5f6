/**
 * Operations in flight: the store's tickets, the staged bytes of folios whose
 * stores have not completed (a load of a Pending key reads them), and every
 * unsettled operation, so close() can wait for all of them to settle.
 */
export class Inflight {
  private readonly staged = new Map<number, Uint8Array>()
  private readonly ops = new Set<Promise<unknown>>()
  private last = 0

  /** A fresh store ticket, never 0, unique among stores in flight. */
  ticket(): number {
    this.last = this.last === 0xffffffff ? 1 : this.last + 1
    return this.last
  }

  stage(ticket: number, pages: Uint8Array): void {
    this.staged.set(ticket, pages)
  }

  unstage(ticket: number): void {
    this.staged.delete(ticket)
  }

  /** The staged bytes of a store in flight. */
  pages(ticket: number): Uint8Array {
    return this.staged.get(ticket)!
  }

  get folios(): number {
    return this.staged.size
  }

  /** Tracks `op` until it settles; returns it. */
  track<T>(op: Promise<T>): Promise<T> {
    const settled = op.then(() => undefined, () => undefined)
    this.ops.add(settled)
    void settled.then(() => this.ops.delete(settled))
    return op
  }

  /** Resolves once every tracked operation has settled (ones started meanwhile included). */
  async idle(): Promise<void> {
    while (this.ops.size > 0) await Promise.allSettled([...this.ops])
  }
}
