import { beforeAll, describe, expect, it } from 'vitest'
import { Worker } from 'node:worker_threads'
import { createRequire } from 'node:module'
import fc from 'fast-check'
import {
  loadNative, PAGE_SIZE, PageStatus, DecodeStatus, trainDictionary, samplePages, measureRatio, openDictionaryCodec,
  DictionaryRegistry, DictionaryError, InvalidArgumentError, MAX_DICTIONARY_ID, type NativeCodec,
} from 'zstash/internals'
import { readCorpusPages } from './helpers/corpus.js'

const native = loadNative()
const OK = [PAGE_SIZE, DecodeStatus.Corrupt, DecodeStatus.WrongSize]

// Train on the first half of each fixture (every 8th page of the real corpus), test on the second.
const corpora = {
  node: readCorpusPages('node-2k', 2048),
  py: readCorpusPages('py-2k', 2048),
}
const dicts: Record<string, Uint8Array> = {}

beforeAll(async () => {
  for (const [name, pages] of Object.entries(corpora)) {
    const sample = samplePages(pages.subarray(0, 1024 * PAGE_SIZE), 512)
    dicts[name] = (await trainDictionary(sample.pages, sample.sizes, { capacity: 32 << 10, level: 3, id: 9 })).bytes
  }
}, 60_000)

function page(pages: Uint8Array, i: number): Uint8Array {
  return pages.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE)
}

function compress(codec: NativeCodec, p: Uint8Array, threshold = PAGE_SIZE - 1): { status: number; out: Uint8Array } {
  const out = new Uint8Array(PAGE_SIZE)
  const status = new Int32Array(1)
  codec.compressBatch(p, 0, 1, out, 0, status, 0, threshold, false)
  return { status: status[0], out: out.subarray(0, Math.max(0, status[0])) }
}

function decode(codec: NativeCodec, src: Uint8Array, length = src.length): { r: number; page: Uint8Array } {
  const dst = new Uint8Array(PAGE_SIZE)
  return { r: codec.decompress(src, 0, length, dst, 0), page: dst }
}

const held = (name: 'node' | 'py') => fc.integer({ min: 1024, max: 2047 }).map((i) => page(corpora[name], i))

