/**
 * Model test: random read/write sequences against a plain Uint8Array, under a
 * resident limit of 2–3 folios (constant reclaim), with injected store
 * failures (whole folios, single pages, allocations). The cache must always
 * agree with the model: a rejected store never loses data, a refused sync
 * access changes nothing, a write racing its folio's store is kept.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { SwapCache, TEST_HOOKS, ResidentLimitError } from 'zstash/internals'
import { openFaultyStore, type CallFaults } from './helpers/faulty-backend.js'

type Fail = 'none' | 'large' | 'all' | 'random' | 'alloc'
type Op =
  | { t: 'write' | 'writeAsync'; at: number; len: number; seed: number }
  | { t: 'read' | 'readAsync'; at: number; len: number }
  | { t: 'u32'; at: number; value: number }
  | { t: 'reclaim' | 'reclaimRacing' | 'settle' }
  | { t: 'fail'; mode: Fail }

const FOLIO = { '4k': 4096, '64k': 65536 } as const
const FOLIOS = 6

function opArb(size: number): fc.Arbitrary<Op> {
  const range = fc.nat(size - 1).chain((at) => fc.record({ at: fc.constant(at), len: fc.integer({ min: 1, max: Math.min(size - at, 3 * 4096) }) }))
  return fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom('write' as const, 'writeAsync' as const), range, fc.nat(255)).map(([t, r, seed]) => ({ t, ...r, seed })) },
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom('read' as const, 'readAsync' as const), range).map(([t, r]) => ({ t, ...r })) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('u32' as const), at: fc.nat(size - 4), value: fc.nat() }) },
    { weight: 2, arbitrary: fc.constantFrom({ t: 'reclaim' as const }, { t: 'reclaimRacing' as const }, { t: 'settle' as const }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('fail' as const), mode: fc.constantFrom<Fail>('none', 'large', 'all', 'random', 'alloc') }) },
  )
}

function compressFaults(mode: Fail, rnd: () => number): ((n: number) => CallFaults) | undefined {
  switch (mode) {
    case 'large': return (n) => ({ failPage: n > 1 ? n - 1 : -1 })
    case 'all': return () => ({ failPage: 0 })
    case 'random': return (n) => ({ failPage: rnd() < 0.3 ? Math.floor(rnd() * n) : -1 })
    default: return undefined
  }
}

async function runModel(folio: '4k' | '64k', limitFolios: number, ops: Op[], seed: number, workers: number) {
  const fb = FOLIO[folio]
  const size = FOLIOS * fb - 100
  const { store, faults } = await openFaultyStore({ compressor: 'lz4', maxBatch: 3, workers })
  const cache = await SwapCache.create({ store, residentLimit: limitFolios * fb, folioSize: folio, maxInFlight: 2 })
  const region = cache.alloc(size)
  const model = new Uint8Array(size)
  let x = seed >>> 0 || 1
  const rnd = () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) / 2 ** 32 }
  // Pressure is the only acceptable failure; an async call may have completed a prefix (bytesDone), a sync one nothing.
  let done = 0
  const refused = async (fn: () => void | Promise<void>) => {
    done = 0
    try { await fn(); return false } catch (err) { if (err instanceof ResidentLimitError) { done = err.bytesDone; return true } throw err }
  }
  try {
    for (const op of ops.filter((o) => !('at' in o) || o.at + (o.t === 'u32' ? 4 : 1) <= size)) {
      if (op.t === 'write' || op.t === 'writeAsync') {
        const len = Math.min(op.len, size - op.at)
        const src = new Uint8Array(len).map((_, i) => (op.seed + i * 13) & 0xff)
        const no = await refused(() => (op.t === 'write' ? region.write(op.at, src) : region.writeAsync(op.at, src)))
        if (!no) model.set(src, op.at)
        else model.set(src.subarray(0, done), op.at)
      } else if (op.t === 'read' || op.t === 'readAsync') {
        const len = Math.min(op.len, size - op.at)
        const dst = new Uint8Array(len)
        const no = await refused(() => (op.t === 'read' ? region.read(op.at, dst) : region.readAsync(op.at, dst)))
        const upTo = no ? done : len
        expect(Buffer.compare(dst.subarray(0, upTo), model.subarray(op.at, op.at + upTo))).toBe(0)
      } else if (op.t === 'u32') {
        const no = await refused(() => region.setUint32(op.at, op.value))
        if (!no) new DataView(model.buffer).setUint32(op.at, op.value, true)
      } else if (op.t === 'reclaim') {
        await refused(() => cache.reclaim(cache.totalSlots).then(() => {}))
      } else if (op.t === 'reclaimRacing') {
        // Stores start, then a synchronous write lands before they settle.
        const p = cache.reclaim(cache.totalSlots)
        const at = Math.floor(rnd() * (size - 8))
        const no = await refused(() => region.setUint32(at, 0xa5a5a5a5))
        if (!no) new DataView(model.buffer).setUint32(at, 0xa5a5a5a5, true)
        await refused(() => p.then(() => {}))
      } else if (op.t === 'settle') {
        await refused(() => cache.settle())
      } else {
        faults.policy = compressFaults(op.mode, rnd)
        store[TEST_HOOKS] = op.mode === 'alloc' ? { failAlloc: () => rnd() < 0.2 } : undefined
      }
      expect(cache.residentBytes).toBeLessThanOrEqual(cache.residentLimit)
    }
    // Everything agrees at the end, with failures off and everything read back.
    store[TEST_HOOKS] = undefined
    faults.policy = undefined
    const all = new Uint8Array(size)
    await region.readAsync(0, all)
    expect(Buffer.compare(all, model)).toBe(0)
    await cache.close()
    expect(store.size).toBe(0)
  } finally {
    await store.close()
  }
}

describe('SwapCache model', () => {
  const property = (workers: number) => fc.asyncProperty(
    fc.constantFrom<'4k' | '64k'>('4k', '64k'),
    fc.integer({ min: 2, max: 3 }),
    fc.array(opArb(FOLIOS * 65536 - 100), { minLength: 1, maxLength: 60 }),
    fc.nat(),
    (folio, limit, ops, seed) => runModel(folio, limit, ops, seed, workers),
  )

  it('agrees with a plain buffer under constant reclaim and injected store failures (stores on the calling thread)', async () => {
    await fc.assert(property(0), { numRuns: 120 })
  })

  it('agrees with a plain buffer when stores complete asynchronously in the worker pool', async () => {
    await fc.assert(property(2), { numRuns: 20 })
  })
})
