import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { deflateRawSync, inflateRawSync } from 'node:zlib'
import { loadNative, FORMATS, PAGE_SIZE, PageStatus, DecodeStatus } from 'zstash/internals'
import { readCorpusPages } from './helpers/corpus.js'

const native = loadNative()

function compressOne(format: string, page: Uint8Array, threshold = PAGE_SIZE - 1, level = 1) {
  const codec = new native.Codec(format, level)
  const out = new Uint8Array(PAGE_SIZE)
  const status = new Int32Array(1)
  codec.compressBatch(page, 0, 1, out, 0, status, 0, threshold, true)
  return { codec, status: status[0], out: out.subarray(0, Math.max(0, status[0])) }
}

function roundTrip(format: string, page: Uint8Array): Uint8Array {
  const { codec, status, out } = compressOne(format, page)
  if (status === PageStatus.SameFilled || status === PageStatus.Incompressible) return page
  expect(status).toBeGreaterThan(0)
  const back = new Uint8Array(PAGE_SIZE)
  expect(codec.decompress(out, 0, status, back, 0)).toBe(PAGE_SIZE)
  return back
}

const pageArb = fc.oneof(
  fc.uint8Array({ minLength: PAGE_SIZE, maxLength: PAGE_SIZE }),
  // Mostly-repetitive pages: a short pattern with sparse noise, the shape of real heaps.
  fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.array(fc.tuple(fc.nat(PAGE_SIZE - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 200 }))
    .map(([pattern, noise]) => {
      const p = new Uint8Array(PAGE_SIZE)
      for (let i = 0; i < PAGE_SIZE; i++) p[i] = pattern[i % pattern.length]
      for (const [at, v] of noise) p[at] = v
      return p
    }),
)

describe.each(FORMATS)('codec %s', (format) => {
  it('round-trips arbitrary pages', () => {
    fc.assert(fc.property(pageArb, (page) => {
      expect(Buffer.compare(roundTrip(format, page), page)).toBe(0)
    }), { numRuns: 150 })
  })

  it('reports a random page as incompressible, not as an error', () => {
    const page = new Uint8Array(PAGE_SIZE)
    for (let i = 0; i < PAGE_SIZE; i++) page[i] = (Math.random() * 256) | 0
    expect(compressOne(format, page).status).toBe(PageStatus.Incompressible)
  })

  it('honours a small threshold', () => {
    const page = new Uint8Array(PAGE_SIZE)
    for (let i = 0; i < PAGE_SIZE; i++) page[i] = (i * 7) % 251
    const { status } = compressOne(format, page, 16)
    expect(status).toBe(PageStatus.Incompressible)
  })

  it('detects same-filled pages and writes the fill word', () => {
    const page = new Uint8Array(PAGE_SIZE)
    new DataView(page.buffer).setBigUint64(0, 0x0123456789abcdefn, true)
    for (let i = 8; i < PAGE_SIZE; i++) page[i] = page[i % 8]
    const codec = new native.Codec(format, 1)
    const out = new Uint8Array(PAGE_SIZE)
    const status = new Int32Array(1)
    codec.compressBatch(page, 0, 1, out, 0, status, 0, PAGE_SIZE - 1, true)
    expect(status[0]).toBe(PageStatus.SameFilled)
    expect(new DataView(out.buffer).getBigUint64(0, true)).toBe(0x0123456789abcdefn)
    // A page equal at first/middle/last word but different elsewhere is not same-filled.
    page[1234] ^= 1
    codec.compressBatch(page, 0, 1, out, 0, status, 0, PAGE_SIZE - 1, true)
    expect(status[0]).toBeGreaterThan(0)
  })

  it('round-trips a corpus slice', () => {
    const pages = readCorpusPages('py-2k', 256)
    const n = pages.length / PAGE_SIZE
    const codec = new native.Codec(format, 1)
    const out = new Uint8Array(pages.length)
    const status = new Int32Array(n)
    for (let first = 0; first < n; first += 8) {
      codec.compressBatch(pages, first, Math.min(8, n - first), out, first, status, first, PAGE_SIZE - 1, true)
    }
    const back = new Uint8Array(PAGE_SIZE)
    for (let i = 0; i < n; i++) {
      if (status[i] <= 0) continue
      expect(codec.decompress(out, i * PAGE_SIZE, status[i], back, 0)).toBe(PAGE_SIZE)
      expect(Buffer.compare(back, pages.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE))).toBe(0)
    }
  })

  it('rejects hostile input with an error code, never a crash or overread', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), (junk) => {
      const codec = new native.Codec(format, 1)
      const dst = new Uint8Array(PAGE_SIZE)
      const r = codec.decompress(junk, 0, junk.length, dst, 0)
      expect([PAGE_SIZE, DecodeStatus.Corrupt, DecodeStatus.WrongSize]).toContain(r)
    }), { numRuns: 300 })
  })

  it('rejects truncated and bit-flipped streams or decodes them to exactly one page', () => {
    const page = new Uint8Array(PAGE_SIZE)
    for (let i = 0; i < PAGE_SIZE; i++) page[i] = (i >> 5) ^ (i & 3)
    const { codec, status, out } = compressOne(format, page)
    expect(status).toBeGreaterThan(0)
    fc.assert(fc.property(fc.nat(status - 1), fc.nat(7), fc.boolean(), (at, bit, truncate) => {
      const bad = Uint8Array.from(out)
      const length = truncate ? at : status
      if (!truncate) bad[at] ^= 1 << bit
      const dst = new Uint8Array(PAGE_SIZE)
      const r = codec.decompress(bad, 0, length, dst, 0)
      expect([PAGE_SIZE, DecodeStatus.Corrupt, DecodeStatus.WrongSize]).toContain(r)
    }), { numRuns: 300 })
  })
})

