/**
 * Intel QPL through the engine, on QPL's software path (there is no IAA here): round trips of real
 * pages, the deflate-4k interchange with the CPU codec, zlib and dpdk:isal in both directions,
 * batches through the engine (qpl_submit_job, then qpl_check_job from the engine's poll, with the
 * busy-queue policy), and the hardware path's "no work queue" error with QPL's status code.
 * Without QPL compiled these tests are skipped with the reason, except in CI with the vendor
 * tarballs present, where that is a failure (test/helpers/device-libs.ts).
 */
import { afterAll, describe, expect, it } from 'vitest'
import { existsSync } from 'node:fs'
import { deflateRawSync, inflateRawSync } from 'node:zlib'
import { PAGE_SIZE, BackendUnavailableError, loadNative } from 'zstash/internals'
import { openDeviceBackend, backends, type DeviceCompressBackend } from '../dist/src/devices/index.js'
import { readCorpusPages } from './helpers/corpus.js'
import { deviceKind, requireCompiled } from './helpers/device-libs.js'
import { compressToArena, decodeOn } from './helpers/device-round-trip.js'

const native = loadNative()
const qpl = deviceKind('qpl')
const dpdk = deviceKind('dpdk')
const mustBeCompiled = requireCompiled(qpl, 'devices-qpl.test')
const title = qpl.compiled ? `qpl (software path, ${qpl.version})` : `qpl (skipped: ${qpl.reason})`
const pages = readCorpusPages('py-2k', 512)
const count = pages.length / PAGE_SIZE
const options = { threshold: PAGE_SIZE - 1, detectSameFilled: false }
const toClose: DeviceCompressBackend[] = []
afterAll(async () => { for (const b of toClose) await b.close() })

async function open(name: string, device: Record<string, unknown> = {}, maxBatch = 8): Promise<DeviceCompressBackend> {
  const b = await openDeviceBackend(name, { maxBatch, device })
  toClose.push(b)
  return b
}

describe('qpl build', () => {
  it.runIf(!qpl.compiled && mustBeCompiled)('is compiled in CI when the vendor tarballs are there', () => {
    expect.fail(`QPL is not compiled (${qpl.reason}), but CI has the vendor tarballs: scripts/build-vendor.sh must build .deps/qpl`)
  })

  it.skipIf(qpl.compiled)('when not compiled, backends() says why and opening it is BackendUnavailableError', async () => {
    const entry = (await backends()).find((b) => b.name === 'qpl')!
    expect(entry).toMatchObject({ compiled: false, available: false, path: 'none' })
    expect(entry.reason).toMatch(/^not compiled: QPL not found/)
    await expect(openDeviceBackend('qpl', { maxBatch: 8 })).rejects.toBeInstanceOf(BackendUnavailableError)
  })
})

