/**
 * Argument checks shared by both stores: a batch that is malformed throws
 * InvalidArgumentError before the store touches anything, so a bad call can
 * neither write a partial batch nor leak a locator.
 */
import { InvalidArgumentError } from '../errors.js'
import { describe } from '../util/validate.js'
import { PAGE_SIZE } from '../codecs/status.js'
import { MAX_BATCH_OBJECTS, MAX_OBJECT_BYTES, type GetBatch, type PutBatch } from './backing-store.js'

function count(what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_BATCH_OBJECTS) {
    throw new InvalidArgumentError(`${what}.count must be an integer in 0..${MAX_BATCH_OBJECTS}, got ${describe(value)}`, 'ERR_ZSTASH_OUT_OF_RANGE')
  }
  return value
}

function array<T>(what: string, name: string, value: unknown, type: new (n: number) => T, n: number): T {
  if (!(value instanceof type) || (value as unknown as { length: number }).length < n) {
    throw new InvalidArgumentError(`${what}.${name} must be a ${type.name} of at least ${n} elements, got ${describe(value)}`)
  }
  return value
}

export function checkPutBatch(batch: PutBatch): number {
  if (typeof batch !== 'object' || batch === null) throw new InvalidArgumentError(`putMany needs a batch object, got ${describe(batch)}`)
  const n = count('putMany batch', batch.count)
  array('putMany batch', 'keys', batch.keys, Uint32Array, n)
  array('putMany batch', 'tags', batch.tags, Uint32Array, n)
  array('putMany batch', 'checksums', batch.checksums, Uint32Array, n)
  const offsets = array('putMany batch', 'offsets', batch.offsets, Uint32Array, n)
  const lengths = array('putMany batch', 'lengths', batch.lengths, Uint32Array, n)
  if (!Array.isArray(batch.sources) || batch.sources.length === 0) {
    throw new InvalidArgumentError(`putMany batch.sources must be a non-empty array of Uint8Array, got ${describe(batch.sources)}`)
  }
  const index = batch.sourceIndex === undefined ? undefined : array('putMany batch', 'sourceIndex', batch.sourceIndex, Uint32Array, n)
  for (let i = 0; i < n; i++) {
    const len = lengths[i]
    if (len < 1 || len > MAX_OBJECT_BYTES) {
      throw new InvalidArgumentError(`putMany batch.lengths[${i}] must be in 1..${MAX_OBJECT_BYTES}, got ${len}`, 'ERR_ZSTASH_OUT_OF_RANGE')
    }
    const s = index ? index[i] : 0
    const src = batch.sources[s]
    if (!(src instanceof Uint8Array)) {
      throw new InvalidArgumentError(`putMany batch.sources[${s}] (object ${i}) must be a Uint8Array, got ${describe(src)}`)
    }
    if (offsets[i] + len > src.length) {
      throw new InvalidArgumentError(`putMany object ${i}: bytes ${offsets[i]}..${offsets[i] + len} are outside source ${s} (${src.length} bytes)`, 'ERR_ZSTASH_OUT_OF_RANGE')
    }
  }
  return n
}

export interface CheckedGet {
  n: number
  status: Int32Array
  tags: Uint32Array
  checksums: Uint32Array
}

export function checkGetBatch(batch: GetBatch): CheckedGet {
  if (typeof batch !== 'object' || batch === null) throw new InvalidArgumentError(`getMany needs a batch object, got ${describe(batch)}`)
  const n = count('getMany batch', batch.count)
  array('getMany batch', 'locators', batch.locators, Uint32Array, n)
  array('getMany batch', 'keys', batch.keys, Uint32Array, n)
  const offsets = array('getMany batch', 'offsets', batch.offsets, Uint32Array, n)
  if (!(batch.into instanceof Uint8Array)) {
    throw new InvalidArgumentError(`getMany batch.into must be a Uint8Array, got ${describe(batch.into)}`)
  }
  const caps = batch.capacities === undefined ? undefined : array('getMany batch', 'capacities', batch.capacities, Uint32Array, n)
  for (let i = 0; i < n; i++) {
    const cap = caps ? caps[i] : PAGE_SIZE
    if (offsets[i] + cap > batch.into.length) {
      throw new InvalidArgumentError(`getMany object ${i}: destination ${offsets[i]}..${offsets[i] + cap} is outside into (${batch.into.length} bytes)`, 'ERR_ZSTASH_OUT_OF_RANGE')
    }
  }
  return {
    n,
    status: batch.status === undefined ? new Int32Array(n) : array('getMany batch', 'status', batch.status, Int32Array, n),
    tags: batch.tags === undefined ? new Uint32Array(n) : array('getMany batch', 'tags', batch.tags, Uint32Array, n),
    checksums: batch.checksums === undefined ? new Uint32Array(n) : array('getMany batch', 'checksums', batch.checksums, Uint32Array, n),
  }
}

export function checkDeleteArgs(locators: Uint32Array, count: number | undefined, keys: Uint32Array | undefined): number {
  if (!(locators instanceof Uint32Array)) throw new InvalidArgumentError(`deleteMany locators must be a Uint32Array, got ${describe(locators)}`)
  const n = count ?? locators.length
  if (!Number.isInteger(n) || n < 0 || n > locators.length) {
    throw new InvalidArgumentError(`deleteMany count must be an integer in 0..${locators.length}, got ${describe(count)}`, 'ERR_ZSTASH_OUT_OF_RANGE')
  }
  if (keys !== undefined && (!(keys instanceof Uint32Array) || keys.length < n)) {
    throw new InvalidArgumentError(`deleteMany keys must be a Uint32Array of at least ${n} elements, got ${describe(keys)}`)
  }
  return n
}
