/**
 * A Prometheus histogram that counts into a Float64Array, so observing costs a
 * bucket search and an add: no closure, label hash or object per observation
 * (prom-client's Histogram#observe allocates a closure per call, which is fine
 * per request, not per stored page). It implements the part of prom-client's
 * metric interface a Registry reads (name, help, type, get, reset), so it is
 * exposed and merged like any other metric.
 */
import type { Registry } from 'prom-client'

export interface BatchHistogramOptions {
  name: string
  help: string
  /** Upper bounds, strictly increasing; +Inf is added. */
  buckets: readonly number[]
  registers?: Registry[]
}

interface Sample {
  metricName: string
  labels: Record<string, string | number>
  value: number
}

export class BatchHistogram {
  readonly name: string
  readonly help: string
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  readonly labelNames: string[] = []
  readonly upperBounds: Float64Array
  /** counts[i]: observations ≤ upperBounds[i] and > upperBounds[i-1]; the last slot is +Inf. */
  private readonly counts: Float64Array
  private sum = 0
  private total = 0

  constructor(o: BatchHistogramOptions) {
    this.name = o.name
    this.help = o.help
    for (let i = 1; i < o.buckets.length; i++) {
      if (!(o.buckets[i] > o.buckets[i - 1])) throw new RangeError(`${o.name}: buckets must increase`)
    }
    this.upperBounds = Float64Array.from(o.buckets)
    this.counts = new Float64Array(o.buckets.length + 1)
    for (const r of o.registers ?? []) r.registerMetric(this as never)
  }

  observe(value: number): void {
    this.add(value, 1)
  }

  /** `times` observations of `value` (a batch of equal values, e.g. a batch's size). */
  add(value: number, times: number): void {
    const b = this.upperBounds
    // Binary search for the first bound ≥ value (the bucket "le" semantics).
    let lo = 0, hi = b.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (b[mid] < value) lo = mid + 1
      else hi = mid
    }
    this.counts[lo] += times
    this.sum += value * times
    this.total += times
  }

  reset(): void {
    this.counts.fill(0)
    this.sum = 0
    this.total = 0
  }

  async get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: Sample[] }> {
    const values: Sample[] = []
    let cumulative = 0
    for (let i = 0; i < this.upperBounds.length; i++) {
      cumulative += this.counts[i]
      values.push({ metricName: `${this.name}_bucket`, labels: { le: this.upperBounds[i] }, value: cumulative })
    }
    values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf' }, value: this.total })
    values.push({ metricName: `${this.name}_sum`, labels: {}, value: this.sum })
    values.push({ metricName: `${this.name}_count`, labels: {}, value: this.total })
    return { name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values }
  }
}