describe.each([
  ['zstd', 1], ['zstd', 3], ['zstd', 9], ['lz4', 1],
] as const)('dictionary codec %s level %d', (format, level) => {
  it.each(['node', 'py'] as const)('round-trips held-out %s pages through compressBatch/decompress', (name) => {
    const codec = openDictionaryCodec(format, level, dicts[name], 9)
    fc.assert(fc.property(held(name), (p) => {
      const { status, out } = compress(codec, p)
      if (status === PageStatus.Incompressible) return
      expect(status).toBeGreaterThan(1)
      expect(status).toBeLessThanOrEqual(PAGE_SIZE - 1)
      expect(out[0]).toBe(9)
      const { r, page: back } = decode(codec, out)
      expect(r).toBe(PAGE_SIZE)
      expect(Buffer.compare(back, p)).toBe(0)
    }), { numRuns: 200 })
  })

  it('decodes in another instance (another thread would build its own from the same bytes)', () => {
    const a = openDictionaryCodec(format, level, dicts.node, 9)
    const b = openDictionaryCodec(format, level, Uint8Array.from(dicts.node), 9)
    const p = page(corpora.node, 1500)
    const { status, out } = compress(a, p)
    expect(status).toBeGreaterThan(0)
    expect(Buffer.compare(decode(b, out).page, p)).toBe(0)
  })

  it('decodes a batch of objects in arenas with decompressBatch', () => {
    const codec = openDictionaryCodec(format, level, dicts.py, 9)
    const n = 64
    const pages = corpora.py.subarray(1024 * PAGE_SIZE, (1024 + n) * PAGE_SIZE)
    const out = new Uint8Array(n * PAGE_SIZE)
    const status = new Int32Array(n)
    codec.compressBatch(pages, 0, n, out, 0, status, 0, PAGE_SIZE - 1, true)
    const jobs: number[] = []
    for (let i = 0; i < n; i++) if (status[i] > 0) jobs.push(0, i * PAGE_SIZE, status[i], jobs.length / 4)
    const count = jobs.length / 4
    expect(count).toBeGreaterThan(n / 2)
    const dst = new Uint8Array(count * PAGE_SIZE)
    const results = new Int32Array(count)
    codec.decompressBatch([out], Int32Array.from(jobs), count, dst, results)
    for (let j = 0; j < count; j++) {
      expect(results[j]).toBe(PAGE_SIZE)
      const src = jobs[j * 4 + 1] / PAGE_SIZE
      expect(Buffer.compare(dst.subarray(j * PAGE_SIZE, (j + 1) * PAGE_SIZE), page(pages, src))).toBe(0)
    }
  })

  it('fails, never returns other bytes, under the wrong dictionary, another id, or none', () => {
    const right = openDictionaryCodec(format, level, dicts.node, 9)
    const otherDict = openDictionaryCodec(format, level, dicts.py, 10)
    const otherDictSameId = openDictionaryCodec(format, level, dicts.py, 9)
    const plain = new native.Codec(format, level)
    let checked = 0
    for (let i = 1024; i < 1024 + 64; i++) {
      const p = page(corpora.node, i)
      const { status, out } = compress(right, p)
      if (status <= 0) continue
      checked++
      expect(decode(otherDict, out).r).toBe(DecodeStatus.Corrupt)
      // The id is the only check (a checksum would cost 4 bytes a page): another dictionary under the
      // same id is not detected, which is why the registry never reuses an id an object still uses.
      expect(OK).toContain(decode(otherDictSameId, out).r)
      const none = decode(plain, out)
      expect(OK).toContain(none.r)
      if (format === 'zstd') expect(none.r).toBe(DecodeStatus.Corrupt)
      else if (none.r === PAGE_SIZE) expect(Buffer.compare(none.page, p)).not.toBe(0)
    }
    expect(checked).toBeGreaterThan(32)
  })

  it('rejects hostile, truncated and bit-flipped input with an error code, never a crash', () => {
    const codec = openDictionaryCodec(format, level, dicts.node, 9)
    fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 800 }), fc.boolean(), (junk, tagged) => {
      if (tagged && junk.length) junk[0] = 9
      expect(OK).toContain(decode(codec, junk).r)
    }), { numRuns: 300 })
    const p = page(corpora.node, 1100)
    const { status, out } = compress(codec, p)
    expect(status).toBeGreaterThan(0)
    fc.assert(fc.property(fc.nat(status - 1), fc.nat(7), fc.boolean(), (at, bit, truncate) => {
      const bad = Uint8Array.from(out)
      if (!truncate) bad[at] ^= 1 << bit
      const { r } = decode(codec, bad, truncate ? at : status)
      expect(OK).toContain(r)
    }), { numRuns: 300 })
  })

  it('reports a random page as incompressible and honours a small threshold', () => {
    const codec = openDictionaryCodec(format, level, dicts.node, 9)
    const random = new Uint8Array(PAGE_SIZE)
    for (let i = 0; i < PAGE_SIZE; i++) random[i] = (Math.random() * 256) | 0
    expect(compress(codec, random).status).toBe(PageStatus.Incompressible)
    expect(compress(codec, page(corpora.node, 1200), 8).status).toBe(PageStatus.Incompressible)
    expect(compress(codec, page(corpora.node, 1200), 1).status).toBe(PageStatus.Incompressible)
  })
})

