/**
 * Option validation shared by every options object (PageStore, SwapCache):
 * one wording and one set of error codes for the same mistake everywhere.
 */
import { InvalidArgumentError } from '../errors.js'

/** A short, safe description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`
  if (typeof value === 'object') return `an instance of ${(value as object).constructor?.name ?? 'Object'}`
  return `${typeof value} ${String(value)}`
}

export function integerOption(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new InvalidArgumentError(`option '${name}' must be an integer, got ${describe(value)}`)
  }
  if (value < min || value > max) {
    throw new InvalidArgumentError(`option '${name}' must be in ${min}..${max}, got ${value}`, 'ERR_ZSTASH_OUT_OF_RANGE')
  }
  return value
}

export function booleanOption(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new InvalidArgumentError(`option '${name}' must be a boolean, got ${describe(value)}`)
  return value
}
