/**
 * The device engine on the simulated accelerator: the batching policy, fault
 * handling (busy storms, device errors, lost and late completions, lying
 * lengths) and the promise-based completion path. Every test ends by checking
 * that no page was lost: each one is compressed (device or CPU), raw, or
 * same-filled, and decodes to its original bytes.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { inflateRawSync } from 'node:zlib'
import { PAGE_SIZE, PageStatus, DecodeStatus, InvalidArgumentError, ClosedError, BackendUnavailableError } from 'zstash/internals'
import {
  openDeviceBackend, backends, isDeviceCompressor, type DeviceCompressBackend, type SimOptions,
} from '../dist/src/devices/index.js'
import { makeFolio, makePage } from './helpers/pages.js'
import { readCorpusPages } from './helpers/corpus.js'

const opened: DeviceCompressBackend[] = []
afterEach(async () => {
  while (opened.length) await opened.pop()!.close()
})

async function sim(device: SimOptions = {}, maxBatch = 8): Promise<DeviceCompressBackend> {
  const b = await openDeviceBackend('sim', { maxBatch, device: { engines: 8, latencyUs: 5, ...device } })
  opened.push(b)
  return b
}

const options = { threshold: PAGE_SIZE - 1, detectSameFilled: true }

/** Every page has a final result that decodes to its bytes; returns the tally. */
function expectNothingLost(pages: Uint8Array, count: number, status: Int32Array, out: Uint8Array) {
  const tally = { compressed: 0, raw: 0, same: 0 }
  for (let i = 0; i < count; i++) {
    const page = pages.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE)
    const s = status[i]
    if (s > 0) {
      expect(s).toBeLessThan(PAGE_SIZE)
      const back = inflateRawSync(out.subarray(i * PAGE_SIZE, i * PAGE_SIZE + s), { windowBits: 12 } as never)
      expect(Buffer.compare(back, page), `page ${i}`).toBe(0)
      tally.compressed++
    } else if (s === PageStatus.SameFilled) {
      const word = out.subarray(i * PAGE_SIZE, i * PAGE_SIZE + 8)
      for (let off = 0; off < PAGE_SIZE; off += 8) expect(Buffer.compare(page.subarray(off, off + 8), word)).toBe(0)
      tally.same++
    } else {
      expect(s, `page ${i} status`).toBe(PageStatus.Incompressible)  // kept raw: the store copies the page itself
      tally.raw++
    }
  }
  return tally
}

async function compressAll(b: DeviceCompressBackend, pages: Uint8Array, count = pages.length / PAGE_SIZE, opts = options) {
  const r = await b.compress(pages, count, opts)
  const status = r.status.slice()
  const out = r.out.slice()
  r.release()
  return { status, out, tally: expectNothingLost(pages, count, status, out) }
}

function mixedFolio(n: number, seed = 1): Uint8Array {
  const kinds = ['text', 'usemem', 'text', 'zero', 'random', 'text', 'fill', 'usemem'] as const
  return makeFolio(Array.from({ length: n }, (_, i) => kinds[i % kinds.length]), seed)
}

describe('sim device: honest labels', () => {
  it('reports path simulated and a name containing sim', async () => {
    const b = await sim()
    expect(b.info.path).toBe('simulated')
    expect(b.info.name).toContain('sim')
    expect(b.info.format).toBe('deflate-4k')
    expect(b.caps.notes).toMatch(/not a hardware result/)
    expect(b.info.version).toMatch(/simulated/)
  })
})

describe('sim device: round trips', () => {
  it('compresses a corpus slice in batches; everything inflates with zlib', async () => {
    const pages = readCorpusPages('node-2k', 1024)
    const b = await sim({}, 8)
    const { tally } = await compressAll(b, pages)
    const s = b.stats()
    expect(tally.compressed + tally.raw + tally.same).toBe(1024)
    expect(s.batches).toBe(128)
    expect(s.hw_submitted).toBe(1024 - tally.same)
    expect(s.sw_fallbacks).toBe(0)
    expect(s.device_errors).toBe(0)
  })

  it('honours same-filled detection and the threshold', async () => {
    const b = await sim()
    const folio = mixedFolio(16)
    const r = await compressAll(b, folio, 16, { threshold: 600, detectSameFilled: true })
    expect(r.tally.same).toBe(4)
    expect([...r.status].every((s) => s <= 600)).toBe(true)
  })

  it('decompressMany decodes device, CPU and raw objects and rejects corrupt ones', async () => {
    const b = await sim()
    const folio = mixedFolio(12, 7)
    const { status, out } = await compressAll(b, folio, 12, { ...options, detectSameFilled: false })
    const jobs = new Int32Array(12 * 4)
    for (let i = 0; i < 12; i++) jobs.set([0, i * PAGE_SIZE, status[i] > 0 ? status[i] : PAGE_SIZE, i], i * 4)
    const arena = out.slice()
    for (let i = 0; i < 12; i++) if (status[i] <= 0) arena.set(folio.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE), i * PAGE_SIZE)
    jobs.set([0, 0, 10, 11], 44)                           // page 0's stream cut to 10 bytes
    const dst = new Uint8Array(12 * PAGE_SIZE)
    const ds = new Int32Array(12)
    await b.decompressArenas({ arenas: [arena], jobs, slots: new Uint8Array(12), sums: undefined, count: 12, dst, status: ds })
    for (let i = 0; i < 11; i++) {
      expect(ds[i]).toBe(PAGE_SIZE)
      expect(Buffer.compare(dst.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE), folio.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE))).toBe(0)
    }
    expect([DecodeStatus.Corrupt, DecodeStatus.WrongSize]).toContain(ds[11])
  })
})

