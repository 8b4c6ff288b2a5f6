/**
 * LRU over folio slots as two Int32Array link tables: O(1) touch, insert,
 * remove and oldest, and no object per slot. Slots under writeback are taken
 * off the list (the kernel isolates folios from the LRU while it writes them),
 * so the tail is always a candidate.
 */
export class SlotLru {
  private readonly prev: Int32Array
  private readonly next: Int32Array
  private readonly linked: Uint8Array
  private head = -1
  private tail = -1
  size = 0

  constructor(slots: number) {
    this.prev = new Int32Array(slots).fill(-1)
    this.next = new Int32Array(slots).fill(-1)
    this.linked = new Uint8Array(slots)
  }

  /** Most recently used end. */
  pushHead(slot: number): void {
    if (this.linked[slot]) this.remove(slot)
    this.prev[slot] = -1
    this.next[slot] = this.head
    if (this.head >= 0) this.prev[this.head] = slot
    this.head = slot
    if (this.tail < 0) this.tail = slot
    this.linked[slot] = 1
    this.size++
  }

  /** Marks an access; cheap when the slot is already the most recent, which is the common case for streams. */
  touch(slot: number): void {
    if (this.head !== slot && this.linked[slot]) this.pushHead(slot)
  }

  remove(slot: number): void {
    if (!this.linked[slot]) return
    const p = this.prev[slot]
    const n = this.next[slot]
    if (p >= 0) this.next[p] = n
    else this.head = n
    if (n >= 0) this.prev[n] = p
    else this.tail = p
    this.prev[slot] = -1
    this.next[slot] = -1
    this.linked[slot] = 0
    this.size--
  }

  /** Least recently used slot, or -1. */
  oldest(): number {
    return this.tail
  }

  has(slot: number): boolean {
    return this.linked[slot] === 1
  }
}
