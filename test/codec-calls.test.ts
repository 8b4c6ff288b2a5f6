/**
 * The tuned per-page calls keep the codec contract: zstd objects are magicless
 * frames (the entry's format names them) that this codec, and only a decoder
 * set to that format, reads; a standard frame with the magic is not a page here.
 */
import { describe, expect, it } from 'vitest'
import { loadNative, PAGE_SIZE, DecodeStatus } from 'zstash/internals'
import { readCorpusPages } from './helpers/corpus.js'

const native = loadNative()
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd]

function compress(format: string, pages: Uint8Array, n: number) {
  const codec = new native.Codec(format, 1)
  const out = new Uint8Array(n * PAGE_SIZE)
  const status = new Int32Array(n)
  codec.compressBatch(pages, 0, n, out, 0, status, 0, PAGE_SIZE - 1, true)
  return { codec, out, status }
}

describe('zstd per-page frames', () => {
  const n = 256
  const pages = readCorpusPages('node-2k', n)
  const { codec, out, status } = compress('zstd', pages, n)

  it('carry no magic number and decode back to the page', () => {
    const back = new Uint8Array(PAGE_SIZE)
    let compressed = 0
    for (let i = 0; i < n; i++) {
      if (status[i] <= 0) continue
      compressed++
      const obj = out.subarray(i * PAGE_SIZE, i * PAGE_SIZE + status[i])
      expect([...obj.subarray(0, 4)]).not.toEqual(ZSTD_MAGIC)
      expect(codec.decompress(obj, 0, obj.length, back, 0)).toBe(PAGE_SIZE)
      expect(Buffer.compare(back, pages.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE))).toBe(0)
    }
    expect(compressed).toBeGreaterThan(n / 2)
  })

  it('rejects a standard frame (magic in front) and a truncated one', () => {
    const i = Array.from(status).findIndex((s) => s > 0)
    const obj = out.subarray(i * PAGE_SIZE, i * PAGE_SIZE + status[i])
    const withMagic = new Uint8Array([...ZSTD_MAGIC, ...obj])
    const back = new Uint8Array(PAGE_SIZE)
    expect(codec.decompress(withMagic, 0, withMagic.length, back, 0)).toBeLessThan(0)
    expect([DecodeStatus.Corrupt, DecodeStatus.WrongSize]).toContain(codec.decompress(obj, 0, obj.length - 1, back, 0))
  })

  it('a fresh codec (another thread\'s) reads what this one wrote', () => {
    const other = new native.Codec('zstd', 3)
    const back = new Uint8Array(PAGE_SIZE)
    for (let i = 0; i < n; i++) {
      if (status[i] <= 0) continue
      expect(other.decompress(out, i * PAGE_SIZE, status[i], back, 0)).toBe(PAGE_SIZE)
    }
  })
})