describe('sim device: fault injection loses nothing', () => {
  it('busy storm: every submit refused, every page done on the CPU', async () => {
    const b = await sim({ busyRate: 1 })
    const folio = mixedFolio(32)
    const { tally } = await compressAll(b, folio)
    const s = b.stats()
    expect(s.hw_submitted).toBe(0)
    expect(s.sw_fallbacks).toBe(32 - tally.same)
    expect(s.busy_retries).toBe(3 * (32 - tally.same))  // 3 retries per page, QEMU's number
  })

  it('partial busy storm with a small queue: retries, fallbacks and device work add up', async () => {
    const b = await sim({ busyRate: 0.6, queueDepth: 4, seed: 3 })
    const folio = mixedFolio(256, 3)
    const { tally } = await compressAll(b, folio)
    const s = b.stats()
    expect(s.busy_retries).toBeGreaterThan(0)
    expect(s.sw_fallbacks).toBeGreaterThan(0)
    expect(s.hw_submitted).toBeGreaterThan(0)
    expect(s.hw_submitted + s.sw_fallbacks).toBe(256 - tally.same)
  })

  it('device errors and faults go to the CPU and are counted', async () => {
    const b = await sim({ errorRate: 0.2, faultRate: 0.1, seed: 5 })
    const folio = mixedFolio(256, 5)
    await compressAll(b, folio)
    const s = b.stats()
    expect(s.faults).toBeGreaterThan(0)
    expect(s.device_errors).toBeGreaterThan(s.faults)
    expect(s.sw_fallbacks).toBe(s.device_errors)
  })

  it('lost completions time out and are redone on the CPU', async () => {
    const b = await sim({ lostRate: 0.25, timeoutMs: 20, seed: 9 })
    const folio = mixedFolio(64, 9)
    const t0 = performance.now()
    await compressAll(b, folio)
    const s = b.stats()
    expect(s.timeouts).toBeGreaterThan(0)
    expect(s.sw_fallbacks).toBe(s.timeouts)
    expect(performance.now() - t0).toBeLessThan(2000)
  })

  it('late completions after a timeout are dropped, not published', async () => {
    const b = await sim({ stallRate: 0.3, stallUs: 30_000, timeoutMs: 5, seed: 11 })
    const folio = mixedFolio(64, 11)
    await compressAll(b, folio)
    await new Promise((r) => setTimeout(r, 80))  // the engine keeps looking for late completions while idle
    const s = b.stats()
    expect(s.timeouts).toBeGreaterThan(0)
    expect(s.late_completions).toBe(s.timeouts)
  })

  it('lying lengths: out-of-range ones are always caught, plausible ones with verify', async () => {
    const b = await sim({ wrongLengthRate: 0.3, verify: true, seed: 13 })
    const folio = mixedFolio(256, 13)
    await compressAll(b, folio)
    const s = b.stats()
    expect(s.bad_lengths).toBeGreaterThan(0)
    expect(s.verify_failures).toBeGreaterThan(0)
    expect(s.sw_fallbacks).toBe(s.bad_lengths + s.verify_failures)
  })

  it('decompression on a failing device falls back to the CPU decoder', async () => {
    const good = await sim()
    const folio = mixedFolio(64, 21)
    const { status, out } = await compressAll(good, folio, 64, { ...options, detectSameFilled: false })
    const bad = await sim({ errorRate: 0.3, lostRate: 0.1, timeoutMs: 10, seed: 21 })
    const jobs = new Int32Array(64 * 4)
    const arena = out.slice()
    for (let i = 0; i < 64; i++) {
      if (status[i] <= 0) arena.set(folio.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE), i * PAGE_SIZE)
      jobs.set([0, i * PAGE_SIZE, status[i] > 0 ? status[i] : PAGE_SIZE, i], i * 4)
    }
    const dst = new Uint8Array(64 * PAGE_SIZE)
    const ds = new Int32Array(64)
    await bad.decompressArenas({ arenas: [arena], jobs, slots: new Uint8Array(64), sums: undefined, count: 64, dst, status: ds })
    expect([...ds].every((s) => s === PAGE_SIZE)).toBe(true)
    expect(Buffer.compare(dst, folio)).toBe(0)
    expect(bad.stats().decompress_fallbacks).toBeGreaterThan(0)
  })
})