describe('a worker thread builds its own codec from shared dictionary bytes', () => {
  it('compresses in a worker, decodes here', async () => {
    const reg = new DictionaryRegistry()
    const entry = reg.add(dicts.py, { format: 'zstd', level: 3, trainedRatio: 2 })
    const n = 64
    const input = new Uint8Array(new SharedArrayBuffer(n * PAGE_SIZE))
    input.set(corpora.py.subarray(1024 * PAGE_SIZE, (1024 + n) * PAGE_SIZE))
    const output = new Uint8Array(new SharedArrayBuffer(n * PAGE_SIZE))
    const status = new Int32Array(new SharedArrayBuffer(n * 4))
    const internals = createRequire(import.meta.url).resolve('zstash/internals')
    const worker = new Worker(`
      const { workerData, parentPort } = require('node:worker_threads')
      import(${JSON.stringify('file://' + internals)}).then(({ loadNative }) => {
        const { dict, id, input, output, status, n } = workerData
        const codec = new (loadNative().Codec)('zstd', 3, { dictionary: new Uint8Array(dict), id })
        codec.compressBatch(new Uint8Array(input), 0, n, new Uint8Array(output), 0, new Int32Array(status), 0, 4095, true)
        parentPort.postMessage('done')
      })`, { eval: true, workerData: { dict: entry.bytes.buffer, id: entry.id, input: input.buffer, output: output.buffer, status: status.buffer, n } })
    await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject) })
    await worker.terminate()
    const here = reg.codec(entry.id)
    let decoded = 0
    for (let i = 0; i < n; i++) {
      if (status[i] <= 0) continue
      expect(output[i * PAGE_SIZE]).toBe(entry.id)
      const { r, page: back } = decode(here, output.subarray(i * PAGE_SIZE, i * PAGE_SIZE + status[i]))
      expect(r).toBe(PAGE_SIZE)
      expect(Buffer.compare(back, page(input, i))).toBe(0)
      decoded++
    }
    expect(decoded).toBeGreaterThan(n / 2)
  }, 30_000)
})

describe('dictionary gains on held-out fixture pages', () => {
  it.each(['node', 'py'] as const)('zstd level 3 with a %s dictionary stores no more than without', (name) => {
    const test = corpora[name].subarray(1024 * PAGE_SIZE)
    const plain = measureRatio(new native.Codec('zstd', 3), test)
    const withDict = measureRatio(openDictionaryCodec('zstd', 3, dicts[name], 9), test)
    expect(withDict.inputBytes).toBe(plain.inputBytes)
    expect(withDict.storedBytes).toBeLessThan(plain.storedBytes)
  })

  it('entropy tables load only at lazy-or-stronger levels (the measured crossover)', () => {
    expect(native.dictionaryUsesTables(3, 65536)).toBe(false)
    expect(native.dictionaryUsesTables(9, 65536)).toBe(true)
  })
})

describe('trainDictionary', () => {
  it('runs off the main thread: timers fire while it trains', async () => {
    const sample = samplePages(corpora.py, 1024)
    let ticks = 0
    const timer = setInterval(() => ticks++, 1)
    const t0 = performance.now()
    const trained = await trainDictionary(sample.pages, sample.sizes, { capacity: 64 << 10, optimize: true, steps: 8 })
    clearInterval(timer)
    const ms = performance.now() - t0
    expect(trained.bytes.length).toBeGreaterThan(1024)
    expect(trained.bytes.length).toBeLessThanOrEqual(64 << 10)
    expect(trained.k).toBeGreaterThan(0)
    // With the loop free, a 1 ms interval fires many times over a training that takes well over 20 ms.
    if (ms > 20) expect(ticks).toBeGreaterThan(3)
  }, 60_000)

  it('writes the id asked for into the header', async () => {
    const t = await trainDictionary(samplePages(corpora.node, 256).pages, undefined, { capacity: 8192, id: 200 })
    expect(t.headerId).toBe(200)
    expect(native.dictionaryId(t.bytes)).toBe(200)
  })

  it('gives typed errors for bad input', async () => {
    const pages = samplePages(corpora.node, 64).pages
    await expect(trainDictionary(pages, undefined, { capacity: 100 })).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(trainDictionary(pages, new Uint32Array([PAGE_SIZE * 65]))).rejects.toMatchObject({ code: 'ERR_ZSTASH_INVALID_ARGUMENT' })
    await expect(trainDictionary(pages, undefined, { id: 256 })).rejects.toMatchObject({ code: 'ERR_ZSTASH_OUT_OF_RANGE' })
    await expect(trainDictionary(pages, undefined, { bogus: 1 } as never)).rejects.toMatchObject({ code: 'ERR_ZSTASH_UNKNOWN_OPTION' })
    await expect(trainDictionary(new Uint8Array(0))).rejects.toBeInstanceOf(InvalidArgumentError)
    // ZDICT itself refuses too little data: a DictionaryError, not a crash.
    const err = await trainDictionary(new Uint8Array(64), new Uint32Array([8, 8, 8]), { capacity: 4096 }).catch((e) => e)
    expect(err).toBeInstanceOf(DictionaryError)
    expect(err.code).toBe('ERR_ZSTASH_DICTIONARY_TRAIN')
  })

  it('native entry points throw JS errors on bad arguments', () => {
    expect(() => native.trainDictionary(new Uint8Array(10), new Int32Array(1) as never, 4096, {})).toThrow(TypeError)
    expect(() => native.trainDictionary(new Uint8Array(10), new Uint32Array([11]), 4096, {})).toThrow(RangeError)
    expect(() => native.trainDictionary(new Uint8Array(10), new Uint32Array([10]), 1e9, {})).toThrow(RangeError)
    expect(() => new native.Codec('zstd', 3, { dictionary: dicts.node })).toThrow(/id/)
    expect(() => new native.Codec('deflate', 3, { dictionary: dicts.node, id: 1 })).toThrow(/no dictionary form/)
    expect(() => new native.Codec('zstd', 3, { dictionary: 'x' as never, id: 1 })).toThrow(/Uint8Array/)
    expect(() => new native.Codec('zstd', 99, { dictionary: dicts.node, id: 1 })).toThrow(/level/)
    // A zstd-format dictionary whose tables are damaged is refused when the codec is made.
    const broken = Uint8Array.from(dicts.node)
    broken.fill(0xff, 8, 200)
    expect(() => openDictionaryCodec('zstd', 9, broken, 1)).toThrow(DictionaryError)
  })
})

