/**
 * Backing-store options, validated before anything is opened: an unknown key,
 * a wrong type or an out-of-range value throws InvalidArgumentError naming the
 * option (as src/store/options.ts does for the PageStore).
 */
import type { ConnectionOptions } from 'node:tls'
import { InvalidArgumentError } from '../errors.js'
import { booleanOption, describe, integerOption } from '../util/validate.js'
import { SEALING_MODES, type SealingMode } from './sealing.js'

export interface FileBackingOptions {
  type: 'file'
  /** The swap file. Created (it must not exist) and removed at close. Default: a temp file in `dir`. */
  path?: string
  /** Directory of the default temp file. Default: os.tmpdir(). */
  dir?: string
  /** 'none' (default: CRC32C only), 'aes-256-gcm' or 'chacha20-poly1305'. */
  encryption?: SealingMode
  /** Unit of space reuse and compaction. Default 256 KiB; 128 KiB..64 MiB, a multiple of 4096. */
  segmentBytes?: number
  /** Largest file size; a batch that would grow the file past it is rejected ('full'). Default: no limit. */
  maxBytes?: number
  /** Compaction starts when the file exceeds this multiple of the live record bytes (plus one segment). Default 1.15. */
  compactRatio?: number
}

export interface ClusterBackingOptions {
  type: 'cluster'
  /** Seed nodes, 'host:port'; the client discovers the rest of the cluster. */
  nodes: string[]
  /** ACL user (Redis 6+); with only `password`, the legacy AUTH. */
  username?: string
  password?: string
  /** TLS to every node: true for defaults, or node:tls connection options (ca, cert, key, servername…). */
  tls?: boolean | ConnectionOptions
  /** First part of every key (for ACL key patterns such as ~zstash:*). Default 'zstash'. */
  prefix?: string
  /** 'aes-256-gcm' (default), 'chacha20-poly1305', or 'none' (unencrypted: only for a trusted, private cluster). */
  encryption?: SealingMode
  /** A command not answered within this fails with reason 'timeout'. Default 1000 ms. */
  commandTimeoutMs?: number
  /** Connecting to a node gives up after this. Default 2000 ms. */
  connectTimeoutMs?: number
  /** Deletions are sent when this many are pending… Default 256. */
  deleteBatch?: number
  /** …or this long after the first pending one. Default 20 ms. */
  deleteDelayMs?: number
  /** close() deletes every object still live, so a shared cluster keeps no garbage. Default true. */
  deleteOnClose?: boolean
}

export type BackingOptions = FileBackingOptions | ClusterBackingOptions

export interface ResolvedFileOptions {
  type: 'file'
  path: string | undefined
  dir: string | undefined
  encryption: SealingMode
  segmentBytes: number
  maxBytes: number
  compactRatio: number
}

export interface ResolvedClusterOptions {
  type: 'cluster'
  nodes: { host: string; port: number }[]
  username: string | undefined
  password: string | undefined
  tls: ConnectionOptions | undefined
  prefix: string
  encryption: SealingMode
  commandTimeoutMs: number
  connectTimeoutMs: number
  deleteBatch: number
  deleteDelayMs: number
  deleteOnClose: boolean
}

export type ResolvedBackingOptions = ResolvedFileOptions | ResolvedClusterOptions

const FILE_KEYS = new Set(['type', 'path', 'dir', 'encryption', 'segmentBytes', 'maxBytes', 'compactRatio'])
const CLUSTER_KEYS = new Set([
  'type', 'nodes', 'username', 'password', 'tls', 'prefix', 'encryption', 'commandTimeoutMs', 'connectTimeoutMs',
  'deleteBatch', 'deleteDelayMs', 'deleteOnClose',
])

export const DEFAULT_SEGMENT_BYTES = 256 * 1024

export function resolveBackingOptions(options: unknown): ResolvedBackingOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(`option 'backing' must be an object, got ${describe(options)}`)
  }
  const o = options as Record<string, unknown>
  if (o.type === 'file') return resolveFile(o)
  if (o.type === 'cluster') return resolveCluster(o)
  throw new InvalidArgumentError(`option 'backing.type' must be 'file' or 'cluster', got ${describe(o.type)}`)
}

function checkKeys(o: Record<string, unknown>, known: Set<string>): void {
  for (const key of Object.keys(o)) {
    if (!known.has(key)) {
      throw new InvalidArgumentError(
        `unknown option 'backing.${key}' for type '${String(o.type)}' (known: ${[...known].join(', ')})`,
        'ERR_ZSTASH_UNKNOWN_OPTION',
      )
    }
  }
}

function optionalString(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(`option 'backing.${name}' must be a non-empty string, got ${describe(value)}`)
  }
  return value
}

