/** Per-page results of a compress batch; mirrors native/common/page.h. */
export const PageStatus = {
  SameFilled: 0,
  Incompressible: -1,
  CompressError: -2,
  InjectedFault: -3,
  /** Set by asynchronous backends: the device failed this page and no fallback could take it. */
  DeviceError: -4,
} as const

/** Decode results: PAGE_SIZE on success, else one of these; mirrors native/common/page.h. */
export const DecodeStatus = {
  Corrupt: -10,
  WrongSize: -11,
} as const

export const PAGE_SIZE = 4096
export const PAGE_SHIFT = 12
