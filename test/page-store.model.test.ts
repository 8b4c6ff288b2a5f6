/**
 * Model-based test: random sequences of storeFolio / load / invalidate /
 * overwrite / compact against a reference Map, including injected failures of
 * one page inside a folio, which must leave no entry for any key of the folio.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { PAGE_SIZE, TEST_HOOKS, StoreRejectedError } from 'zstash/internals'
import { makePage, type PageKind } from './helpers/pages.js'
import { openFaultyStore } from './helpers/faulty-backend.js'

const KEY_SPACE = 96
const kindArb = fc.constantFrom<PageKind>('text', 'zero', 'fill', 'random', 'usemem')

type Op =
  | { t: 'store'; key: number; kinds: PageKind[]; seed: number; failAt: number; failHow: 'compress' | 'alloc' }
  | { t: 'load'; key: number; exclusive: boolean }
  | { t: 'invalidate'; key: number }
  | { t: 'compact' }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({
    t: fc.constant('store' as const),
    key: fc.nat(KEY_SPACE - 1),
    kinds: fc.array(kindArb, { minLength: 1, maxLength: 20 }),
    seed: fc.nat(1 << 20),
    // Most stores succeed; about one in five fails at some page.
    failAt: fc.oneof({ weight: 4, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.nat(19) }),
    failHow: fc.constantFrom('compress' as const, 'alloc' as const),
  }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('load' as const), key: fc.nat(KEY_SPACE + 20), exclusive: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('invalidate' as const), key: fc.nat(KEY_SPACE + 20) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('compact' as const) }) },
)

async function runModel(compressor: string, ops: Op[]) {
  const { store, faults } = await openFaultyStore({ compressor, maxBatch: 3, workers: 0 })
  const model = new Map<number, Uint8Array>()
  try {
    for (const op of ops) {
      if (op.t === 'store') {
        const n = op.kinds.length
        const folio = new Uint8Array(n * PAGE_SIZE)
        op.kinds.forEach((k, i) => makePage(k, op.seed + i, folio, i * PAGE_SIZE))
        const failAt = op.failAt >= 0 && op.failAt < n ? op.failAt : -1
        store[TEST_HOOKS] = failAt >= 0 && op.failHow === 'alloc' ? { failAlloc: (key) => key === op.key + failAt } : undefined
        faults.next = failAt >= 0 && op.failHow === 'compress' ? { failPage: failAt } : {}
        const result = await store.storeFolio(op.key, folio).then(() => 'ok', (e) => e)
        if (failAt < 0 || (op.failHow === 'alloc' && op.kinds[failAt] === 'zero') || (op.failHow === 'alloc' && op.kinds[failAt] === 'fill')) {
          // Same-filled pages allocate nothing, so an alloc fault on one cannot fire.
          expect(result).toBe('ok')
          for (let i = 0; i < n; i++) model.set(op.key + i, folio.slice(i * PAGE_SIZE, (i + 1) * PAGE_SIZE))
        } else {
          expect(result).toBeInstanceOf(StoreRejectedError)
          for (let i = 0; i < n; i++) model.delete(op.key + i)
        }
      } else if (op.t === 'load') {
        const got = await store.load(op.key, { exclusive: op.exclusive })
        const want = model.get(op.key)
        if (want === undefined) expect(got).toBeUndefined()
        else expect(Buffer.compare(got!, want)).toBe(0)
        if (op.exclusive) model.delete(op.key)
      } else if (op.t === 'invalidate') {
        expect(store.invalidate(op.key)).toBe(model.delete(op.key))
      } else {
        store.compact()
      }
      expect(store.size).toBe(model.size)
    }
    // Every key agrees at the end, and the pool holds exactly what the entries name.
    for (let k = 0; k < KEY_SPACE + 20; k++) {
      const got = store.loadSync(k)
      const want = model.get(k)
      if (want === undefined) expect(got).toBeUndefined()
      else expect(Buffer.compare(got!, want)).toBe(0)
    }
    const s = store.stats()
    expect(s.stored_pages).toBe(model.size)
    expect(s.pool.objects).toBe(model.size - s.same_filled_pages)
  } finally {
    await store.close()
  }
}

describe('PageStore against a reference Map', () => {
  it('agrees under random operation sequences (lz4)', async () => {
    await fc.assert(fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), (ops) => runModel('lz4', ops)), { numRuns: 1000 })
  }, 300_000)

  it('agrees under random operation sequences (zstd, deflate-4k)', async () => {
    for (const c of ['zstd', 'deflate-4k']) {
      await fc.assert(fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 30 }), (ops) => runModel(c, ops)), { numRuns: 150 })
    }
  })
})
