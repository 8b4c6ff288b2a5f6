/**
 * A log-scale histogram in one typed array (8 buckets per power of two, so a
 * percentile is within ~9% of the true value): batch latencies and batch sizes
 * are counted on every call, so recording must cost no allocation.
 */
const SUB = 8
const BUCKETS = 64 * SUB

export interface HistogramSummary {
  count: number
  mean: number
  p50: number
  p99: number
  max: number
}

export class LogHistogram {
  private readonly counts = new Float64Array(BUCKETS)
  private n = 0
  private sum = 0
  private maxValue = 0

  record(value: number): void {
    if (!(value >= 0)) return
    this.counts[bucketOf(value)]++
    this.n++
    this.sum += value
    if (value > this.maxValue) this.maxValue = value
  }

  summary(): HistogramSummary {
    return {
      count: this.n,
      mean: this.n ? this.sum / this.n : 0,
      p50: this.percentile(50),
      p99: this.percentile(99),
      max: this.maxValue,
    }
  }

  /** Upper edge of the bucket holding the p-th percentile, capped at the largest value seen. */
  percentile(p: number): number {
    if (this.n === 0) return 0
    const rank = Math.ceil((p / 100) * this.n)
    let seen = 0
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.counts[b]
      if (seen >= rank) return Math.min(upperEdge(b), this.maxValue)
    }
    return this.maxValue
  }
}

function bucketOf(value: number): number {
  if (value < 1) return 0
  const exp = Math.floor(Math.log2(value))
  const frac = value / 2 ** exp - 1 // 0..1
  return Math.min(BUCKETS - 1, 1 + exp * SUB + Math.floor(frac * SUB))
}

function upperEdge(bucket: number): number {
  if (bucket === 0) return 1
  const b = bucket - 1
  const exp = Math.floor(b / SUB)
  return 2 ** exp * (1 + ((b % SUB) + 1) / SUB)
}