describe.skipIf(!qpl.compiled)(title, () => {
  it(`qpl:software round-trips ${count} real pages through the engine (compress, then decompressMany)`, async () => {
    const b = await open('qpl:software')
    expect(b.info).toMatchObject({ path: 'software', format: 'deflate-4k' })
    expect(b.info.version).toMatch(/^qpl \d+\.\d+\.\d+/)
    const { arena, jobs, lengths, n } = await compressToArena(b, pages)
    const raw = [...lengths].filter((l) => l === PAGE_SIZE).length
    expect(raw).toBeGreaterThan(0)              // py-2k has incompressible pages: stored raw
    expect(raw).toBeLessThan(n / 2)
    const back = await decodeOn(b, arena, jobs, n)
    expect(Buffer.compare(back, pages)).toBe(0)
    const s = b.stats()
    expect(s.raw_pages).toBe(raw)
    expect(s.hw_completed).toBe(n + (n - raw))  // "hw" counts device completions; the path says it was QPL's CPU path
    expect(s.sw_fallbacks).toBe(0)
    expect(s.decompress_fallbacks).toBe(0)
  })

  it('qpl:software streams decode with the CPU deflate-4k codec and zlib (4 KiB window)', async () => {
    const b = await open('qpl:software')
    const src = readCorpusPages('node-2k', 256)
    const { arena, lengths, n } = await compressToArena(b, src)
    const codec = new native.Codec('deflate-4k', 1)
    const back = new Uint8Array(PAGE_SIZE)
    for (let i = 0; i < n; i++) {
      if (lengths[i] === PAGE_SIZE) continue
      const stream = arena.subarray(i * PAGE_SIZE, i * PAGE_SIZE + lengths[i])
      const page = src.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE)
      expect(codec.decompress(stream, 0, lengths[i], back, 0)).toBe(PAGE_SIZE)
      expect(Buffer.compare(back, page)).toBe(0)
      expect(Buffer.compare(inflateRawSync(stream, { windowBits: 12 } as never), page)).toBe(0)
    }
  })

  it('qpl:software decodes CPU deflate-4k (ISA-L) and zlib streams', async () => {
    const b = await open('qpl:software', { dynamicHuffman: true })
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
    const dst = await decodeOn(b, arena, jobs, n)
    expect(Buffer.compare(dst, pages.subarray(0, n * PAGE_SIZE))).toBe(0)
    expect(b.stats().decompress_fallbacks).toBe(0)
  })

  describe.skipIf(!dpdk.compiled)('interchange with dpdk:isal', () => {
    const src = readCorpusPages('node-2k', 256)

    it('dpdk:isal decodes what qpl:software wrote', async () => {
      const q = await open('qpl:software')
      const d = await open('dpdk:isal')
      const { arena, jobs, n } = await compressToArena(q, src)
      expect(Buffer.compare(await decodeOn(d, arena, jobs, n), src)).toBe(0)
      expect(d.stats().decompress_fallbacks).toBe(0)
      expect(d.stats().hw_decompressed).toBeGreaterThan(n / 2)
    })

    it('qpl:software decodes what dpdk:isal wrote', async () => {
      const q = await open('qpl:software')
      const d = await open('dpdk:isal')
      const { arena, jobs, n } = await compressToArena(d, src)
      expect(Buffer.compare(await decodeOn(q, arena, jobs, n), src)).toBe(0)
      expect(q.stats().decompress_fallbacks).toBe(0)
      expect(q.stats().hw_decompressed).toBeGreaterThan(n / 2)
    })
  })

  it('batches go through the engine: ≤ maxBatch pages each; a full job queue is polled and retried, not sent to the CPU', async () => {
    // 4 QPL jobs: a batch is capped at the queue (4 pages), and a folio's batches, handed to the
    // engine together, find the jobs still held by the previous batch until qpl_check_job has
    // reported them — the busy path, resolved by polling and resubmitting (qpl_submit_job).
    const b = await open('qpl:software', { queueDepth: 4 }, 8)
    expect(b.caps.queueDepth).toBe(4)
    expect(b.info.maxBatch).toBe(4)
    const n = 64
    const r = await b.compress(pages, n, options)
    r.release()
    const s = b.stats()
    expect(s.batches).toBe(n / 4)
    expect(s.hw_submitted).toBe(n)
    expect(s.hw_completed).toBe(n)
    expect(s.busy_retries).toBeGreaterThan(0)
    expect(s.sw_fallbacks).toBe(0)
  })

  it("'qpl' resolves its path honestly and qpl:hardware without IAA reports QPL's status code", async () => {
    const auto = await open('qpl')
    if (process.env.ZSTASH_EXPECT_HARDWARE) {
      expect(auto.info.path).toBe('hardware')
      return
    }
    // QPL dlopens libaccel-config for its hardware path: with it the probe finds no enabled work
    // queue (503), without it the library is missing (501).
    const libaccel = existsSync('/usr/lib/x86_64-linux-gnu/libaccel-config.so.1') || existsSync('/usr/lib64/libaccel-config.so.1')
    const code = libaccel ? 503 : 501
    const text = libaccel ? 'no enabled IAA work queues' : 'libaccel-config.so.1 not found'
    expect(auto.info.path).toBe('software')
    expect(auto.caps.notes).toContain(`hardware probe returned ${code} (${text}), running QPL's software path`)
    const err = await openDeviceBackend('qpl:hardware', { maxBatch: 8 }).catch((e) => e)
    expect(err).toBeInstanceOf(BackendUnavailableError)
    expect(err.message).toContain(`qpl_init_job(qpl_path_hardware) returned ${code} (${text})`)
    const listed = (await backends()).find((e) => e.name === 'qpl:hardware')!
    expect(listed).toMatchObject({ compiled: true, available: false, path: 'none', version: qpl.version })
    expect(listed.reason).toContain(`returned ${code}`)
  })
})