describe('samplePages', () => {
  it('spreads the picks and skips same-filled pages', () => {
    const pages = new Uint8Array(100 * PAGE_SIZE)
    for (let p = 0; p < 100; p += 2) for (let i = 0; i < PAGE_SIZE; i++) pages[p * PAGE_SIZE + i] = (i * 31 + p) & 0xff
    const s = samplePages(pages, 10)
    expect(s.indexes.length).toBe(10)
    for (const i of s.indexes) expect(i % 2).toBe(0)
    expect(s.indexes[9] - s.indexes[0]).toBeGreaterThan(60)
    expect(Buffer.compare(s.pages.subarray(0, PAGE_SIZE), page(pages, s.indexes[0]))).toBe(0)
    expect(samplePages(new Uint8Array(4 * PAGE_SIZE), 4).indexes.length).toBe(0)
    // An unaligned view (a Buffer slice) works the same.
    const shifted = new Uint8Array(new ArrayBuffer(pages.length + 3), 3, pages.length)
    shifted.set(pages)
    expect(samplePages(shifted, 10).indexes).toEqual(s.indexes)
    expect(() => samplePages(new Uint8Array(100), 1)).toThrow(InvalidArgumentError)
  })
})

describe('DictionaryRegistry', () => {
  it('keeps a dictionary while any object uses it (model-based)', () => {
    type Op = { op: 'add' } | { op: 'ref' | 'unref'; pick: number; n: number } | { op: 'retire'; pick: number }
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      fc.constant({ op: 'add' as const }),
      fc.record({ op: fc.constantFrom('ref' as const, 'unref' as const), pick: fc.nat(20), n: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ op: fc.constant('retire' as const), pick: fc.nat(20) }),
    )
    fc.assert(fc.property(fc.array(opArb, { maxLength: 80 }), (ops) => {
      const reg = new DictionaryRegistry()
      const dropped: number[] = []
      reg.onDrop = (e) => dropped.push(e.id)
      const model = new Map<number, { refs: number; retired: boolean }>()
      let current = 0
      for (const o of ops) {
        const live = [...model.keys()]
        if (o.op === 'add') {
          const e = reg.add(new Uint8Array([1, 2, 3]), { trainedRatio: 2 })
          expect(model.has(e.id)).toBe(false)
          expect(e.id).toBe([...Array(MAX_DICTIONARY_ID).keys()].map((i) => i + 1).find((i) => !model.has(i)))
          if (current) { model.get(current)!.retired = true; if (model.get(current)!.refs === 0) model.delete(current) }
          model.set(e.id, { refs: 0, retired: false })
          current = e.id
        } else if (live.length) {
          const id = live[o.pick % live.length]
          const m = model.get(id)!
          if (o.op === 'ref') { reg.ref(id, o.n); m.refs += o.n }
          else if (o.op === 'unref') {
            if (o.n > m.refs) { expect(() => reg.unref(id, o.n)).toThrow(DictionaryError); continue }
            reg.unref(id, o.n); m.refs -= o.n
            if (m.retired && m.refs === 0) model.delete(id)
          } else {
            reg.retire(id); m.retired = true
            if (current === id) current = 0
            if (m.refs === 0) model.delete(id)
          }
        }
        expect(reg.size).toBe(model.size)
        for (const [id, m] of model) expect(reg.refCount(id)).toBe(m.refs)
        expect(reg.current?.id ?? 0).toBe(current)
        for (const id of dropped) if (!model.has(id)) expect(reg.get(id)).toBeUndefined()
      }
    }), { numRuns: 200 })
  })

  it('says when the measured ratio drifts from the training ratio', () => {
    const reg = new DictionaryRegistry({ tolerance: 0.1, minPages: 100 })
    const { id } = reg.add(dicts.node, { trainedRatio: 4, level: 3 })
    reg.record(id, 50, 50 * 1024)
    expect(reg.drift(id).drifted).toBe(false) // too few pages to judge
    reg.record(id, 50, 50 * 1024)
    expect(reg.drift(id)).toMatchObject({ measuredRatio: 4, pages: 100, drifted: false })
    reg.record(id, 100, 100 * 2048)
    const d = reg.drift(id)
    expect(d.measuredRatio).toBeCloseTo(200 * 4096 / (100 * 1024 + 100 * 2048))
    expect(d.drifted).toBe(true)
    reg.resetDrift(id)
    expect(reg.drift(id).pages).toBe(0)
  })

  it('drift on real pages: a node dictionary measured on python pages', () => {
    const reg = new DictionaryRegistry({ minPages: 256 })
    const held = corpora.node.subarray(1024 * PAGE_SIZE)
    const trained = measureRatio(openDictionaryCodec('zstd', 3, dicts.node, 1), held)
    const { id } = reg.add(dicts.node, { trainedRatio: trained.ratio, level: 3 })
    const codec = reg.codec(id)
    const onNode = measureRatio(codec, held.subarray(0, 512 * PAGE_SIZE))
    reg.record(id, onNode.inputBytes / PAGE_SIZE, onNode.storedBytes)
    expect(reg.drift(id).drifted).toBe(false)
    reg.resetDrift(id)
    const onPy = measureRatio(codec, corpora.py.subarray(1024 * PAGE_SIZE))
    reg.record(id, onPy.inputBytes / PAGE_SIZE, onPy.storedBytes)
    expect(reg.drift(id).drifted).toBe(true)
  })

  it('shares the bytes for workers, validates, and runs out of ids loudly', () => {
    const reg = new DictionaryRegistry()
    const e = reg.add(dicts.py, { trainedRatio: 2, format: 'zstd', level: 3 })
    expect(e.bytes.buffer).toBeInstanceOf(SharedArrayBuffer)
    expect(() => reg.add(new Uint8Array(0), { trainedRatio: 1 })).toThrow(InvalidArgumentError)
    expect(() => reg.add(dicts.py, { trainedRatio: 1, format: 'lzo' as never })).toThrow(InvalidArgumentError)
    expect(() => reg.ref(77)).toThrow(DictionaryError)
    expect(() => new DictionaryRegistry({ tolerance: 2 })).toThrow(InvalidArgumentError)
    // Keep every dictionary referenced: the 256th add has no id left.
    reg.ref(e.id)
    for (let i = 2; i <= MAX_DICTIONARY_ID; i++) reg.ref(reg.add(new Uint8Array([i]), { trainedRatio: 1 }).id)
    expect(() => reg.add(new Uint8Array([1]), { trainedRatio: 1 })).toThrow(expect.objectContaining({ code: 'ERR_ZSTASH_DICTIONARY_FULL' }))
  })
})
