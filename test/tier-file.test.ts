/**
 * The file backing store: real compressed pages round trip through it (sealed
 * and not), batches are packed and read back in one read, space is reused and
 * the file stays within 1.2× the live bytes after churn, tampered / swapped /
 * stale / foreign records fail loudly, and close settles everything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { mkdtempSync, openSync, readSync, writeSync, closeSync, statSync, readdirSync, existsSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { tier, BackingStoreError, ClosedError, InvalidArgumentError, PAGE_SIZE, loadNative } from 'zstash/internals'
import { compressedCorpus, putBatchOf, getBatchOf, slot, type CompressedPages } from './helpers/tier.js'

const { GetStatus } = tier
let corpus: CompressedPages
let dir: string

beforeAll(() => {
  corpus = compressedCorpus(2048)
  dir = mkdtempSync(path.join(os.tmpdir(), 'zstash-tier-test-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let fileSeq = 0
const freshPath = () => path.join(dir, `store-${process.pid}-${fileSeq++}.swap`)
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i)

async function putAll(store: tier.BackingStore, indexes: number[], batch = 64, keyOf?: (i: number) => number) {
  const locators = new Uint32Array(indexes.length)
  for (let s = 0; s < indexes.length; s += batch) {
    locators.set(await store.putMany(putBatchOf(corpus, indexes.slice(s, s + batch), keyOf)), s)
  }
  return locators
}

function expectObjects(result: tier.GetResult, into: Uint8Array, indexes: number[]) {
  indexes.forEach((i, k) => {
    expect(result.status[k], `object ${k} (page ${i})`).toBe(corpus.lengths[i])
    expect(Buffer.compare(slot(into, k, corpus.lengths[i]), corpus.object(i))).toBe(0)
    expect(result.tags[k]).toBe((i ^ 0x5a5a) >>> 0)
    expect(result.checksums[k]).toBe(~i >>> 0)
  })
}

function readAt(file: string, offset: number, length: number): Buffer {
  const fd = openSync(file, 'r')
  try {
    const b = Buffer.alloc(length)
    readSync(fd, b, 0, length, offset)
    return b
  } finally { closeSync(fd) }
}

function writeAt(file: string, offset: number, bytes: Uint8Array) {
  const fd = openSync(file, 'r+')
  try { writeSync(fd, bytes, 0, bytes.length, offset) } finally { closeSync(fd) }
}

describe.each(['none', 'aes-256-gcm', 'chacha20-poly1305'] as const)('file store, encryption %s', (encryption) => {
  it('round-trips 2048 real compressed pages from shared arenas, a batch read back with one read', async () => {
    const store = await tier.openBackingStore({ type: 'file', encryption, dir })
    try {
      const all = range(0, corpus.count)
      const locators = await putAll(store, all, 128)
      expect(new Set(locators).size).toBe(all.length)
      expect(locators.includes(tier.NO_LOCATOR)).toBe(false)
      // One writeback batch as a readahead: its records are contiguous, so one pread.
      const before = store.stats().get_reads
      const g = getBatchOf(locators.subarray(128, 256), all.slice(128, 256).map((i) => 100_000 + i))
      const r = await store.getMany(g)
      expect(r.failures).toBe(0)
      expect(store.stats().get_reads - before).toBe(1)
      expectObjects(r, g.into, all.slice(128, 256))
      // Everything, in a scrambled order, in batches of the maximum size.
      const order = [...all].sort((a, b) => ((a * 7919) % 2048) - ((b * 7919) % 2048))
      for (let s = 0; s < order.length; s += 1024) {
        const part = order.slice(s, s + 1024)
        const gb = getBatchOf(part.map((i) => locators[i]), part.map((i) => 100_000 + i))
        expectObjects(await store.getMany(gb), gb.into, part)
      }
      const st = store.stats()
      expect(st.objects).toBe(all.length)
      expect(st.sealing).toBe(encryption)
      const payload = all.reduce((s, i) => s + corpus.lengths[i], 0)
      expect(st.payload_bytes).toBe(payload)
      expect(st.record_bytes).toBe(payload + all.length * tier.RECORD_OVERHEAD[encryption])
      // Packed: no slot per object; the file is within a segment of the records.
      expect(st.backing_bytes).toBeLessThanOrEqual(st.record_bytes + st.file!.segment_bytes)
    } finally {
      await store.close()
    }
  })

  it('fails tampered, swapped, stale and foreign records loudly, never with their bytes', async () => {
    const pathA = freshPath()
    const pathB = freshPath()
    const a = await tier.openBackingStore({ type: 'file', encryption, path: pathA }) as tier.FileStore
    const b = await tier.openBackingStore({ type: 'file', encryption, path: pathB }) as tier.FileStore
    try {
      // Pages with equal object lengths, so records can be swapped in place.
      const byLength = new Map<number, number[]>()
      for (let i = 0; i < corpus.count; i++) byLength.set(corpus.lengths[i], [...(byLength.get(corpus.lengths[i]) ?? []), i])
      const same = [...byLength.values()].find((l) => l.length >= 4)!
      const [p0, p1, p2, p3] = same
      const la = await a.putMany(putBatchOf(corpus, [p0, p1, p2]))
      const lb = await b.putMany(putBatchOf(corpus, [p3]))
      const where = (s: tier.FileStore, loc: number) => s.placeOf(loc)!
      const check = async (store: tier.BackingStore, loc: number, page: number, want: number) => {
        const g = getBatchOf([loc], [100_000 + page])
        const r = await store.getMany(g)
        expect(r.status[0]).toBe(want)
        if (want < 0) {
          // Nothing of the object's plaintext reaches the caller.
          expect(slot(g.into, 0, corpus.lengths[page]).every((x) => x === 0xee || x === 0)).toBe(true)
        }
      }
      await check(a, la[0], p0, corpus.lengths[p0])

      // Tampered: one flipped bit in the middle of the record.
      const w0 = where(a, la[0])
      const rec0 = readAt(pathA, w0.offset, w0.length)
      const flipped = Buffer.from(rec0)
      flipped[rec0.length >> 1] ^= 0x10
      writeAt(pathA, w0.offset, flipped)
      await check(a, la[0], p0, GetStatus.CORRUPT)
      writeAt(pathA, w0.offset, rec0)
      await check(a, la[0], p0, corpus.lengths[p0])

      // Swapped: page p1's record where page p0's was.
      const w1 = where(a, la[1])
      const rec1 = readAt(pathA, w1.offset, w1.length)
      writeAt(pathA, w0.offset, rec1)
      await check(a, la[0], p0, GetStatus.CORRUPT)
      writeAt(pathA, w0.offset, rec0)

      // Stale: page p2 deleted, its locator reused for a new object of the same key and
      // length; replaying the old record at the new place must fail.
      const w2 = where(a, la[2])
      const old2 = readAt(pathA, w2.offset, w2.length)
      expect(a.deleteMany(la.subarray(2, 3))).toBe(1)
      const [reused] = await a.putMany(putBatchOf(corpus, [p2]))
      expect(reused).toBe(la[2]) // the freed locator is handed out again
      const wr = where(a, reused)
      await check(a, reused, p2, corpus.lengths[p2])
      writeAt(pathA, wr.offset, old2)
      await check(a, reused, p2, GetStatus.CORRUPT)

      // Foreign: store B's record copied into store A's file.
      const wb = where(b, lb[0])
      writeAt(pathA, w1.offset, readAt(pathB, wb.offset, wb.length))
      await check(a, la[1], p1, GetStatus.CORRUPT)
      // And B cannot read A's objects by locator: its own table does not hold them.
      await check(b, la[0], p0, la[0] === lb[0] ? GetStatus.WRONG_KEY : GetStatus.MISSING)

      const st = a.stats()
      expect(st.failures.corrupt).toBe(4)
    } finally {
      await a.close()
      await b.close()
    }
    expect(existsSync(pathA)).toBe(false)
    expect(existsSync(pathB)).toBe(false)
  })
})

describe('file store', () => {
  it('reads every source byte during the putMany call: the pool slots may be reused at once', async () => {
    const store = await tier.openBackingStore({ type: 'file', dir })
    try {
      const arena = new Uint8Array(new SharedArrayBuffer(8192))
      arena.set(corpus.object(5), 0)
      const batch = { count: 1, keys: Uint32Array.of(9), tags: Uint32Array.of(1), checksums: Uint32Array.of(2), sources: [arena], offsets: Uint32Array.of(0), lengths: Uint32Array.of(corpus.lengths[5]) }
      const pending = store.putMany(batch)
      arena.fill(0x77) // the pool reuses the slot before the write completes
      const [loc] = await pending
      const g = getBatchOf([loc], [9])
      const r = await store.getMany(g)
      expect(r.status[0]).toBe(corpus.lengths[5])
      expect(Buffer.compare(slot(g.into, 0, corpus.lengths[5]), corpus.object(5))).toBe(0)
    } finally {
      await store.close()
    }
  })

  it('gives per-object statuses for missing, deleted and wrong-key locators, and too small a destination', async () => {
    const store = await tier.openBackingStore({ type: 'file', dir, encryption: 'aes-256-gcm' })
    try {
      const locs = await store.putMany(putBatchOf(corpus, [0, 1, 2]))
      expect(store.deleteMany(locs.subarray(1, 2))).toBe(1)
      expect(store.deleteMany(locs.subarray(1, 2))).toBe(0) // idempotent
      // Guarded delete: a key that does not match frees nothing.
      expect(store.deleteMany(locs.subarray(2, 3), 1, Uint32Array.of(5))).toBe(0)
      const g = getBatchOf([locs[0], locs[1], locs[2], 0, 999_999, locs[0]], [100_000, 100_001, 100_002, 1, 1, 7])
      g.capacities = Uint32Array.of(PAGE_SIZE, PAGE_SIZE, 16, PAGE_SIZE, PAGE_SIZE, PAGE_SIZE)
      const r = await store.getMany(g)
      expect([...r.status]).toEqual([corpus.lengths[0], GetStatus.MISSING, GetStatus.TOO_LARGE, GetStatus.MISSING, GetStatus.MISSING, GetStatus.WRONG_KEY])
      expect(r.failures).toBe(5)
      expect(tier.statusReason(GetStatus.TOO_LARGE)).toBe('corrupt')
      const f = store.stats().failures
      expect(f.missing).toBe(4)
      expect(f.corrupt).toBe(1)
    } finally {
      await store.close()
    }
  })

  it('packs objects, reuses freed space, and keeps the file within 1.2x the live bytes after churn', async () => {
    const file = freshPath()
    const store = await tier.openBackingStore({ type: 'file', path: file, segmentBytes: 128 * 1024, encryption: 'aes-256-gcm' }) as tier.FileStore
    try {
      // 4 copies of the corpus under distinct keys: ~11 MB of live objects.
      const copies = 4
      const keyOf = (j: number) => 200_000 + j
      const pageOf = (j: number) => j % corpus.count
      const live = new Map<number, number>() // object id j -> locator
      let nextId = 0
      const put = async (ids: number[]) => {
        for (let s = 0; s < ids.length; s += 64) {
          const part = ids.slice(s, s + 64)
          const b = putBatchOf(corpus, part.map(pageOf))
          part.forEach((j, k) => { b.keys[k] = keyOf(j) })
          const locs = await store.putMany(b)
          part.forEach((j, k) => live.set(j, locs[k]))
        }
      }
      await put(range(0, copies * corpus.count).map(() => nextId++))
      const onDisk = () => statSync(file).size
      const livePayload = () => [...live.keys()].reduce((s, j) => s + corpus.lengths[pageOf(j)], 0)
      expect(onDisk()).toBeLessThanOrEqual(1.05 * livePayload())
      let rng = 12345
      const rand = (n: number) => { rng = (rng * 1103515245 + 12345) & 0x7fffffff; return rng % n }
      // Churn: 6 rounds of deleting a random half and writing as many new objects.
      for (let round = 0; round < 6; round++) {
        const ids = [...live.keys()]
        const victims = ids.filter(() => rand(2) === 0)
        const locs = Uint32Array.from(victims.map((j) => live.get(j)!))
        expect(store.deleteMany(locs, locs.length, Uint32Array.from(victims.map(keyOf)))).toBe(victims.length)
        victims.forEach((j) => live.delete(j))
        await store.flush()
        await put(victims.map(() => nextId++))
        await store.flush()
        expect(onDisk(), `round ${round}`).toBeLessThanOrEqual(1.2 * livePayload())
      }
      // Shrink the live set to a quarter: compaction moves the tail down and truncates.
      const ids = [...live.keys()]
      const drop = ids.filter((_, k) => k % 4 !== 0)
      store.deleteMany(Uint32Array.from(drop.map((j) => live.get(j)!)))
      drop.forEach((j) => live.delete(j))
      await store.flush()
      await store.compact()
      const st = store.stats()
      expect(onDisk()).toBeLessThanOrEqual(1.2 * livePayload())
      expect(st.backing_bytes).toBe(onDisk())
      expect(statSync(file).blocks * 512).toBeLessThanOrEqual(1.25 * livePayload())
      expect(st.file!.compactions).toBeGreaterThan(0)
      expect(st.file!.relocated_objects).toBeGreaterThan(0)
      // Every live object (moved or not) still reads back under its locator.
      const all = [...live.entries()]
      for (let s = 0; s < all.length; s += 512) {
        const part = all.slice(s, s + 512)
        const g = getBatchOf(part.map(([, l]) => l), part.map(([j]) => keyOf(j)))
        const r = await store.getMany(g)
        expect(r.failures).toBe(0)
        part.forEach(([j], k) => expect(Buffer.compare(slot(g.into, k, r.status[k]), corpus.object(pageOf(j)))).toBe(0))
      }
    } finally {
      await store.close()
    }
  })

  it('serves reads while compaction moves their records', async () => {
    const store = await tier.openBackingStore({ type: 'file', dir, segmentBytes: 128 * 1024 }) as tier.FileStore
    try {
      const all = range(0, corpus.count)
      const locs = await putAll(store, all, 32)
      const keep = all.filter((i) => i % 3 === 0)
      store.deleteMany(Uint32Array.from(all.filter((i) => i % 3 !== 0).map((i) => locs[i])))
      // Compaction started by the deletes runs while these reads are issued.
      const reads = []
      for (let s = 0; s < keep.length; s += 16) {
        const part = keep.slice(s, s + 16)
        const g = getBatchOf(part.map((i) => locs[i]), part.map((i) => 100_000 + i))
        reads.push(store.getMany(g).then((r) => expectObjects(r, g.into, part)))
      }
      // And while it runs, read again after every completed read.
      let rounds = 0
      while (rounds++ < 200) {
        const part = keep.slice((rounds * 16) % keep.length, (rounds * 16) % keep.length + 16)
        const g = getBatchOf(part.map((i) => locs[i]), part.map((i) => 100_000 + i))
        expectObjects(await store.getMany(g), g.into, part)
        if (store.stats().file!.compactions > 3 && rounds > 20) break
      }
      await Promise.all(reads)
      await store.flush()
      expect(store.stats().file!.relocated_objects).toBeGreaterThan(0)
      // Every record moved reads back from its new place.
      for (let s = 0; s < keep.length; s += 256) {
        const part = keep.slice(s, s + 256)
        const g = getBatchOf(part.map((i) => locs[i]), part.map((i) => 100_000 + i))
        expectObjects(await store.getMany(g), g.into, part)
      }
    } finally {
      await store.close()
    }
  })

  it('rejects a batch that would pass maxBytes as a whole, leaving no object and no locator behind', async () => {
    const store = await tier.openBackingStore({ type: 'file', dir, segmentBytes: 128 * 1024, maxBytes: 256 * 1024 })
    try {
      const first = await putAll(store, range(0, 120), 60)
      const before = store.stats()
      const err = await store.putMany(putBatchOf(corpus, range(120, 400))).catch((e) => e)
      expect(err).toBeInstanceOf(BackingStoreError)
      expect(err.code).toBe('ERR_ZSTASH_BACKING_STORE')
      expect(err.reason).toBe('full')
      const after = store.stats()
      expect(after.objects).toBe(before.objects)
      expect(after.put_failures).toBe(1)
      expect(after.failures.full).toBe(280) // objects
      // Deleting makes room again: the dead space of the failed batch is reclaimed.
      store.deleteMany(first)
      await store.flush()
      const again = await putAll(store, range(120, 220), 50)
      const g = getBatchOf(again, range(120, 220).map((i) => 100_000 + i))
      expectObjects(await store.getMany(g), g.into, range(120, 220))
    } finally {
      await store.close()
    }
  })

  it('keeps the default temp file out of sight and removes an explicit path at close', async () => {
    const sub = mkdtempSync(path.join(dir, 'tmp-'))
    const t = await tier.openBackingStore({ type: 'file', dir: sub })
    expect(readdirSync(sub)).toEqual([]) // unlinked at open: gone even if the process dies
    await t.putMany(putBatchOf(corpus, [1, 2, 3]))
    expect(t.stats().file!.path).toContain('unlinked')
    await t.close()
    const file = freshPath()
    const s = await tier.openBackingStore({ type: 'file', path: file })
    expect(statSync(file).mode & 0o777).toBe(0o600)
    // An existing file is never overwritten.
    const err = await tier.openBackingStore({ type: 'file', path: file }).catch((e) => e)
    expect(err).toBeInstanceOf(BackingStoreError)
    expect(err.reason).toBe('io')
    await s.close()
    expect(existsSync(file)).toBe(false)
  })

  it('settles calls in flight at close and throws ClosedError after it', async () => {
    const store = await tier.openBackingStore({ type: 'file', dir, encryption: 'aes-256-gcm' })
    const locs = await putAll(store, range(0, 256), 64)
    const inflight = [
      store.putMany(putBatchOf(corpus, range(300, 556))),
      store.getMany(getBatchOf(locs, range(0, 256).map((i) => 100_000 + i))),
      store.putMany(putBatchOf(corpus, range(600, 700))),
    ]
    const closing = store.close()
    const settled = await Promise.allSettled(inflight)
    await closing
    for (const s of settled) {
      if (s.status === 'rejected') expect(s.reason).toBeInstanceOf(ClosedError)
    }
    expect(store.closed).toBe(true)
    await expect(store.putMany(putBatchOf(corpus, [1]))).rejects.toBeInstanceOf(ClosedError)
    await expect(store.getMany(getBatchOf([locs[0]], [100_000]))).rejects.toBeInstanceOf(ClosedError)
    expect(() => store.deleteMany(locs)).toThrow(ClosedError)
    await expect(store.flush()).rejects.toBeInstanceOf(ClosedError)
    await store.close() // idempotent
  })

  it('validates options and batches with precise errors', async () => {
    const bad: [unknown, string][] = [
      [undefined, "option 'backing' must be an object"],
      [{ type: 'tape' }, "option 'backing.type' must be 'file' or 'cluster'"],
      [{ type: 'file', color: 1 }, "unknown option 'backing.color'"],
      [{ type: 'file', segmentBytes: 1000 }, "option 'backing.segmentBytes' must be in"],
      [{ type: 'file', segmentBytes: 200_000.5 }, 'must be an integer'],
      [{ type: 'file', segmentBytes: 130 * 1024 }, 'multiple of 4096'],
      [{ type: 'file', encryption: 'rot13' }, "option 'backing.encryption' must be one of"],
      [{ type: 'file', compactRatio: 1 }, "option 'backing.compactRatio' must be in"],
      [{ type: 'file', path: 'x', dir: 'y' }, 'exclude each other'],
      [{ type: 'file', path: '' }, "option 'backing.path' must be a non-empty string"],
      [{ type: 'cluster' }, "option 'backing.nodes' must be a non-empty array"],
      [{ type: 'cluster', nodes: ['localhost'] }, "option 'backing.nodes[0]' must be 'host:port'"],
      [{ type: 'cluster', nodes: ['a:1'], prefix: 'a{b}' }, 'no braces'],
      [{ type: 'cluster', nodes: ['a:1'], username: 'u' }, "needs 'backing.password'"],
      [{ type: 'cluster', nodes: ['a:1'], tls: 'yes' }, "option 'backing.tls' must be a boolean"],
      [{ type: 'cluster', nodes: ['a:1'], commandTimeoutMs: 0 }, "option 'backing.commandTimeoutMs' must be in"],
    ]
    for (const [options, message] of bad) {
      const err = await tier.openBackingStore(options as tier.BackingOptions).catch((e) => e)
      expect(err, JSON.stringify(options)).toBeInstanceOf(InvalidArgumentError)
      expect(err.message).toContain(message)
    }
    expect(tier.resolveBackingOptions({ type: 'cluster', nodes: ['[::1]:7000', '127.0.0.1:7001'] })).toMatchObject({
      nodes: [{ host: '::1', port: 7000 }, { host: '127.0.0.1', port: 7001 }], encryption: 'aes-256-gcm', prefix: 'zstash',
    })
    expect(tier.resolveBackingOptions({ type: 'file' })).toMatchObject({ encryption: 'none', segmentBytes: tier.DEFAULT_SEGMENT_BYTES })

    const store = await tier.openBackingStore({ type: 'file', dir })
    try {
      const good = putBatchOf(corpus, [0, 1])
      const cases: [tier.PutBatch, string][] = [
        [{ ...good, count: -1 }, 'count must be an integer'],
        [{ ...good, count: 5000 }, 'count must be an integer'],
        [{ ...good, keys: new Uint32Array(1) }, 'keys must be a Uint32Array of at least 2'],
        [{ ...good, lengths: Uint32Array.of(0, 1) }, 'lengths[0] must be in 1..65536'],
        [{ ...good, offsets: Uint32Array.of(0, (1 << 20) - 2) }, 'outside source'],
        [{ ...good, sourceIndex: Uint32Array.of(0, 999) }, 'sources[999] (object 1) must be a Uint8Array'],
        [{ ...good, sources: [] }, 'sources must be a non-empty array'],
      ]
      for (const [b, message] of cases) {
        const err = await store.putMany(b).catch((e) => e)
        expect(err, message).toBeInstanceOf(InvalidArgumentError)
        expect(err.message).toContain(message)
      }
      expect(store.stats().objects).toBe(0)
      const g = getBatchOf([1], [1])
      await expect(store.getMany({ ...g, offsets: Uint32Array.of(10) })).rejects.toThrow(/outside into/)
      await expect(store.getMany({ ...g, locators: new Uint32Array(0) })).rejects.toThrow(/locators must be a Uint32Array/)
      expect(() => store.deleteMany(new Uint32Array(2), 3)).toThrow(/count must be an integer in 0..2/)
      expect(() => store.deleteMany([1] as unknown as Uint32Array)).toThrow(InvalidArgumentError)
    } finally {
      await store.close()
    }
  })

  it('native sealer checks its arguments instead of touching memory out of range', () => {
    const s = new tier.Sealer('aes-256-gcm')
    const src = new Uint8Array(100)
    const out = new Uint8Array(50)
    const one = Uint32Array.of(0)
    expect(() => s.native.sealMany(1, [src], null, one, Uint32Array.of(100), one, one, one, one, out, one, new Float64Array(1))).toThrow(RangeError)
    expect(() => s.native.sealMany(1, [src], null, Uint32Array.of(90), Uint32Array.of(20), one, one, one, one, new Uint8Array(200), one, new Float64Array(1))).toThrow(RangeError)
    expect(() => s.native.sealMany(2, [src], null, one, one, one, one, one, one, out, one, new Float64Array(2))).toThrow(RangeError)
    expect(() => s.native.openMany(1, [src], null, one, Uint32Array.of(100), one, one, Float64Array.of(1), out, one, null, 4096, one, one, new Int32Array(1))).toThrow(RangeError)
    // A record that is too short or carries no valid sequence number is CORRUPT, not a crash.
    const st = new Int32Array(2)
    s.native.openMany(2, [src], null, Uint32Array.of(0, 0), Uint32Array.of(10, 40), Uint32Array.of(0, 0), Uint32Array.of(0, 0), Float64Array.of(1, 0.5), new Uint8Array(8192), Uint32Array.of(0, 4096), null, 4096, new Uint32Array(2), new Uint32Array(2), st)
    expect([...st]).toEqual([GetStatus.CORRUPT, GetStatus.CORRUPT])
    s.destroy()
    expect(() => s.native.sealMany(0, [src], null, one, one, one, one, one, one, out, one, new Float64Array(1))).toThrow(/destroyed/)
    expect(() => new (loadNative().ObjectSealer as new (m: string, n: Uint8Array) => unknown)('aes-128-ecb', new Uint8Array(16))).toThrow(/unknown sealing mode/)
    expect(() => new (loadNative().ObjectSealer as new (m: string, n: Uint8Array) => unknown)('none', new Uint8Array(3))).toThrow(RangeError)
  })

  it('never reuses a sequence number (nonce) across batches, failed ones included', () => {
    const s = new tier.Sealer('aes-256-gcm')
    const src = new Uint8Array(64)
    const n = 4
    const z = new Uint32Array(n)
    const seqs = new Float64Array(n)
    const seen = new Set<number>()
    for (let round = 0; round < 3; round++) {
      s.native.sealMany(n, [src], null, z, Uint32Array.from({ length: n }, () => 10), z, z, z, z, new Uint8Array(n * 64), Uint32Array.from({ length: n }, (_, i) => i * 64), seqs)
      for (const q of seqs) { expect(seen.has(q)).toBe(false); seen.add(q) }
    }
    expect(s.native.nextSeq()).toBe(13)
    s.destroy()
  })
})

describe('file store model', () => {
  type Op =
    | { t: 'put'; pages: number[] }
    | { t: 'get'; picks: number[] }
    | { t: 'delete'; picks: number[] }
    | { t: 'compact' }
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    // Sizes drawn uniformly (fast-check's arrays favour a handful of elements): enough objects
    // to fill dozens of segments, so compaction really moves records.
    { weight: 4, arbitrary: fc.tuple(fc.integer({ min: 1, max: 300 }), fc.nat(2047)).map(([n, at]) => ({ t: 'put' as const, pages: range(0, n).map((k) => (at + k * 13) % 2048) })) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('get' as const), picks: fc.array(fc.nat(), { minLength: 1, maxLength: 40 }) }) },
    { weight: 3, arbitrary: fc.tuple(fc.integer({ min: 1, max: 400 }), fc.nat(), fc.integer({ min: 1, max: 7 })).map(([n, at, step]) => ({ t: 'delete' as const, picks: range(0, n).map((k) => at + k * step) })) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('compact' as const) }) },
  )

  it('matches a Map under random put / get / delete / compact sequences', async () => {
    await fc.assert(fc.asyncProperty(fc.array(opArb, { minLength: 10, maxLength: 40 }), fc.constantFrom('none' as const, 'aes-256-gcm' as const), async (ops, encryption) => {
      const store = await tier.openBackingStore({ type: 'file', dir, encryption, segmentBytes: 128 * 1024, compactRatio: 1.05 }) as tier.FileStore
      // model: locator -> { key, page }; every key is unique per put.
      const model = new Map<number, { key: number; page: number }>()
      const history: number[] = [] // every locator ever handed out (deleted ones too)
      let nextKey = 1
      try {
        for (const op of ops) {
          if (op.t === 'put') {
            const keys = op.pages.map(() => nextKey++)
            const b = putBatchOf(corpus, op.pages)
            keys.forEach((k, i) => { b.keys[i] = k })
            const locs = await store.putMany(b)
            locs.forEach((l, i) => {
              expect(model.has(l)).toBe(false)
              model.set(l, { key: keys[i], page: op.pages[i] })
              history.push(l)
            })
          } else if (op.t === 'get') {
            if (history.length === 0) continue
            const locs = op.picks.map((p) => history[p % history.length])
            const keys = locs.map((l) => model.get(l)?.key ?? 0)
            const g = getBatchOf(locs, keys)
            const r = await store.getMany(g)
            locs.forEach((l, k) => {
              const m = model.get(l)
              if (!m) {
                expect(r.status[k]).toBe(GetStatus.MISSING)
              } else {
                expect(r.status[k]).toBe(corpus.lengths[m.page])
                expect(Buffer.compare(slot(g.into, k, corpus.lengths[m.page]), corpus.object(m.page))).toBe(0)
                expect(r.tags[k]).toBe((m.page ^ 0x5a5a) >>> 0)
              }
            })
          } else if (op.t === 'delete') {
            if (history.length === 0) continue
            const locs = [...new Set(op.picks.map((p) => history[p % history.length]))]
            const expected = locs.filter((l) => model.has(l)).length
            expect(store.deleteMany(Uint32Array.from(locs))).toBe(expected)
            locs.forEach((l) => model.delete(l))
          } else {
            await store.compact()
            const st = store.stats()
            // compactRatio 1.05: compaction reaches 1.025x the live records plus the open segment.
            expect(st.backing_bytes, JSON.stringify(st.file)).toBeLessThanOrEqual(1.05 * st.record_bytes + st.file!.segment_bytes)
          }
          const st = store.stats()
          expect(st.objects).toBe(model.size)
          expect(st.payload_bytes).toBe([...model.values()].reduce((s, m) => s + corpus.lengths[m.page], 0))
        }
        // Finally everything live reads back.
        const live = [...model.entries()]
        if (live.length > 0) {
          await store.flush()
          const g = getBatchOf(live.map(([l]) => l), live.map(([, m]) => m.key))
          const r = await store.getMany(g)
          expect(r.failures).toBe(0)
        }
      } finally {
        await store.close()
      }
    }), { numRuns: Number(process.env.ZSTASH_MODEL_RUNS ?? 30), endOnFailure: true })
  })
})
