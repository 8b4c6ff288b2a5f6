/**
 * The TypeScript size-class table (src/allocator/size-classes.ts), which the
 * dictionary benchmark uses to estimate pool bytes. The allocator itself is
 * native now: its tests are in test/native-pool.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { buildSizeClasses, PAGE_SIZE } from 'zstash/internals'

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
