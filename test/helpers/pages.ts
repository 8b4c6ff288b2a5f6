/** Page generators for tests: deterministic, cheap, and covering every store path. */
import { PAGE_SIZE } from 'zstash/internals'

export type PageKind = 'text' | 'zero' | 'fill' | 'random' | 'usemem'

/** One page of the given kind, derived from `seed` (same seed, same bytes). */
export function makePage(kind: PageKind, seed: number, out = new Uint8Array(PAGE_SIZE), at = 0): Uint8Array {
  const view = new DataView(out.buffer, out.byteOffset + at, PAGE_SIZE)
  switch (kind) {
    case 'zero':
      out.fill(0, at, at + PAGE_SIZE)
      break
    case 'fill': {
      const lo = (seed * 2654435761) >>> 0
      for (let i = 0; i < PAGE_SIZE; i += 8) {
        view.setUint32(i, lo, true)
        view.setUint32(i + 4, seed >>> 0, true)
      }
      break
    }
    case 'random': {
      let x = (seed * 2654435761 + 1) >>> 0 || 1
      for (let i = 0; i < PAGE_SIZE; i += 4) {
        x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0
        view.setUint32(i, x, true)
      }
      break
    }
    case 'usemem':
      for (let i = 0; i < PAGE_SIZE / 8; i++) view.setBigUint64(i * 8, BigInt(seed * 512 + i), true)
      break
    case 'text': {
      const words = ['alpha', 'beta', 'gamma', 'delta', 'page', 'folio', 'swap', 'zswap', '{"k":', '}', ' ']
      let x = seed + 7
      for (let i = 0; i < PAGE_SIZE; ) {
        x = (x * 1103515245 + 12345) & 0x7fffffff
        const w = words[x % words.length]
        for (let j = 0; j < w.length && i < PAGE_SIZE; j++) out[at + i++] = w.charCodeAt(j)
      }
      break
    }
  }
  return out
}

export function makeFolio(kinds: PageKind[], seed: number): Uint8Array {
  const out = new Uint8Array(kinds.length * PAGE_SIZE)
  kinds.forEach((k, i) => makePage(k, seed + i, out, i * PAGE_SIZE))
  return out
}
