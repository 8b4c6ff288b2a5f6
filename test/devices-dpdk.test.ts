/**
 * DPDK compressdev through the engine, on the compress_isal (and compress_zlib)
 * software vdevs: the same enqueue/dequeue code that drives compress_qat.
 * Checks round trips over real memory pages, stream interchange with the CPU
 * deflate-4k codec and Node's zlib, and that starting DPDK's EAL in-process
 * leaves the main thread's CPU affinity as it was.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { availableParallelism } from 'node:os'
import { readdirSync, readFileSync } from 'node:fs'
import { deflateRawSync, inflateRawSync } from 'node:zlib'
import { PAGE_SIZE, PageStatus, BackendUnavailableError, loadNative } from 'zstash/internals'
import { openDeviceBackend, backends, cpuAffinity, type DeviceCompressBackend } from '../dist/src/devices/index.js'
import { makeFolio } from './helpers/pages.js'
import { readCorpusPages } from './helpers/corpus.js'

const native = loadNative()
const dpdk = (native.devices as { kind: string; compiled: boolean; reason: string }[]).find((d) => d.kind === 'dpdk')!
const skipReason = dpdk.compiled ? '' : ` (skipped: ${dpdk.reason})`
const options = { threshold: PAGE_SIZE - 1, detectSameFilled: false, }

function threadAffinities(): Map<string, string> {
  const m = new Map<string, string>()
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const status = readFileSync(`/proc/self/task/${tid}/status`, 'utf8')
      m.set(tid, /Cpus_allowed_list:\s*(\S+)/.exec(status)?.[1] ?? '?')
    } catch { /* thread ended */ }
  }
  return m
}

const pagesN = 2048
const corpus = readCorpusPages('node-2k', pagesN)
const count = corpus.length / PAGE_SIZE
const toClose: DeviceCompressBackend[] = []
afterAll(async () => { for (const b of toClose) await b.close() })

