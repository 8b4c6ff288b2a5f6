/**
 * Options of openDeviceBackend(), checked here so a mistake becomes an
 * InvalidArgumentError naming the option rather than a native failure.
 */
import { InvalidArgumentError } from '../errors.js'
import { FORMAT_SPECS } from '../codecs/formats.js'
import type { DeviceKind } from './names.js'

/** Options common to every device: the engine's policy knobs. */
export interface EngineOptions {
  /** Jobs the device may hold at once (its queue). Default: sim 64, dpdk 64, qpl 16, qat 64, uadk 64. */
  queueDepth?: number
  /** A job not completed after this long is redone on the CPU (lost completion). Default 500. */
  timeoutMs?: number
  /** Decode every device result and compare it with the page before accepting it. Default false. */
  verify?: boolean
  /** Busy-queue retries before a page goes to the CPU. Default 3 (QEMU's). */
  busyRetries?: number
  /** Longest sleep between polls while jobs are outstanding. Default 50. */
  maxPollSleepUs?: number
}

export interface DpdkOptions extends EngineOptions {
  /** Extra EAL arguments; only the first DPDK open in a process starts the EAL. */
  ealArgs?: string[]
  /** Let the EAL probe PCI devices (hardware PMDs). Default false (--no-pci). */
  pci?: boolean
  /** Let the EAL use hugepages (hardware PMDs). Default false (--no-huge). */
  hugepages?: boolean
  /** Arguments for a new virtual device, e.g. 'socket_id=0'. */
  devargs?: string
  /** Attach pages to mbufs instead of copying. Default: on for CPU vdevs, off for hardware. */
  zeroCopy?: boolean
}

export interface QplOptions extends EngineOptions {
  /** Dynamic instead of fixed Huffman blocks (better ratio, slower). Default false, like QEMU. */
  dynamicHuffman?: boolean
}

export interface QatOptions extends EngineOptions {
  /** Dynamic instead of static Huffman blocks. Default: QATzip's session default (dynamic). */
  dynamicHuffman?: boolean
}

/** UADK takes the engine options only: deflate with a 4 KiB window at the store's level. */
export type UadkOptions = EngineOptions

export interface SimOptions extends EngineOptions {
  /** Parallel engines. Default 8. */
  engines?: number
  /** Service time of one page on one engine, in microseconds. Default 20. */
  latencyUs?: number
  /** Extra service time per KiB of input. Default 0. */
  latencyPerKbUs?: number
  /** Probability that a submit is refused as busy. */
  busyRate?: number
  /** Probability that a job completes with an error. */
  errorRate?: number
  /** Probability that a job completes with a fault. */
  faultRate?: number
  /** Probability that a job's completion never arrives. */
  lostRate?: number
  /** Probability that a completion reports a wrong length. */
  wrongLengthRate?: number
  /** Probability that a completion is delayed by stallUs. */
  stallRate?: number
  stallUs?: number
  /** Seed of the fault generator, for reproducible runs. Default 1. */
  seed?: number
}

export type DeviceOptions = DpdkOptions & QplOptions & QatOptions & UadkOptions & SimOptions

export interface OpenDeviceOptions {
  /** Largest number of pages submitted as one batch (zswap's 8). */
  maxBatch: number
  /** deflate-4k level (0..3); for the devices, a level hint (see docs/devices.md). Default 1. */
  level?: number
  device?: DeviceOptions
}

type Check = (value: unknown) => string | undefined

const int = (min: number, max: number): Check => (v) =>
  Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? undefined : `an integer in [${min}, ${max}]`
const num = (min: number, max: number): Check => (v) =>
  typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? undefined : `a number in [${min}, ${max}]`
const bool: Check = (v) => (typeof v === 'boolean' ? undefined : 'a boolean')
const str: Check = (v) => (typeof v === 'string' ? undefined : 'a string')
const strings: Check = (v) => (Array.isArray(v) && v.every((s) => typeof s === 'string') ? undefined : 'an array of strings')
const rate = num(0, 1)

const ENGINE: Record<string, Check> = {
  queueDepth: int(1, 4096),
  timeoutMs: num(0.1, 600_000),
  verify: bool,
  busyRetries: int(0, 1000),
  maxPollSleepUs: num(1, 100_000),
}

const BY_KIND: Record<DeviceKind, Record<string, Check>> = {
  dpdk: { ...ENGINE, ealArgs: strings, pci: bool, hugepages: bool, devargs: str, zeroCopy: bool },
  qpl: { ...ENGINE, dynamicHuffman: bool },
  qat: { ...ENGINE, dynamicHuffman: bool },
  uadk: { ...ENGINE },
  sim: {
    ...ENGINE,
    engines: int(1, 1024),
    latencyUs: num(0, 10_000_000),
    latencyPerKbUs: num(0, 10_000_000),
    busyRate: rate,
    errorRate: rate,
    faultRate: rate,
    lostRate: rate,
    wrongLengthRate: rate,
    stallRate: rate,
    stallUs: num(0, 10_000_000),
    seed: int(0, Number.MAX_SAFE_INTEGER),
  },
}

/** Returns the device options with every key checked for this kind of device. */
export function checkDeviceOptions(name: string, kind: DeviceKind, options: OpenDeviceOptions): Record<string, unknown> {
  if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1 || options.maxBatch > 4096) {
    throw new InvalidArgumentError(`${name}: maxBatch must be an integer in [1, 4096], got ${String(options.maxBatch)}`)
  }
  const spec = FORMAT_SPECS['deflate-4k']
  const level = options.level ?? spec.defaultLevel
  if (!Number.isInteger(level) || level < spec.minLevel || level > spec.maxLevel) {
    throw new InvalidArgumentError(`${name}: level must be an integer in [${spec.minLevel}, ${spec.maxLevel}] (${spec.levelMeaning}), got ${String(level)}`)
  }
  const allowed = BY_KIND[kind]
  const device = options.device ?? {}
  if (typeof device !== 'object' || device === null) throw new InvalidArgumentError(`${name}: device options must be an object`)
  for (const [key, value] of Object.entries(device)) {
    if (value === undefined) continue
    const check = allowed[key]
    if (!check) {
      throw new InvalidArgumentError(`${name}: unknown device option '${key}' (${kind} accepts ${Object.keys(allowed).join(', ')})`)
    }
    const problem = check(value)
    if (problem) throw new InvalidArgumentError(`${name}: device option '${key}' must be ${problem}, got ${JSON.stringify(value)}`)
  }
  return { ...device, level, maxBatch: options.maxBatch }
}
