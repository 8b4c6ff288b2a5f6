/** A one-line progress bar on stderr, redrawn at most 10 times a second; silent when stderr is not a TTY. */
import { formatBytes } from './size.js'

export interface ProgressSink {
  isTTY?: boolean
  columns?: number
  write(text: string): unknown
}

export class Progress {
  private done = 0
  private last = 0
  private readonly start = performance.now()
  private readonly enabled: boolean

  constructor(private readonly total: number, private readonly sink: ProgressSink, force = false) {
    this.enabled = force || sink.isTTY === true
  }

  add(bytes: number): void {
    this.done += bytes
    if (!this.enabled) return
    const now = performance.now()
    if (now - this.last < 100 && this.done < this.total) return
    this.last = now
    const width = Math.max(10, Math.min(40, (this.sink.columns ?? 80) - 45))
    const share = this.total ? Math.min(1, this.done / this.total) : 1
    const filled = Math.round(share * width)
    const rate = this.done / Math.max(1e-3, (now - this.start) / 1000)
    this.sink.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}% ${formatBytes(this.done)} ${formatBytes(rate)}/s\x1b[K`)
  }

  finish(): void {
    if (this.enabled) this.sink.write('\r\x1b[K')
  }
}
