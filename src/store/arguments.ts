/**
 * Arguments of the store's entry points, checked the way a hostile caller
 * forces: lengths come from the typed array's internal slots (the intrinsic
 * getters), never from `length` or `byteLength` properties a subclass can
 * override; Proxies and look-alikes are refused; keys are copied once, at
 * call time, so a caller changing its array later changes nothing.
 */
import { types } from 'node:util'
import { InvalidArgumentError } from '../errors.js'
import { PAGE_SIZE } from '../codecs/status.js'
import { describe } from '../util/validate.js'
import { MAX_FOLIO_PAGES } from './options.js'

export const MAX_KEY = 2 ** 32 - 1
/** Largest number of keys one loadMany takes (16 M pages, 64 GiB of output). */
export const MAX_LOAD_MANY_KEYS = 1 << 24

const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object
function intrinsicGetter(name: string): (this: unknown) => unknown {
  return Object.getOwnPropertyDescriptor(typedArrayPrototype, name)!.get as (this: unknown) => unknown
}
const bufferOf = intrinsicGetter('buffer')
const byteOffsetOf = intrinsicGetter('byteOffset')
const byteLengthOf = intrinsicGetter('byteLength')
const lengthOf = intrinsicGetter('length')

/**
 * A plain Uint8Array over exactly the bytes `value` really views, or
 * undefined when `value` is not a Uint8Array (Buffer and subclasses are).
 */
export function realBytes(value: unknown): Uint8Array | undefined {
  if (!types.isUint8Array(value)) return undefined
  const buffer = bufferOf.call(value) as ArrayBufferLike
  const length = byteLengthOf.call(value) as number
  // A detached buffer reports 0 bytes; a view of it cannot be made.
  if (length === 0) return new Uint8Array(0)
  return new Uint8Array(buffer, byteOffsetOf.call(value) as number, length)
}

export function checkKey(key: unknown, name: string): number {
  if (typeof key !== 'number' || !Number.isInteger(key) || key < 0 || key > MAX_KEY) {
    throw new InvalidArgumentError(`${name} must be an integer in 0..${MAX_KEY}, got ${describe(key)}`, 'ERR_ZSTASH_BAD_KEY')
  }
  return key
}

/** The folio's real bytes and page count; throws on anything but 1..512 whole pages. */
export function checkFolio(firstKey: unknown, pages: unknown): { bytes: Uint8Array; pages: number } {
  checkKey(firstKey, 'firstKey')
  const bytes = realBytes(pages)
  if (!bytes) throw new InvalidArgumentError(`pages must be a Uint8Array, got ${describe(pages)}`)
  const n = bytes.byteLength / PAGE_SIZE
  if (!Number.isInteger(n) || n < 1 || n > MAX_FOLIO_PAGES) {
    throw new InvalidArgumentError(
      `pages must hold 1..${MAX_FOLIO_PAGES} whole pages of ${PAGE_SIZE} bytes, got ${bytes.byteLength} bytes`,
      'ERR_ZSTASH_BAD_FOLIO',
    )
  }
  if ((firstKey as number) + n - 1 > MAX_KEY) {
    throw new InvalidArgumentError(`keys ${firstKey}..${(firstKey as number) + n - 1} run past ${MAX_KEY}`, 'ERR_ZSTASH_OUT_OF_RANGE')
  }
  return { bytes, pages: n }
}

/** Copies and checks a key list (an array or a typed array of integers). */
export function checkKeys(keys: unknown): Uint32Array {
  let n: number
  let read: (i: number) => unknown
  if (types.isTypedArray(keys) && !types.isBigInt64Array(keys) && !types.isBigUint64Array(keys)) {
    n = lengthOf.call(keys) as number
    const view = keys as unknown as ArrayLike<number>
    read = (i) => view[i]
  } else if (Array.isArray(keys)) {
    try {
      n = keys.length
    } catch (err) {
      throw new InvalidArgumentError(`keys could not be read: ${(err as Error)?.message ?? err}`)
    }
    read = (i) => keys[i]
  } else {
    throw new InvalidArgumentError(`keys must be an array or typed array of integers, got ${describe(keys)}`)
  }
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_LOAD_MANY_KEYS) {
    throw new InvalidArgumentError(`keys must hold 0..${MAX_LOAD_MANY_KEYS} keys, got ${describe(n)}`, 'ERR_ZSTASH_OUT_OF_RANGE')
  }
  const out = new Uint32Array(n)
  for (let i = 0; i < n; i++) {
    let key: unknown
    try {
      key = read(i)
    } catch (err) {
      throw new InvalidArgumentError(`keys[${i}] could not be read: ${(err as Error)?.message ?? err}`)
    }
    out[i] = checkKey(key, `keys[${i}]`)
  }
  return out
}

export interface CheckedLoadOptions {
  into: Uint8Array | undefined
  /** The caller's own `into` object, returned as `pages` (its real view is `into`). */
  intoArg: Uint8Array | undefined
  exclusive: boolean
}

const LOAD_OPTIONS = new Set(['into', 'exclusive'])

/** Load options for `pages` pages: unknown keys, wrong types and short destinations are refused. */
/**
 * Validates load options. The fault path calls this once per page, so it
 * allocates nothing in the common case: the result is a scratch object the
 * caller reads at once (never keep it), and the real view of a caller's
 * `into` is kept for the next call with the same array, reused while its
 * length — read through the intrinsic — is unchanged.
 */
export function checkLoadOptions(options: unknown, pages: number): CheckedLoadOptions {
  const out = checkedScratch
  out.into = undefined
  out.intoArg = undefined
  out.exclusive = false
  if (options === undefined) return out
  if (typeof options !== 'object' || options === null || Array.isArray(options) || types.isProxy(options)) {
    throw new InvalidArgumentError(`load options must be a plain object, got ${describe(options)}`)
  }
  const o = options as Record<string, unknown>
  for (const key in o) {
    if (!LOAD_OPTIONS.has(key) && Object.hasOwn(o, key)) {
      throw new InvalidArgumentError(`unknown load option '${key}' (known: into, exclusive)`, 'ERR_ZSTASH_UNKNOWN_OPTION')
    }
  }
  const exclusive = o.exclusive ?? false
  if (typeof exclusive !== 'boolean') throw new InvalidArgumentError(`option 'exclusive' must be a boolean, got ${describe(exclusive)}`)
  out.exclusive = exclusive
  const intoArg = o.into
  if (intoArg === undefined) return out
  const into = realBytesReused(intoArg)
  if (!into || into.byteLength < pages * PAGE_SIZE) {
    throw new InvalidArgumentError(`'into' must be a Uint8Array of at least ${pages * PAGE_SIZE} bytes, got ${describe(intoArg)}`)
  }
  out.into = into.byteLength === pages * PAGE_SIZE ? into : into.subarray(0, pages * PAGE_SIZE)
  out.intoArg = intoArg as Uint8Array
  return out
}

const checkedScratch: CheckedLoadOptions = { into: undefined, intoArg: undefined, exclusive: false }
let lastIntoArg: unknown
let lastInto: Uint8Array | undefined

/** realBytes(value), reusing the view made for the same array last time if it still describes it. */
function realBytesReused(value: unknown): Uint8Array | undefined {
  const v = lastInto
  // A typed array's buffer and offset never change; its length does when the
  // buffer is detached or resized, so that is the one thing to read again.
  if (value === lastIntoArg && v !== undefined && v.byteLength !== 0 && byteLengthOf.call(value) === v.byteLength) return v
  const real = realBytes(value)
  lastIntoArg = real ? value : undefined
  lastInto = real
  return real
}