describe('deflate-4k is the IAA stream format', () => {
  const pages = readCorpusPages('node-2k', 64)

  it('inflates with zlib raw inflate (windowBits 12)', () => {
    let checked = 0
    for (let i = 0; i < pages.length / PAGE_SIZE; i++) {
      const page = pages.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE)
      const { status, out } = compressOne('deflate-4k', page)
      if (status <= 0) continue
      const back = inflateRawSync(out, { windowBits: 12 })
      expect(Buffer.compare(back, page)).toBe(0)
      checked++
    }
    expect(checked).toBeGreaterThan(10)
  })

  it('decodes streams that zlib made with windowBits 12', () => {
    const codec = new native.Codec('deflate-4k', 1)
    const back = new Uint8Array(PAGE_SIZE)
    for (let i = 0; i < pages.length / PAGE_SIZE; i++) {
      const page = pages.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE)
      for (const level of [1, 6, 9]) {
        const z = deflateRawSync(page, { windowBits: 12, level })
        expect(codec.decompress(z, 0, z.length, back, 0)).toBe(PAGE_SIZE)
        expect(Buffer.compare(back, page)).toBe(0)
      }
    }
  })

  it('libdeflate (deflate) and ISA-L (deflate-4k) read each other', () => {
    const deflate = new native.Codec('deflate', 1)
    const back = new Uint8Array(PAGE_SIZE)
    for (let i = 0; i < 16; i++) {
      const page = pages.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE)
      const { status, out } = compressOne('deflate-4k', page)
      if (status <= 0) continue
      expect(deflate.decompress(out, 0, status, back, 0)).toBe(PAGE_SIZE)
      expect(Buffer.compare(back, page)).toBe(0)
    }
  })
})

describe('native argument checks', () => {
  it('throws RangeError instead of writing out of bounds', () => {
    const codec = new native.Codec('lz4', 1)
    const src = new Uint8Array(PAGE_SIZE * 2)
    const dst = new Uint8Array(PAGE_SIZE)
    const status = new Int32Array(2)
    expect(() => codec.compressBatch(src, 0, 2, dst, 0, status, 0, 4095, true)).toThrow(RangeError)
    expect(() => codec.decompress(src, PAGE_SIZE * 2 - 10, 100, dst, 0)).toThrow(RangeError)
    expect(() => codec.decompress(src, 0, 100, dst, 1)).toThrow(RangeError)
  })

  it('refuses an unknown codec', () => {
    expect(() => new native.Codec('brotli', 1)).toThrow(/unknown codec/)
  })
})
