/**
 * Device compressor names. Every device writes deflate-4k, so a page stored
 * through any of them loads through the CPU deflate-4k codec and vice versa.
 *
 *   sim                  simulated accelerator (never hardware)
 *   dpdk:<pmd>           DPDK compressdev: isal and zlib are CPU vdevs; qat, mlx5, ... are hardware
 *   qpl                  Intel QPL, hardware when an IAA work queue is usable, else its software path
 *   qpl:hardware         IAA only; fails to open without one
 *   qpl:software         QPL's software path
 *   qat                  Intel QAT through qatlib's data-compression API (hardware only)
 *   uadk                 a UACCE device (HiSilicon zip) through UADK's wd_comp (hardware only)
 */
export type DeviceKind = 'sim' | 'dpdk' | 'qpl' | 'qat' | 'uadk'

export interface DeviceName {
  kind: DeviceKind
  /** dpdk: PMD suffix; qpl: path; sim, qat, uadk: '' */
  variant: string
}

/** The names backends() lists; dpdk accepts any other PMD suffix too. */
export const DEVICE_COMPRESSORS = ['dpdk:isal', 'dpdk:zlib', 'dpdk:qat', 'qpl', 'qpl:software', 'qpl:hardware', 'qat', 'uadk', 'sim'] as const

const DPDK = /^dpdk:([a-z0-9_]+)$/

export function parseDeviceName(name: string): DeviceName | undefined {
  if (name === 'sim' || name === 'qat' || name === 'uadk') return { kind: name, variant: '' }
  if (name === 'qpl') return { kind: 'qpl', variant: 'auto' }
  if (name === 'qpl:software' || name === 'qpl:hardware' || name === 'qpl:auto') return { kind: 'qpl', variant: name.slice(4) }
  const m = DPDK.exec(name)
  if (m) return { kind: 'dpdk', variant: m[1] }
  return undefined
}

export function isDeviceCompressor(name: string): boolean {
  return parseDeviceName(name) !== undefined
}
