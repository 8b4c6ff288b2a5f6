/**
 * usemem's --backing: the tier below the pool as one command-line word.
 *
 *   file                 a temp swap file (unlinked at once, gone at exit)
 *   file:DIR             a temp swap file in DIR (an existing directory)
 *   file:PATH            this swap file (must not exist; removed at close)
 *   cluster:H:P[,H:P…]   a Valkey/Redis Cluster, seeded with these nodes
 *
 * The cluster password comes from --backing-password or the
 * ZSTASH_BACKING_PASSWORD environment variable (which keeps it out of `ps`
 * and out of the result's command line).
 */
import { statSync } from 'node:fs'
import { InvalidArgumentError } from '../errors.js'
import { resolveBackingOptions, type BackingOptions } from '../tier/options.js'

export function parseBackingSpec(spec: string, password?: string): BackingOptions {
  let options: BackingOptions
  if (spec === 'file') {
    options = { type: 'file' }
  } else if (spec.startsWith('file:') && spec.length > 5) {
    const where = spec.slice(5)
    options = isDirectory(where) ? { type: 'file', dir: where } : { type: 'file', path: where }
  } else if (spec.startsWith('cluster:') && spec.length > 8) {
    const nodes = spec.slice(8).split(',').filter(Boolean)
    options = { type: 'cluster', nodes, ...(password ? { password } : {}) }
  } else {
    throw new InvalidArgumentError(`--backing must be file, file:PATH or cluster:HOST:PORT[,HOST:PORT…], got ${JSON.stringify(spec)}`, 'ERR_ZSTASH_UNKNOWN_OPTION')
  }
  if (password && options.type !== 'cluster') throw new InvalidArgumentError('--backing-password applies to a cluster backing store only')
  // The store's own checks (node syntax, path and dir) with their option names.
  resolveBackingOptions(options)
  return options
}

/** The spec as a result may record it: no password. */
export function describeBacking(options: BackingOptions): string {
  if (options.type === 'file') return options.path ? `file:${options.path}` : options.dir ? `file:${options.dir}` : 'file'
  return `cluster:${options.nodes.join(',')}${options.password ? ' (password set)' : ''}`
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory()
  } catch {
    return false
  }
}
