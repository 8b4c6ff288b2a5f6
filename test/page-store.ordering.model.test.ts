/**
 * Model-based test of the ordering rule: for every key, the last *issued*
 * operation wins. Random sequences of storeFolio (some failing), load,
 * loadMany (exclusive or not), invalidate, compact and close are issued on
 * overlapping keys while fast-check's scheduler decides when each store's
 * compression and each readahead's decoding completes, in any order. The
 * model applies operations in issue order:
 *   - a store sets its keys at its call; if it fails, its keys are erased
 *     unless a later call replaced them;
 *   - a load returns the value at its call (a store still in flight counts
 *     as its value; for a store that is going to fail, a load may also see
 *     the key already erased);
 *   - once everything settles, every key holds exactly the model's value, and
 *     the pool holds exactly the objects the entries name.
 * Runs: ZSTASH_MODEL_RUNS (default 1000 in CI); ZSTASH_MODEL_RUNS=10000 for a long run.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { PAGE_SIZE, StoreRejectedError, ClosedError, BackingStoreError, type PageStore } from 'zstash/internals'
import { makePage, type PageKind } from './helpers/pages.js'
import { openFaultyTieredStore, type FaultyBackend, type Schedule } from './helpers/faulty-backend.js'

const RUNS = Number(process.env.ZSTASH_MODEL_RUNS ?? 1000)
// A long run must not hit a fixed timeout on a busy machine (10,000 runs took 11 min at load 5).
const TIMEOUT = Math.max(600_000, RUNS * 200)
const KEYS = 12
const kindArb = fc.constantFrom<PageKind>('text', 'zero', 'fill', 'random', 'usemem')

type Op =
  | { t: 'store'; key: number; kinds: PageKind[]; seed: number; failAt: number }
  | { t: 'load'; key: number; exclusive: boolean }
  | { t: 'loadMany'; key: number; count: number; exclusive: boolean }
  | { t: 'invalidate'; key: number }
  | { t: 'compact' }
  | { t: 'shrink'; idle: boolean }
  | { t: 'switch'; compressor: string }
  | { t: 'recompress'; compressor: string; incompressibleOnly: boolean }
  | { t: 'close' }

function opsArb(keys: number, shrinkWeight: number): fc.Arbitrary<Op> {
  return fc.oneof(
    { weight: 5, arbitrary: fc.record({
      t: fc.constant('store' as const),
      key: fc.nat(keys - 1),
      kinds: fc.array(kindArb, { minLength: 1, maxLength: 6 }),
      seed: fc.nat(1 << 16),
      failAt: fc.oneof({ weight: 3, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.nat(5) }),
    }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('load' as const), key: fc.nat(keys + 4), exclusive: fc.boolean() }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('loadMany' as const), key: fc.nat(keys), count: fc.integer({ min: 1, max: 8 }), exclusive: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('invalidate' as const), key: fc.nat(keys + 4) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('compact' as const) }) },
    { weight: shrinkWeight, arbitrary: fc.record({ t: fc.constant('shrink' as const), idle: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('switch' as const), compressor: fc.constantFrom('lz4', 'zstd', 'deflate-4k', 'lzo') }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('recompress' as const), compressor: fc.constantFrom('zstd', 'deflate'), incompressibleOnly: fc.boolean() }) },
    { weight: 1, arbitrary: fc.constant({ t: 'close' as const }) },
  )
}
const opArb = opsArb(KEYS, 1)
/** With a tier: fewer keys and many shrinks, so that loads and stores meet pages in the tier and in flight to it. */
const tierOpArb = opsArb(8, 6)

interface Variant {
  compressor: string
  workers: number
  /** Write back to a file tier (shrink ops), with injected tier faults at these rates. */
  tier?: { putFail: number; getFail: number }
}

interface Cell {
  bytes: Uint8Array
  /** The op index of the store that set it, and whether that store is going to fail. */
  by: number
  doomed: boolean
}

/** What a load may return for a cell: the exact bytes, or — for a doomed store — possibly nothing. */
function checkRead(got: Uint8Array | undefined, cell: Cell | undefined, what: string): void {
  if (cell === undefined) {
    expect(got, `${what}: absent key read as present`).toBeUndefined()
  } else if (got === undefined) {
    expect(cell.doomed, `${what}: present key read as absent`).toBe(true)
  } else {
    expect(Buffer.compare(got, cell.bytes), `${what}: wrong bytes`).toBe(0)
  }
}