describe.skipIf(!dpdk.compiled)(`dpdk:isal${skipReason}`, () => {
  let isal: DeviceCompressBackend
  let status: Int32Array
  let out: Uint8Array

  it('opens without moving any existing thread off its CPUs', async () => {
    const parallelism = availableParallelism()
    const mine = cpuAffinity()
    const threads = threadAffinities()
    isal = await openDeviceBackend('dpdk:isal', { maxBatch: 8 })
    toClose.push(isal)
    expect(availableParallelism()).toBe(parallelism)
    expect(cpuAffinity()).toEqual(mine)
    const after = threadAffinities()
    for (const [tid, cpus] of threads) if (after.has(tid)) expect(`${tid}:${after.get(tid)}`).toBe(`${tid}:${cpus}`)
    expect(isal.info).toMatchObject({ name: 'dpdk:isal', format: 'deflate-4k', path: 'software' })
    expect(isal.caps.driver).toBe('compress_isal')
    expect(isal.caps.notes).toMatch(/--no-huge/)
  })

  it(`compresses ${count} corpus pages; every stream inflates with ISA-L and with zlib (4 KiB window)`, async () => {
    const r = await isal.compress(corpus, count, options)
    status = r.status.slice()
    out = r.out.slice()
    r.release()
    const codec = new native.Codec('deflate-4k', 1)
    const back = new Uint8Array(PAGE_SIZE)
    let compressed = 0
    for (let i = 0; i < count; i++) {
      const page = corpus.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE)
      if (status[i] === PageStatus.Incompressible) continue
      expect(status[i]).toBeGreaterThan(0)
      compressed++
      const stream = out.subarray(i * PAGE_SIZE, i * PAGE_SIZE + status[i])
      expect(codec.decompress(stream, 0, status[i], back, 0)).toBe(PAGE_SIZE)
      expect(Buffer.compare(back, page)).toBe(0)
      expect(Buffer.compare(inflateRawSync(stream, { windowBits: 12 } as never), page)).toBe(0)
    }
    const s = isal.stats()
    expect(compressed).toBeGreaterThan(count / 2)
    expect(s.hw_completed).toBe(count)
    expect(s.sw_fallbacks).toBe(0)
    expect(s.device_errors).toBe(0)
  })

  it('decodes streams from the CPU deflate-4k codec and from zlib (windowBits 12)', async () => {
    const codec = new native.Codec('deflate-4k', 1)
    const n = 256
    const arena = new Uint8Array(n * PAGE_SIZE)
    const jobs = new Int32Array(n * 4)
    const cstatus = new Int32Array(n)
    codec.compressBatch(corpus, 0, n, arena, 0, cstatus, 0, PAGE_SIZE - 1, false)
    for (let i = 0; i < n; i++) {
      const page = corpus.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE)
      if (i % 2 === 1) {                                  // every other page: Node's zlib instead
        const z = deflateRawSync(page, { windowBits: 12, level: 6 } as never)
        if (z.length < PAGE_SIZE) { arena.set(z, i * PAGE_SIZE); cstatus[i] = z.length }
      }
      if (cstatus[i] <= 0) { arena.set(page, i * PAGE_SIZE); cstatus[i] = PAGE_SIZE }  // stored raw
      jobs.set([0, i * PAGE_SIZE, cstatus[i], i], i * 4)
    }
    const dst = new Uint8Array(n * PAGE_SIZE)
    const ds = new Int32Array(n)
    await isal.decompressArenas({ arenas: [arena], jobs, slots: new Uint8Array(n), sums: undefined, count: n, dst, status: ds })
    expect([...ds].every((s) => s === PAGE_SIZE)).toBe(true)
    expect(Buffer.compare(dst, corpus.subarray(0, n * PAGE_SIZE))).toBe(0)
    expect(isal.stats().hw_decompressed).toBeGreaterThan(n / 2)
    expect(isal.stats().decompress_fallbacks).toBe(0)
  })

  it('copy mode (pages copied into mbufs, as for hardware PMDs) gives the same streams', async () => {
    const copy = await openDeviceBackend('dpdk:isal', { maxBatch: 8, device: { zeroCopy: false, queueDepth: 16 } })
    toClose.push(copy)
    expect(copy.caps.notes).toMatch(/copied into mbufs/)
    const n = 128
    const r = await copy.compress(corpus, n, options)
    expect(Array.from(r.status)).toEqual(Array.from(status.subarray(0, n)))
    for (let i = 0; i < n; i++) if (r.status[i] > 0) expect(Buffer.compare(r.out.subarray(i * PAGE_SIZE, i * PAGE_SIZE + r.status[i]), out.subarray(i * PAGE_SIZE, i * PAGE_SIZE + status[i]))).toBe(0)
    r.release()
  })

  it('a device closed and opened again works (vdevs are reused)', async () => {
    for (let k = 0; k < 2; k++) {
      const b = await openDeviceBackend('dpdk:zlib', { maxBatch: 8 })
      expect(b.caps.notes).toMatch(/window 2\^12/)
      const r = await b.compress(corpus, 16, options)
      for (let i = 0; i < 16; i++) {
        if (r.status[i] <= 0) continue
        const back = inflateRawSync(r.out.subarray(i * PAGE_SIZE, i * PAGE_SIZE + r.status[i]), { windowBits: 12 } as never)
        expect(Buffer.compare(back, corpus.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE))).toBe(0)
      }
      r.release()
      await b.close()
    }
  })

  it('dpdk:qat without a QAT device is BackendUnavailableError with the reason', async () => {
    const err = await openDeviceBackend('dpdk:qat', { maxBatch: 8 }).catch((e) => e)
    if (!(err instanceof Error)) { toClose.push(err); return }   // a machine with QAT
    expect(err).toBeInstanceOf(BackendUnavailableError)
    expect(err.message).toMatch(/no free compress_qat device/)
  })

  it('backends({probe: true}) reports dpdk:isal as available on the software path', async () => {
    const list = await backends({ probe: true })
    expect(list.find((b) => b.name === 'dpdk:isal')).toMatchObject({ available: true, path: 'software', probed: true })
    expect(list.find((b) => b.name === 'dpdk:qat')).toMatchObject({ available: false, path: 'none' })
  })
})
