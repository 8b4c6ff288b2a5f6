/** usemem's failures, each with a stable code so the CLI can map them to exit statuses. */
import { ZstashError } from '../errors.js'

/** Data read back differs from what was written (usemem's "Data wrong at offset"). */
export class DataMismatchError extends ZstashError {
  readonly task: number
  readonly offset: number
  constructor(task: number, offset: number, expected: bigint, got: bigint) {
    super(
      'ERR_ZSTASH_DATA_WRONG',
      `Data wrong at offset 0x${offset.toString(16)}. Expected 0x${expected.toString(16).padStart(8, '0')}, got 0x${got.toString(16).padStart(8, '0')}` +
        ` (task ${task})`,
    )
    this.task = task
    this.offset = offset
  }
}
