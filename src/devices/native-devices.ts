/** Types of the addon's device surface (native/devices/register_devices.cc). */
import { loadNative } from '../native.js'
import type { DeviceKind } from './names.js'

export interface NativeDeviceKind {
  kind: DeviceKind
  compiled: boolean
  /** Why it is not compiled, when it is not. */
  reason: string
  version: string
  /** Where the library loads its drivers from (DPDK PMDs). */
  pluginDir: string
}

/** What opening a device found. `path` says what really runs the jobs. */
export interface DeviceCaps {
  name: string
  driver: string
  streamFormat: 'deflate-4k'
  path: 'hardware' | 'software' | 'simulated'
  libraryVersion: string
  notes: string
  maxBatch: number
  queueDepth: number
}

/** Per-device counters; see docs/devices.md for their meaning. */
export interface DeviceCounters {
  batches: number
  pages: number
  hw_submitted: number
  hw_completed: number
  busy_retries: number
  sw_fallbacks: number
  raw_pages: number
  device_errors: number
  faults: number
  timeouts: number
  late_completions: number
  bad_lengths: number
  verify_failures: number
  same_filled: number
  decompress_pages: number
  hw_decompressed: number
  decompress_fallbacks: number
}

export interface NativeDeviceEngine {
  readonly caps: DeviceCaps
  compress(
    pages: Uint8Array, count: number, out: Uint8Array, status: Int32Array,
    threshold: number, detectSameFilled: boolean,
  ): Promise<void>
  decompress(arenas: Uint8Array[], jobs: Int32Array, count: number, dst: Uint8Array, status: Int32Array): Promise<void>
  stats(): DeviceCounters
  close(): Promise<void>
}

/** The flat option object the native openDevice() reads (native/devices/js_options.cc). */
export interface NativeOpenOptions {
  kind: DeviceKind
  variant?: string
  level: number
  maxBatch: number
  [option: string]: unknown
}

interface NativeDeviceApi {
  devices: NativeDeviceKind[]
  openDevice(options: NativeOpenOptions): Promise<NativeDeviceEngine>
  cpuAffinity(): number[]
}

export function nativeDevices(): NativeDeviceApi {
  return loadNative() as unknown as NativeDeviceApi
}

/** CPUs the calling (main) thread may run on, from sched_getaffinity. */
export function cpuAffinity(): number[] {
  return nativeDevices().cpuAffinity()
}
