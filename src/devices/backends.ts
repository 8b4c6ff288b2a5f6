/**
 * backends(): every compressor this build knows, with what it would run on.
 * CPU codecs are always there. Device availability is checked as far as it can
 * be without side effects; `probe: true` also opens the DPDK devices, which
 * starts DPDK's EAL in this process (its arguments are then fixed).
 */
import { existsSync, readdirSync } from 'node:fs'
import type { BackendPath } from '../codecs/backend.js'
import { FORMATS } from '../codecs/formats.js'
import { loadNative } from '../native.js'
import { DEFAULT_MAX_BATCH } from '../store/options.js'
import { nativeDevices, type NativeDeviceKind } from './native-devices.js'
import { DEVICE_COMPRESSORS, parseDeviceName, type DeviceKind } from './names.js'
import { openDeviceBackend } from './open.js'

export interface BackendListing {
  name: string
  kind: 'cpu' | DeviceKind
  compiled: boolean
  available: boolean
  /** What would run it; 'none' when it cannot run here. */
  path: BackendPath | 'none'
  /** Why it is not compiled or not available, or notes on what runs. */
  reason: string
  maxBatch: number
  version: string
  /** True when availability was established by opening the device. */
  probed: boolean
}

export interface BackendsOptions {
  /** Open the DPDK devices to check them (starts the EAL). Default false. */
  probe?: boolean
  maxBatch?: number
}

export async function backends(options: BackendsOptions = {}): Promise<BackendListing[]> {
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH
  const native = loadNative()
  const list: BackendListing[] = FORMATS.map((format) => ({
    name: format, kind: 'cpu', compiled: true, available: true, path: 'cpu', reason: '', maxBatch, version: native.codecLibraries, probed: false,
  }))
  const kinds = new Map(nativeDevices().devices.map((k) => [k.kind, k]))
  for (const name of DEVICE_COMPRESSORS) {
    const { kind, variant } = parseDeviceName(name)!
    const info = kinds.get(kind)
    if (!info?.compiled) {
      list.push({ name, kind, compiled: false, available: false, path: 'none', reason: info?.reason ?? 'not compiled', maxBatch: 0, version: '', probed: false })
      continue
    }
    // Opening is how these say what they would run on: QPL resolves its path, QAT and UADK run
    // their libraries' probes (once per process for QAT; quiet on stderr).
    const mustOpen = kind !== 'dpdk' || options.probe === true
    if (!mustOpen) {
      list.push(dpdkWithoutOpening(name, variant, info, maxBatch))
      continue
    }
    list.push(await probe(name, kind, info, maxBatch))
  }
  return list
}

async function probe(name: string, kind: DeviceKind, info: NativeDeviceKind, maxBatch: number): Promise<BackendListing> {
  try {
    // One queue slot: enough to learn the path without allocating a full queue.
    const backend = await openDeviceBackend(name, { maxBatch, device: { queueDepth: 1 } })
    const { caps } = backend
    await backend.close()
    return {
      name, kind, compiled: true, available: true, path: caps.path, reason: caps.notes,
      maxBatch, version: caps.libraryVersion, probed: true,
    }
  } catch (err) {
    return {
      name, kind, compiled: true, available: false, path: 'none', reason: (err as Error).message,
      maxBatch: 0, version: info.version, probed: true,
    }
  }
}

function dpdkWithoutOpening(name: string, variant: string, info: NativeDeviceKind, maxBatch: number): BackendListing {
  const base = { name, kind: 'dpdk' as const, compiled: true, version: info.version, probed: false }
  // Hardware PMDs register from a shared driver library (QAT's is common_qat).
  const files = variant === 'qat' ? ['librte_common_qat.so'] : [`librte_compress_${variant}.so`]
  const installed = info.pluginDir !== '' && existsSync(info.pluginDir) &&
    readdirSync(info.pluginDir).some((f) => files.some((prefix) => f.startsWith(prefix)))
  if (!installed) {
    return { ...base, available: false, path: 'none', maxBatch: 0, reason: `PMD ${files[0]} not found in ${info.pluginDir || 'the DPDK plugin directory'}` }
  }
  if (variant === 'isal' || variant === 'zlib') {
    return { ...base, available: true, path: 'software', maxBatch, reason: `DPDK CPU vdev compress_${variant} (PMD installed; not opened)` }
  }
  return {
    ...base, available: false, path: 'none', maxBatch: 0,
    reason: `PMD installed; needs a compress_${variant} PCI function bound to vfio-pci and the EAL started with PCI and hugepages (not probed: pass { probe: true })`,
  }
}
