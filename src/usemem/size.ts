/** usemem's memparse(): a number with an optional k/m/g/t suffix, powers of 1024, either case. */
import { InvalidArgumentError } from '../errors.js'

const SHIFT: Record<string, number> = { k: 10, m: 20, g: 30, t: 40 }

export function parseSize(text: string, what = 'size'): number {
  const m = /^(0x[0-9a-f]+|\d+)([kmgt]?)$/i.exec(String(text).trim())
  if (!m) throw new InvalidArgumentError(`${what} must be a number with an optional k/m/g/t suffix, got ${JSON.stringify(text)}`, 'ERR_ZSTASH_BAD_SIZE')
  const n = Number(m[1]) * 2 ** (m[2] ? SHIFT[m[2].toLowerCase()] : 0)
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`${what} ${text} is too large`, 'ERR_ZSTASH_BAD_SIZE')
  return n
}

/** 1536 MiB → "1.5 GiB": for humans only; results keep bytes. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++ }
  return `${Number.isInteger(n) ? n : n.toFixed(1)} ${units[i]}`
}
