import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { ZsPool, buildSizeClasses, PAGE_SIZE } from 'zstash/internals'

/** Compacts, moving every handle the test holds (the test is the entry table here). */
function compact<T>(pool: ZsPool, live: Map<number, T>, ...others: Map<number, T>[]): number {
  const moved: [number, number][] = []
  const released = pool.compact((visit) => {
    for (const h of live.keys()) {
      const n = visit(h)
      if (n !== h) moved.push([h, n])
    }
  })
  for (const map of [live, ...others]) {
    const values = moved.map(([h]) => map.get(h)!)
    for (const [h] of moved) map.delete(h)
    moved.forEach(([, n], i) => map.set(n, values[i]))
  }
  return released
}

function checkNoOverlap(pool: ZsPool, live: Map<number, unknown>) {
  const ranges = [...live.keys()].map((h) => pool.slotRange(h)).sort((a, b) => a.arena - b.arena || a.start - b.start)
  for (let i = 1; i < ranges.length; i++) {
    const a = ranges[i - 1]
    const b = ranges[i]
    if (a.arena === b.arena) expect(b.start).toBeGreaterThanOrEqual(a.end)
  }
  return ranges.length
}

function checkStats(pool: ZsPool, live: Map<number, number>) {
  const s = pool.stats()
  expect(s.objects).toBe(live.size)
  expect(s.object_bytes).toBe([...live.values()].reduce((a, b) => a + b, 0))
  let pages = 0
  for (const c of s.classes) {
    expect(c.obj_used).toBeLessThanOrEqual(c.obj_allocated)
    expect(c.obj_allocated).toBe((c.pages_used / c.pagesPerSlab) * c.objectsPerSlab)
    pages += c.pages_used
  }
  expect(pages * PAGE_SIZE).toBe(s.pool_total_size)
  expect(s.classes.reduce((a, c) => a + c.obj_used, 0)).toBe(live.size)
}

function fillPattern(pool: ZsPool, handle: number, length: number, seed: number) {
  pool.locate(handle)
  const { bytes } = pool.arena
  for (let i = 0; i < length; i++) bytes[pool.offset + i] = (seed * 31 + i * 7) & 0xff
}

function checkPattern(pool: ZsPool, handle: number, length: number, seed: number) {
  pool.locate(handle)
  const { bytes } = pool.arena
  for (let i = 0; i < length; i++) if (bytes[pool.offset + i] !== ((seed * 31 + i * 7) & 0xff)) return false
  return true
}

describe('size classes', () => {
  it('cover 32..4096 in 16-byte steps and merge identical geometries', () => {
    const { classes, lookup } = buildSizeClasses()
    expect(lookup.length).toBe(255)
    expect(classes[0].size).toBe(32)
    expect(classes[classes.length - 1].size).toBe(PAGE_SIZE)
    expect(classes.length).toBeLessThan(255) // some merged
    for (let i = 1; i < classes.length; i++) {
      const a = classes[i - 1]
      const b = classes[i]
      expect(a.pagesPerSlab !== b.pagesPerSlab || a.objectsPerSlab !== b.objectsPerSlab).toBe(true)
    }
    for (const c of classes) expect(c.objectsPerSlab * c.size).toBeLessThanOrEqual(c.pagesPerSlab * PAGE_SIZE)
  })
})

describe('ZsPool', () => {
  it('keeps objects disjoint, stats consistent and bytes intact under random alloc/free/compact', () => {
    const op = fc.oneof(
      { weight: 5, arbitrary: fc.record({ t: fc.constant('alloc' as const), len: fc.integer({ min: 1, max: PAGE_SIZE }) }) },
      { weight: 3, arbitrary: fc.record({ t: fc.constant('free' as const), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ t: fc.constant('compact' as const) }) },
    )
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 300 }), (ops) => {
      const pool = new ZsPool()
      const live = new Map<number, number>()
      const seeds = new Map<number, number>()
      let seed = 1
      for (const o of ops) {
        if (o.t === 'alloc') {
          const h = pool.alloc(o.len)
          expect(h).toBeGreaterThan(0)
          expect(live.has(h)).toBe(false)
          live.set(h, o.len)
          seeds.set(h, ++seed)
          fillPattern(pool, h, o.len, seed)
        } else if (o.t === 'free' && live.size > 0) {
          const keys = [...live.keys()]
          const h = keys[o.pick % keys.length]
          pool.free(h, live.get(h)!)
          live.delete(h)
        } else if (o.t === 'compact') {
          compact(pool, live, seeds)
        }
      }
      expect(checkNoOverlap(pool, live)).toBe(live.size)
      checkStats(pool, live)
      for (const [h, len] of live) expect(checkPattern(pool, h, len, seeds.get(h)!)).toBe(true)
    }), { numRuns: 200 })
  })

  it('compaction releases slabs after churn and preserves every byte', () => {
    const pool = new ZsPool()
    const live = new Map<number, number>()
    const seeds = new Map<number, number>()
    let rnd = 12345
    const next = () => (rnd = (rnd * 1103515245 + 12345) & 0x7fffffff)
    for (let i = 0; i < 20000; i++) {
      const len = 200 + (next() % 3000)
      const h = pool.alloc(len)
      live.set(h, len)
      seeds.set(h, i)
      fillPattern(pool, h, len, i)
    }
    for (const h of [...live.keys()]) {
      if (next() % 3 !== 0) {
        pool.free(h, live.get(h)!)
        live.delete(h)
      }
    }
    const before = pool.stats()
    const released = compact(pool, live, seeds)
    const after = pool.stats()
    expect(released).toBeGreaterThan(0)
    expect(after.pool_total_size).toBeLessThan(before.pool_total_size)
    expect(after.pool_total_size / after.object_bytes).toBeLessThan(1.05)
    expect(after.pages_compacted).toBe(released)
    checkStats(pool, live)
    checkNoOverlap(pool, live)
    for (const [h, len] of live) expect(checkPattern(pool, h, len, seeds.get(h)!)).toBe(true)
  })

  it('returns 0 when the pool limit is reached, and works again after frees', () => {
    const pool = new ZsPool({ maxBytes: 16 << 20 })
    const handles: number[] = []
    for (;;) {
      const h = pool.alloc(PAGE_SIZE)
      if (h === 0) break
      handles.push(h)
    }
    expect(handles.length).toBe(4096)
    pool.free(handles.pop()!, PAGE_SIZE)
    expect(pool.alloc(PAGE_SIZE)).toBeGreaterThan(0)
  })

  it('rejects impossible sizes', () => {
    const pool = new ZsPool()
    expect(() => pool.alloc(0)).toThrow(RangeError)
    expect(() => pool.alloc(PAGE_SIZE + 1)).toThrow(RangeError)
  })
})
