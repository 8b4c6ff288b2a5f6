/**
 * A device's compress and its arena decode (decompressArenas): pages compressed into one arena of
 * objects (incompressible ones kept raw), then decoded back through a device.
 */
import { expect } from 'vitest'
import { PAGE_SIZE, PageStatus } from 'zstash/internals'
import type { DeviceCompressBackend } from '../../dist/src/devices/index.js'

const options = { threshold: PAGE_SIZE - 1, detectSameFilled: false }

/** Compresses `src` on `b`; returns an arena of its objects, the jobs to decode them, their lengths. */
export async function compressToArena(b: DeviceCompressBackend, src: Uint8Array) {
  const n = src.length / PAGE_SIZE
  const r = await b.compress(src, n, options)
  const arena = new Uint8Array(n * PAGE_SIZE)
  const jobs = new Int32Array(n * 4)
  const lengths = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    if (r.status[i] === PageStatus.Incompressible) {
      arena.set(src.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE), i * PAGE_SIZE)
      lengths[i] = PAGE_SIZE
    } else {
      expect(r.status[i]).toBeGreaterThan(0)
      arena.set(r.out.subarray(i * PAGE_SIZE, i * PAGE_SIZE + r.status[i]), i * PAGE_SIZE)
      lengths[i] = r.status[i]
    }
    jobs.set([0, i * PAGE_SIZE, lengths[i], i], i * 4)
  }
  r.release()
  return { arena, jobs, lengths, n }
}

/** Decodes `n` objects of `arena` on `b`; every one must come back as a whole page. */
export async function decodeOn(b: DeviceCompressBackend, arena: Uint8Array, jobs: Int32Array, n: number): Promise<Uint8Array> {
  const dst = new Uint8Array(n * PAGE_SIZE)
  const status = new Int32Array(n)
  await b.decompressArenas({ arenas: [arena], jobs, slots: new Uint8Array(n), sums: undefined, count: n, dst, status })
  expect([...status].every((s) => s === PAGE_SIZE)).toBe(true)
  return dst
}