function encryption(value: unknown, fallback: SealingMode): SealingMode {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !(SEALING_MODES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`option 'backing.encryption' must be one of ${SEALING_MODES.join(', ')}, got ${describe(value)}`)
  }
  return value as SealingMode
}

function resolveFile(o: Record<string, unknown>): ResolvedFileOptions {
  checkKeys(o, FILE_KEYS)
  const path = optionalString('path', o.path)
  const dir = optionalString('dir', o.dir)
  if (path !== undefined && dir !== undefined) {
    throw new InvalidArgumentError(`options 'backing.path' and 'backing.dir' exclude each other`)
  }
  const segmentBytes = o.segmentBytes === undefined
    ? DEFAULT_SEGMENT_BYTES
    : integerOption('backing.segmentBytes', o.segmentBytes, 128 * 1024, 64 * 1024 * 1024)
  if (segmentBytes % 4096 !== 0) {
    throw new InvalidArgumentError(`option 'backing.segmentBytes' must be a multiple of 4096, got ${segmentBytes}`, 'ERR_ZSTASH_OUT_OF_RANGE')
  }
  const maxBytes = o.maxBytes === undefined ? Infinity : integerOption('backing.maxBytes', o.maxBytes, segmentBytes, Number.MAX_SAFE_INTEGER)
  let compactRatio = 1.15
  if (o.compactRatio !== undefined) {
    if (typeof o.compactRatio !== 'number' || !Number.isFinite(o.compactRatio)) {
      throw new InvalidArgumentError(`option 'backing.compactRatio' must be a number, got ${describe(o.compactRatio)}`)
    }
    if (o.compactRatio < 1.02 || o.compactRatio > 4) {
      throw new InvalidArgumentError(`option 'backing.compactRatio' must be in 1.02..4, got ${o.compactRatio}`, 'ERR_ZSTASH_OUT_OF_RANGE')
    }
    compactRatio = o.compactRatio
  }
  return { type: 'file', path, dir, encryption: encryption(o.encryption, 'none'), segmentBytes, maxBytes, compactRatio }
}

const PREFIX_RE = /^[A-Za-z0-9_.:-]{1,64}$/

function resolveCluster(o: Record<string, unknown>): ResolvedClusterOptions {
  checkKeys(o, CLUSTER_KEYS)
  if (!Array.isArray(o.nodes) || o.nodes.length === 0) {
    throw new InvalidArgumentError(`option 'backing.nodes' must be a non-empty array of 'host:port', got ${describe(o.nodes)}`)
  }
  const nodes = o.nodes.map((n, i) => {
    const m = typeof n === 'string' ? /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(n) : null
    const port = m ? Number(m[2]) : 0
    if (!m || port < 1 || port > 65535) {
      throw new InvalidArgumentError(`option 'backing.nodes[${i}]' must be 'host:port', got ${describe(n)}`)
    }
    return { host: m[1].replace(/^\[|\]$/g, ''), port }
  })
  const username = optionalString('username', o.username)
  const password = optionalString('password', o.password)
  if (username !== undefined && password === undefined) {
    throw new InvalidArgumentError(`option 'backing.username' needs 'backing.password'`)
  }
  let tls: ConnectionOptions | undefined
  if (o.tls === true) tls = {}
  else if (o.tls === undefined || o.tls === false) tls = undefined
  else if (typeof o.tls === 'object' && o.tls !== null && !Array.isArray(o.tls)) tls = o.tls as ConnectionOptions
  else throw new InvalidArgumentError(`option 'backing.tls' must be a boolean or tls connection options, got ${describe(o.tls)}`)
  const prefix = optionalString('prefix', o.prefix) ?? 'zstash'
  if (!PREFIX_RE.test(prefix)) {
    throw new InvalidArgumentError(`option 'backing.prefix' must be 1..64 of [A-Za-z0-9_.:-] (no braces: they would change the hash tag), got ${describe(prefix)}`)
  }
  return {
    type: 'cluster',
    nodes,
    username,
    password,
    tls,
    prefix,
    encryption: encryption(o.encryption, 'aes-256-gcm'),
    commandTimeoutMs: o.commandTimeoutMs === undefined ? 1000 : integerOption('backing.commandTimeoutMs', o.commandTimeoutMs, 10, 600_000),
    connectTimeoutMs: o.connectTimeoutMs === undefined ? 2000 : integerOption('backing.connectTimeoutMs', o.connectTimeoutMs, 10, 600_000),
    deleteBatch: o.deleteBatch === undefined ? 256 : integerOption('backing.deleteBatch', o.deleteBatch, 1, 65536),
    deleteDelayMs: o.deleteDelayMs === undefined ? 20 : integerOption('backing.deleteDelayMs', o.deleteDelayMs, 0, 60_000),
    deleteOnClose: o.deleteOnClose === undefined ? true : booleanOption('backing.deleteOnClose', o.deleteOnClose),
  }
}
