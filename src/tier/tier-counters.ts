/**
 * Counters both backing stores keep, named once (stats() fields are
 * snake_case like the PageStore's): traffic, batches, failures by reason,
 * latencies and batch sizes.
 */
import type { BackingStoreReason } from '../errors.js'
import { GetStatus, statusReason, type BackingStoreStats, type BackingStoreType } from './backing-store.js'
import { LogHistogram } from './histogram.js'
import type { SealingMode } from './sealing.js'

export class TierCounters {
  payloadBytes = 0
  recordBytes = 0
  bytesWritten = 0
  bytesRead = 0
  putBatches = 0
  putObjects = 0
  putFailures = 0
  getBatches = 0
  getObjects = 0
  getReads = 0
  deletedObjects = 0
  readonly failures: Record<BackingStoreReason, number> = {
    timeout: 0, unavailable: 0, auth: 0, corrupt: 0, missing: 0, full: 0, io: 0,
  }
  readonly putLatency = new LogHistogram()
  readonly getLatency = new LogHistogram()
  readonly putBatchObjects = new LogHistogram()

  /** Counts a putMany that wrote `n` objects: `payload` bytes of objects in `records` bytes of records, since t0. */
  countPut(n: number, payload: number, records: number, t0: number): void {
    this.payloadBytes += payload
    this.recordBytes += records
    this.bytesWritten += records
    this.putBatches++
    this.putObjects += n
    this.putBatchObjects.record(n)
    this.putLatency.record((performance.now() - t0) * 1000)
  }

  /** Counts the negative statuses of a getMany; returns how many there were. */
  countStatuses(status: Int32Array, n: number): number {
    let failed = 0
    for (let i = 0; i < n; i++) {
      if (status[i] < 0) {
        failed++
        this.failures[statusReason(status[i])]++
      }
    }
    return failed
  }

  snapshot(type: BackingStoreType, sealing: SealingMode, objects: number, backingBytes: number, pendingDeletes: number): BackingStoreStats {
    return {
      type,
      sealing,
      objects,
      payload_bytes: this.payloadBytes,
      record_bytes: this.recordBytes,
      backing_bytes: backingBytes,
      space_amplification: this.payloadBytes > 0 ? backingBytes / this.payloadBytes : 0,
      bytes_written: this.bytesWritten,
      bytes_read: this.bytesRead,
      put_batches: this.putBatches,
      put_objects: this.putObjects,
      get_batches: this.getBatches,
      get_objects: this.getObjects,
      get_reads: this.getReads,
      deleted_objects: this.deletedObjects,
      pending_deletes: pendingDeletes,
      put_failures: this.putFailures,
      failures: { ...this.failures },
      put_latency_us: this.putLatency.summary(),
      get_latency_us: this.getLatency.summary(),
      put_batch_objects: this.putBatchObjects.summary(),
    }
  }
}

/** A status for objects whose read failed as a whole (file read error, cluster command error). */
export function failureStatus(reason: BackingStoreReason): number {
  switch (reason) {
    case 'timeout': return GetStatus.TIMEOUT
    case 'auth': return GetStatus.AUTH
    case 'missing': return GetStatus.MISSING
    case 'corrupt': return GetStatus.CORRUPT
    default: return GetStatus.UNAVAILABLE
  }
}
