/** Per-page results of a compress batch; mirrors native/common/page.h. */
export const PageStatus = {
  SameFilled: 0,
  Incompressible: -1,
  CompressError: -2,
  /** Set by asynchronous backends: the device failed this page and no fallback could take it. */
  DeviceError: -4,
} as const

/** Decode results: PAGE_SIZE on success, else one of these; mirrors native/common/page.h. */
export const DecodeStatus = {
  Corrupt: -10,
  WrongSize: -11,
  /** The stored object does not match its checksum; it was not decoded. */
  Checksum: -12,
  /** The pool has no live object under that handle and length (a stale or damaged entry). */
  BadHandle: -13,
} as const

export function decodeStatusName(status: number): string {
  switch (status) {
    case DecodeStatus.WrongSize: return 'wrong size'
    case DecodeStatus.Checksum: return 'checksum mismatch'
    case DecodeStatus.BadHandle: return 'no such object in the pool'
    default: return 'corrupt stream'
  }
}

export const PAGE_SIZE = 4096
export const PAGE_SHIFT = 12
