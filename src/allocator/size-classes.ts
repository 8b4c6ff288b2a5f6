/**
 * zsmalloc's size classes: 16-byte steps from 32 B to one page. Each class
 * carves slabs of 1..8 contiguous pages, choosing the page count that wastes
 * the least tail space; adjacent classes whose slabs would have the same
 * geometry (pages, objects) are merged, so an object takes the larger slot
 * without costing an extra partially filled slab.
 */
import { PAGE_SIZE } from '../codecs/status.js'

export const MIN_OBJECT_SIZE = 32
export const CLASS_DELTA = 16
export const MAX_PAGES_PER_SLAB = 8
/** Largest number of objects in one slab (32 B objects in 8 pages). */
export const MAX_OBJECTS_PER_SLAB = (MAX_PAGES_PER_SLAB * PAGE_SIZE) / MIN_OBJECT_SIZE

export interface SizeClass {
  /** Index in `classes`; only canonical (merged-into) classes appear there. */
  index: number
  /** Slot size in bytes. */
  size: number
  pagesPerSlab: number
  objectsPerSlab: number
}

export interface SizeClassTable {
  classes: SizeClass[]
  /** For a requested length, the index into `classes`, via lookup[ceil((len - 32) / 16)]. */
  lookup: Uint8Array
}

/**
 * Slab length for a class: the least tail waste wins; among equally good
 * lengths, the shortest that holds at least MIN_OBJECTS objects. zsmalloc gives
 * a 4096-byte class one page per slab; here that would cost a slab record per
 * incompressible page, which is the largest metadata item on a heap where a
 * fifth of the pages are raw.
 */
const MIN_OBJECTS = 4

function bestPageCount(size: number): number {
  let best = 1
  let bestKey = -1
  for (let pages = 1; pages <= MAX_PAGES_PER_SLAB; pages++) {
    const bytes = pages * PAGE_SIZE
    const objects = Math.floor(bytes / size)
    const usage = Math.round(((objects * size) / bytes) * 1e9) / 1e9
    const key = usage * 2 + (objects >= MIN_OBJECTS ? 1 : 0) // usage first, then enough objects
    if (key > bestKey + 1e-12) {
      best = pages
      bestKey = key
    }
  }
  return best
}

export function buildSizeClasses(): SizeClassTable {
  const raw: { size: number; pages: number; objects: number }[] = []
  for (let size = MIN_OBJECT_SIZE; size <= PAGE_SIZE; size += CLASS_DELTA) {
    const pages = bestPageCount(size)
    raw.push({ size, pages, objects: Math.floor((pages * PAGE_SIZE) / size) })
  }
  const lookup = new Uint8Array(raw.length)
  const classes: SizeClass[] = []
  // Walk from the largest down so a smaller class can merge into its larger neighbour.
  let current: SizeClass | undefined
  const canonical: SizeClass[] = new Array(raw.length)
  for (let i = raw.length - 1; i >= 0; i--) {
    const r = raw[i]
    if (!current || current.pagesPerSlab !== r.pages || current.objectsPerSlab !== r.objects) {
      current = { index: -1, size: r.size, pagesPerSlab: r.pages, objectsPerSlab: r.objects }
      classes.unshift(current)
    }
    canonical[i] = current
  }
  classes.forEach((c, i) => { c.index = i })
  for (let i = 0; i < raw.length; i++) lookup[i] = canonical[i].index
  return { classes, lookup }
}

export function classIndexFor(table: SizeClassTable, length: number): number {
  const slot = length <= MIN_OBJECT_SIZE ? 0 : Math.ceil((length - MIN_OBJECT_SIZE) / CLASS_DELTA)
  return table.lookup[slot]
}
