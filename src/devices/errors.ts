/**
 * Device failures as typed errors. Native device calls reject with an Error
 * carrying a `code`; fromNative() maps it onto the project's error classes so
 * callers branch on `err.code`, never on messages.
 */
import { BackendUnavailableError, ClosedError, ZstashError } from '../errors.js'

/** A device failed in a way no fallback could absorb (open, configure, or the engine itself). */
export class DeviceError extends ZstashError {
  /** The compressor name, e.g. 'dpdk:isal'. */
  readonly device: string
  constructor(device: string, message: string, options?: { cause?: unknown }) {
    super('ERR_ZSTASH_DEVICE', message, options)
    this.device = device
  }
}

export function fromNative(device: string, err: unknown): Error {
  if (err instanceof ZstashError) return err
  const e = err as { code?: string; message?: string }
  const text = e?.message ?? String(err)
  // Native messages name their device kind; for 'qat', 'uadk' or 'sim' that is already the name.
  const message = text.startsWith(`${device}: `) ? text : `${device}: ${text}`
  switch (e?.code) {
    case 'ERR_ZSTASH_BACKEND_UNAVAILABLE':
      return new BackendUnavailableError(message, { cause: err })
    case 'ERR_ZSTASH_CLOSED':
      return new ClosedError(`device ${device}`)
    default:
      return new DeviceError(device, message, { cause: err })
  }
}