async function runModel(s: fc.Scheduler, ops: Op[], variant: Variant): Promise<void> {
  const schedule: Schedule = (label, work) => s.schedule(Promise.resolve(label), label).then(() => work())
  const tiered = variant.tier !== undefined
  const { store, faults, backing } = await openFaultyTieredStore({
    compressor: variant.compressor, workers: variant.workers, maxBatch: 2,
    ...(tiered ? { backing: { type: 'file' as const }, writebackBatch: 4 } : {}),
  }, schedule)
  if (variant.tier) {
    backing.putFailRate = variant.tier.putFail
    backing.getFailRate = variant.tier.getFail
  }
  const model = new Map<number, Cell>()
  // Bumped whenever the model's value of a key changes: a failed exclusive load gives its
  // entries back only if nothing replaced them since (the store does the same with its taken bit).
  const versions = new Map<number, number>()
  const bump = (k: number) => versions.set(k, (versions.get(k) ?? 0) + 1)
  /** A load failure is acceptable only when the tier injects read failures. */
  const acceptable = (err: unknown) => (closed && err instanceof ClosedError) || (tiered && err instanceof BackingStoreError)
  const giveBack = (taken: [number, Cell, number][]) => {
    for (const [k, cell, v] of taken) if (versions.get(k) === v) { model.set(k, cell); bump(k) }
  }
  const settled: Promise<void>[] = []
  let closed = false
  const issue = (op: Op, index: number): void => {
    if (closed) {
      // Every entry point refuses work after close, synchronously or as a rejection.
      settled.push(expectClosed(store, op))
      return
    }
    switch (op.t) {
      case 'store': {
        const folio = new Uint8Array(op.kinds.length * PAGE_SIZE)
        op.kinds.forEach((k, i) => makePage(k, op.seed + i, folio, i * PAGE_SIZE))
        const failAt = op.failAt < op.kinds.length ? op.failAt : -1
        const doomed = failAt >= 0
        ;(faults as FaultyBackend).next = { failPage: failAt }
        const p = store.storeFolio(op.key, folio)
        // The store owns its input from here on: scribbling over the caller's buffer changes nothing.
        const expected = folio.slice()
        folio.fill(0xa5)
        for (let i = 0; i < op.kinds.length; i++) {
          model.set(op.key + i, { bytes: expected.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE), by: index, doomed })
          bump(op.key + i)
        }
        settled.push(p.then(
          () => expect(doomed, `store #${index} succeeded but was meant to fail`).toBe(false),
          (err) => {
            if (closed && err instanceof ClosedError) return
            expect(err, `store #${index}`).toBeInstanceOf(StoreRejectedError)
            expect(doomed, `store #${index} failed: ${err}`).toBe(true)
            // The failure erased the keys it still owned.
            for (let i = 0; i < op.kinds.length; i++) if (model.get(op.key + i)?.by === index) { model.delete(op.key + i); bump(op.key + i) }
          },
        ))
        break
      }
      case 'load': {
        const cell = model.get(op.key)
        const p = store.load(op.key, { exclusive: op.exclusive })
        const taken: [number, Cell, number][] = []
        if (op.exclusive && cell) { model.delete(op.key); bump(op.key); taken.push([op.key, cell, versions.get(op.key)!]) }
        settled.push(p.then((got) => checkRead(got, cell, `load #${index} key ${op.key}`), (err) => {
          if (!acceptable(err)) throw err
          giveBack(taken)
        }))
        break
      }
      case 'loadMany': {
        const keys = Array.from({ length: op.count }, (_, i) => op.key + i)
        const cells = keys.map((k) => model.get(k))
        const p = store.loadMany(keys, { exclusive: op.exclusive })
        const taken: [number, Cell, number][] = []
        if (op.exclusive) {
          keys.forEach((k, i) => { if (cells[i]) { model.delete(k); bump(k); taken.push([k, cells[i]!, versions.get(k)!]) } })
        }
        settled.push(p.then((r) => {
          keys.forEach((k, i) => {
            const got = r.present[i] ? r.pages.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE) : undefined
            checkRead(got, cells[i], `loadMany #${index} key ${k}`)
          })
        }, (err) => {
          if (!acceptable(err)) throw err
          giveBack(taken)
        }))
        break
      }
      case 'invalidate': {
        const cell = model.get(op.key)
        const had = store.invalidate(op.key)
        if (model.delete(op.key)) bump(op.key)
        if (cell === undefined) expect(had, `invalidate #${index}`).toBe(false)
        else if (!cell.doomed) expect(had, `invalidate #${index}`).toBe(true)
        break
      }
      case 'compact':
        expect(store.compact()).toBeGreaterThanOrEqual(0)
        break
      case 'shrink':
        // Writeback changes where pages are, never what they are.
        if (tiered) settled.push(store.shrink(op.idle ? { idle: true } : { targetBytes: 0 }).then(() => undefined, (err) => {
          if (!(closed && err instanceof ClosedError)) throw err
        }))
        break
      case 'switch':
        // New stores use another compressor; old entries must stay readable.
        settled.push(store.setCompressor(op.compressor).catch((err) => { if (!(closed && err instanceof ClosedError)) throw err }))
        break
      case 'recompress':
        // Rewrites objects smaller where it can: never changes a value, never undoes a later call.
        settled.push(store.recompress({ compressor: op.compressor, incompressibleOnly: op.incompressibleOnly, maxPages: 16 }).then(
          () => undefined, (err) => { if (!(closed && err instanceof ClosedError)) throw err }))
        break
      case 'close':
        closed = true
        settled.push(store.close())
        break
    }
  }
  try {
    const sequence = s.scheduleSequence(ops.map((op, i) => ({ label: `${op.t} #${i}`, builder: () => { issue(op, i); return Promise.resolve() } })))
    // Issues and completions interleave as the scheduler picks. Real I/O (the file tier) can schedule
    // a completion after the scheduler ran dry, so drain it until every operation settled (bounded).
    await s.waitFor(sequence.task)
    const all = Promise.all(settled).then(() => 'settled')
    const outcome = await drainUntil(s, all, 5000)
    expect(outcome, `operations left pending:\n${s.report().map((r) => `${r.status} ${r.label}`).join('\n')}`).toBe('settled')
    if (closed) return
    if (backing) backing.getFailRate = 0
    for (let k = 0; k < KEYS + 8; k++) {
      const cell = model.get(k)
      let got: Uint8Array | undefined
      expect(await drainUntil(s, store.load(k).then((p) => { got = p; return 'loaded' }), 5000)).toBe('loaded')
      if (cell === undefined) expect(got, `final key ${k}`).toBeUndefined()
      else expect(Buffer.compare(got!, cell.bytes), `final key ${k}`).toBe(0)
    }
    const st = store.stats()
    expect(st.stored_pages).toBe(model.size)
    expect(st.pool.objects + st.tier_pages).toBe(model.size - st.same_filled_pages)
    // Per-compressor counts add up to the objects stored, wherever they are.
    expect(st.compressors.reduce((n, c) => n + c.objects, 0)).toBe(st.pool.objects + st.tier_pages)
    if (tiered) expect(st.backing!.objects).toBe(st.tier_pages)
    expect(st.stores_in_flight).toBe(0)
    expect(st.reserved_bytes).toBe(0)
  } finally {
    const closing = await drainUntil(s, store.close().then(() => 'closed'), 5000)
    expect(closing).toBe('closed')
  }
}