describe('sim device: completion path', () => {
  it('does not block the event loop while a batch is on the device', async () => {
    const b = await sim({ engines: 1, latencyUs: 2_000 })
    let ticks = 0
    const timer = setInterval(() => ticks++, 1)
    await compressAll(b, mixedFolio(16, 4).map((x) => x), 16, { ...options, detectSameFilled: false })
    clearInterval(timer)
    expect(ticks).toBeGreaterThan(5)  // 16 pages x 2 ms on one engine: the loop kept running
  })

  it('an idle open device costs no CPU', async () => {
    const b = await sim()
    await compressAll(b, mixedFolio(8))
    const before = process.cpuUsage()
    await new Promise((r) => setTimeout(r, 300))
    const used = process.cpuUsage(before)
    expect((used.user + used.system) / 1000).toBeLessThan(60)  // ms of CPU in 300 ms; a spinning poller would use ~300
  })

  it('runs batches from concurrent folios and keeps each folio whole', async () => {
    const b = await sim({ engines: 4, latencyUs: 50 })
    const folios = [mixedFolio(40, 1), mixedFolio(24, 2), mixedFolio(8, 3)]
    const results = await Promise.all(folios.map((f) => b.compress(f, f.length / PAGE_SIZE, options)))
    results.forEach((r, k) => {
      expectNothingLost(folios[k], folios[k].length / PAGE_SIZE, r.status, r.out)
      r.release()
    })
  })

  it('close() drains queued work, then rejects new work with ClosedError', async () => {
    const b = await openDeviceBackend('sim', { maxBatch: 8, device: { latencyUs: 500 } })
    const pending = b.compress(mixedFolio(32), 32, options)
    const closing = b.close()
    const r = await pending
    expectNothingLost(mixedFolio(32), 32, r.status, r.out)
    await closing
    await expect(b.compress(mixedFolio(8), 8, options)).rejects.toBeInstanceOf(ClosedError)
  })
})

describe('device names and options', () => {
  it('recognises device compressor names', () => {
    for (const n of ['sim', 'qpl', 'qpl:software', 'qpl:hardware', 'dpdk:isal', 'dpdk:zlib', 'dpdk:qat', 'qat', 'uadk']) expect(isDeviceCompressor(n)).toBe(true)
    for (const n of ['lz4', 'deflate-4k', 'dpdk', 'qpl:gpu', 'simulated', 'qat:software', 'uadk:hardware']) expect(isDeviceCompressor(n)).toBe(false)
  })

  it('rejects bad options with typed errors', async () => {
    await expect(openDeviceBackend('sim', { maxBatch: 0 })).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(openDeviceBackend('sim', { maxBatch: 8, level: 9 })).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(openDeviceBackend('sim', { maxBatch: 8, device: { busyRate: 2 } })).rejects.toThrow(/busyRate/)
    await expect(openDeviceBackend('dpdk:isal', { maxBatch: 8, device: { lostRate: 0.1 } })).rejects.toThrow(/unknown device option 'lostRate'/)
    await expect(openDeviceBackend('lz4', { maxBatch: 8 })).rejects.toBeInstanceOf(InvalidArgumentError)
  })

  it('backends() lists CPU codecs and every device with an honest status', async () => {
    const list = await backends()
    const by = new Map(list.map((b) => [b.name, b]))
    for (const cpu of ['lz4', 'zstd', 'deflate', 'deflate-4k', 'lzo']) {
      expect(by.get(cpu)).toMatchObject({ kind: 'cpu', compiled: true, available: true, path: 'cpu' })
    }
    expect(by.get('sim')).toMatchObject({ compiled: true, available: true, path: 'simulated' })
    for (const n of ['dpdk:isal', 'dpdk:zlib', 'dpdk:qat', 'qpl', 'qpl:software', 'qpl:hardware', 'qat', 'uadk']) expect(by.has(n)).toBe(true)
    const qpl = by.get('qpl')!
    if (!qpl.compiled) expect(qpl.reason).toMatch(/^not compiled: QPL not found at build time \(no \.deps\/qpl/)
    else expect(by.get('qpl:software')).toMatchObject({ available: true, path: 'software' })
    // Nothing here has an accelerator: no listing may claim hardware.
    expect(list.filter((b) => b.path === 'hardware' && !process.env.ZSTASH_EXPECT_HARDWARE)).toEqual([])
  })

  it('an unavailable hardware path is a BackendUnavailableError, not a silent fallback', async () => {
    const list = await backends()
    const hw = list.find((b) => b.name === 'qpl:hardware')!
    if (!hw.compiled || hw.available) return
    await expect(openDeviceBackend('qpl:hardware', { maxBatch: 8 })).rejects.toBeInstanceOf(BackendUnavailableError)
  })
})

// Referenced so the helper import is used even when the corpus is absent.
void makePage
