/**
 * Intel QPL through the engine. Without IAA hardware this runs QPL's software
 * path (build with QPL_ROOT=<qpl install prefix>); without QPL the suite is
 * skipped and says why. The hardware path is never assumed: it is asserted to
 * be reported as unavailable unless ZSTASH_EXPECT_HARDWARE is set.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { deflateRawSync, inflateRawSync } from 'node:zlib'
import { PAGE_SIZE, PageStatus, BackendUnavailableError, loadNative } from 'zstash/internals'
import { openDeviceBackend, backends, type DeviceCompressBackend } from '../dist/src/devices/index.js'
import { makeFolio } from './helpers/pages.js'
import { readCorpusPages } from './helpers/corpus.js'

const native = loadNative()
const qpl = (native.devices as { kind: string; compiled: boolean; reason: string }[]).find((d) => d.kind === 'qpl')!
const title = qpl.compiled ? 'qpl (software path)' : `qpl (skipped: ${qpl.reason}; build with QPL_ROOT to run)`
const pages = readCorpusPages('py-2k', 512)
const count = pages.length / PAGE_SIZE
const options = { threshold: PAGE_SIZE - 1, detectSameFilled: false, }
const toClose: DeviceCompressBackend[] = []
afterAll(async () => { for (const b of toClose) await b.close() })

describe('qpl when not compiled', () => {
  it.skipIf(qpl.compiled)('backends() says why and opening it is BackendUnavailableError', async () => {
    const entry = (await backends()).find((b) => b.name === 'qpl')!
    expect(entry).toMatchObject({ compiled: false, available: false, path: 'none' })
    expect(entry.reason).toMatch(/^not compiled: QPL not found/)
    await expect(openDeviceBackend('qpl', { maxBatch: 8 })).rejects.toBeInstanceOf(BackendUnavailableError)
  })
})

describe.skipIf(!qpl.compiled)(title, () => {
  it(`qpl:software compresses ${count} pages (incompressible ones stay raw); zlib inflates every stream`, async () => {
    const b = await openDeviceBackend('qpl:software', { maxBatch: 8 })
    toClose.push(b)
    expect(b.info).toMatchObject({ path: 'software', format: 'deflate-4k' })
    expect(b.info.version).toMatch(/^qpl /)
    const r = await b.compress(pages, count, options)
    let raw = 0
    for (let i = 0; i < count; i++) {
      if (r.status[i] === PageStatus.Incompressible) { raw++; continue }
      expect(r.status[i]).toBeGreaterThan(0)
      const back = inflateRawSync(r.out.subarray(i * PAGE_SIZE, i * PAGE_SIZE + r.status[i]), { windowBits: 12 } as never)
      expect(Buffer.compare(back, pages.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE))).toBe(0)
    }
    r.release()
    const s = b.stats()
    expect(s.raw_pages).toBe(raw)
    expect(s.hw_completed).toBe(count)   // "hw" counts device completions; the path says it was QPL's CPU path
    expect(s.sw_fallbacks).toBe(0)
  })

  it('qpl:software decodes ISA-L (deflate-4k) and zlib streams', async () => {
    const b = await openDeviceBackend('qpl:software', { maxBatch: 8, device: { dynamicHuffman: true } })
    toClose.push(b)
    const codec = new native.Codec('deflate-4k', 1)
    const n = Math.min(count, 128)
    const arena = new Uint8Array(n * PAGE_SIZE)
    const cs = new Int32Array(n)
    codec.compressBatch(pages, 0, n, arena, 0, cs, 0, PAGE_SIZE - 1, false)
    const jobs = new Int32Array(n * 4)
    for (let i = 0; i < n; i++) {
      const page = pages.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE)
      if (i % 2) {
        const z = deflateRawSync(page, { windowBits: 12 } as never)
        if (z.length < PAGE_SIZE) { arena.set(z, i * PAGE_SIZE); cs[i] = z.length }
      }
      if (cs[i] <= 0) { arena.set(page, i * PAGE_SIZE); cs[i] = PAGE_SIZE }
      jobs.set([0, i * PAGE_SIZE, cs[i], i], i * 4)
    }
    const dst = new Uint8Array(n * PAGE_SIZE)
    const ds = new Int32Array(n)
    await b.decompressArenas({ arenas: [arena], jobs, slots: new Uint8Array(n), sums: undefined, count: n, dst, status: ds })
    expect([...ds].every((s) => s === PAGE_SIZE)).toBe(true)
    expect(Buffer.compare(dst, pages.subarray(0, n * PAGE_SIZE))).toBe(0)
    expect(b.stats().decompress_fallbacks).toBe(0)
  })

  it("'qpl' resolves its path honestly and qpl:hardware without IAA is unavailable", async () => {
    const auto = await openDeviceBackend('qpl', { maxBatch: 8 })
    toClose.push(auto)
    if (process.env.ZSTASH_EXPECT_HARDWARE) {
      expect(auto.info.path).toBe('hardware')
      return
    }
    expect(auto.info.path).toBe('software')
    expect(auto.caps.notes).toMatch(/hardware probe returned \d+/)
    const err = await openDeviceBackend('qpl:hardware', { maxBatch: 8 }).catch((e) => e)
    expect(err).toBeInstanceOf(BackendUnavailableError)
    expect(err.message).toMatch(/qpl_init_job\(qpl_path_hardware\) returned 50\d/)
  })
})