/** Releases scheduled completions until `done` settles, or `ms` pass ('hung'). */
async function drainUntil(s: fc.Scheduler, done: Promise<string>, ms: number): Promise<string> {
  let result: string | undefined
  done.then((r) => { result = r }, () => { result = 'failed' })
  const deadline = performance.now() + ms
  while (result === undefined && performance.now() < deadline) {
    await s.waitAll()
    await new Promise((r) => setTimeout(r, 1))
  }
  return result ?? 'hung'
}

async function expectClosed(store: PageStore, op: Op): Promise<void> {
  const call = (): unknown => {
    switch (op.t) {
      case 'store': return store.storeFolio(op.key, new Uint8Array(PAGE_SIZE))
      case 'load': return store.load(op.key)
      case 'loadMany': return store.loadMany([op.key])
      case 'invalidate': return store.invalidate(op.key)
      case 'compact': return store.compact()
      case 'shrink': return store.shrink({ targetBytes: 0 })
      case 'switch': return store.setCompressor(op.compressor)
      case 'recompress': return store.recompress({ maxPages: 1 })
      case 'close': return store.close()
    }
  }
  if (op.t === 'close') return void (await call())
  let result: unknown
  try {
    result = call()
  } catch (err) {
    expect(err).toBeInstanceOf(ClosedError)
    return
  }
  await expect(result as Promise<unknown>).rejects.toBeInstanceOf(ClosedError)
}

describe('PageStore ordering: the last issued operation wins', () => {
  it(`agrees with an issue-order model under scheduled completions (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(opArb, { minLength: 1, maxLength: 24 }), (s, ops) => runModel(s, ops, { compressor: 'lz4', workers: 0 })),
      { numRuns: RUNS },
    )
  }, TIMEOUT)

  it('agrees with the model with writeback to a file tier, shrinks, and injected tier faults', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(tierOpArb, { minLength: 1, maxLength: 30 }), (s, ops) =>
        runModel(s, ops, { compressor: 'lz4', workers: 0, tier: { putFail: 0.2, getFail: 0.1 } })),
      { numRuns: Math.max(50, Math.floor(RUNS / 2)) },
    )
  }, TIMEOUT)

  it('agrees with the model when completions come from the real worker pool (zstd, 2 workers)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(opArb, { minLength: 1, maxLength: 24 }), (s, ops) => runModel(s, ops, { compressor: 'zstd', workers: 2 })),
      { numRuns: Math.max(20, Math.floor(RUNS / 20)) },
    )
  }, TIMEOUT)
})
