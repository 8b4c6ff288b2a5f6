/**
 * Device benchmark.
 *
 *   node dist/bench/devices.js [--pages N] [--engines 1,2,4,8,16] [--levels 0,1] [--latency-us 50,200] [--corpus node-64m|py-64m] [--json FILE]
 *
 * 1. sim (a simulated device: fixed per-page latency on N modelled engines):
 *    batched submit (8 pages per batch, one batch awaited at a time, as a folio
 *    store does) against sequential submit-and-wait (one page, await, next), at
 *    every engine count × ISA-L level × latency given — the table, not one point.
 *    The sim compresses for real, on its one engine thread, at the given ISA-L
 *    level; that host cost is serial, so where 8 pages' worth of it exceeds the
 *    latency the host, not the model, bounds the batched rate. Each batched row
 *    also shows the model's bound: min(engines, 8) pages per latency.
 * 2. dpdk:isal (compress_isal vdev) and qpl:software against the native ISA-L
 *    deflate-4k loop on this thread, measured in the same run.
 * Every row says which path ran and its threads. The sim is a model, not a hardware result.
 * Writes artifacts/devices-<time>.json.
 */
import { parseArgs } from 'node:util'
import { PAGE_SIZE, loadNative } from '../src/internals.js'
import { openDeviceBackend, type DeviceCompressBackend } from '../src/devices/index.js'
import { readCorpusPages, corpusAvailable, benchCorpus, type SharedCorpus } from './lib/corpus.js'
import { printTable, fmt } from './lib/table.js'
import { RunRecord } from './lib/run-record.js'

const { values } = parseArgs({
  options: {
    pages: { type: 'string', default: '4096' },
    engines: { type: 'string', default: '1,2,4,8,16' },
    levels: { type: 'string', default: '0,1' },
    'latency-us': { type: 'string', default: '50,200' },
    batch: { type: 'string', default: '8' },
    corpus: { type: 'string', default: 'node-64m' },
    repeat: { type: 'string', default: '3' },
    json: { type: 'string' },
  },
})
const corpusName = benchCorpus(values.corpus as SharedCorpus)
const maxPages = Number(values.pages)
const engineCounts = values.engines!.split(',').map(Number)
const levels = values.levels!.split(',').map(Number)
const latencies = values['latency-us']!.split(',').map(Number)
const batch = Number(values.batch)
const R = Number(values.repeat)
if (!corpusAvailable(corpusName)) throw new Error(`corpus ${corpusName} not found`)
const pages = readCorpusPages(corpusName, maxPages)
const count = pages.length / PAGE_SIZE
const native = loadNative()
const rec = new RunRecord('devices', { corpus: corpusName, pages: count, engines: engineCounts, levels, latencies_us: latencies, batch, repeat: R }, native.codecLibraries)
const opts = { threshold: PAGE_SIZE - 1, detectSameFilled: false, failPage: -1 }

let lastBytes = 0
async function run(b: DeviceCompressBackend, folioPages: number, n = count): Promise<number> {
  lastBytes = 0
  const t0 = performance.now()
  for (let first = 0; first < n; first += folioPages) {
    const k = Math.min(folioPages, n - first)
    const r = await b.compress(pages.subarray(first * PAGE_SIZE, (first + k) * PAGE_SIZE), k, opts)
    for (const st of r.status) lastBytes += st > 0 ? st : PAGE_SIZE
    r.release()
  }
  return (performance.now() - t0) / 1000
}

async function samples(fn: () => Promise<number>, times = R): Promise<number[]> {
  const s: number[] = []
  for (let i = 0; i < times; i++) s.push(await fn())
  return s
}

function cpuLoop(level: number): { seconds: number[]; bytes: number } {
  const codec = new native.Codec('deflate-4k', level)
  const out = new Uint8Array(count * PAGE_SIZE)
  const status = new Int32Array(count)
  const seconds: number[] = []
  for (let i = 0; i < R; i++) {
    const t0 = performance.now()
    for (let first = 0; first < count; first += 8) {
      codec.compressBatch(pages, first, Math.min(8, count - first), out, first, status, first, PAGE_SIZE - 1, false)
    }
    seconds.push((performance.now() - t0) / 1000)
  }
  let bytes = 0
  for (const s of status) bytes += s > 0 ? s : PAGE_SIZE
  return { seconds, bytes }
}

const pagesPerSec = (n: number, s: number[]) => ({ value: Math.max(...s.map((x) => n / x)), samples: s.map((x) => Math.round(n / x)) })

// 1. The simulated device.
const simPages = Math.min(count, 2048)
const seqPages = Math.min(simPages, 512)
const simRows: string[][] = []
const hostUs: Record<number, number> = {}
for (const level of levels) {
  const cpu = cpuLoop(level)
  hostUs[level] = (Math.min(...cpu.seconds) / count) * 1e6
  rec.add({ id: `devices/cpu/isal-l${level}/t1`, label: `native ISA-L deflate-4k level ${level} loop`, threads: 1, unit: 'pages/s', ...pagesPerSec(count, cpu.seconds), note: `ratio ${fmt(count * PAGE_SIZE / cpu.bytes, 2)}` })
  for (const latencyUs of latencies) {
    for (const engines of engineCounts) {
      const device = { engines, latencyUs, queueDepth: 64 }
      const batched = await openDeviceBackend('sim', { maxBatch: batch, level, device })
      const sequential = await openDeviceBackend('sim', { maxBatch: 1, level, device })
      await run(batched, batch, Math.min(simPages, 256)) // warm-up
      const tb = await samples(() => run(batched, batch, simPages))
      const ts = await samples(() => run(sequential, 1, seqPages), Math.max(2, R - 1))
      const base = `devices/sim/l${level}/lat${latencyUs}/e${engines}`
      const note = `1 host thread (the device engine thread) + the calling thread; ${engines} modelled engines; path ${batched.info.path}`
      const b = rec.add({ id: `${base}/batched`, label: `sim L${level} ${latencyUs} us ${engines} engines batched (${batch}/batch)`, threads: 1, unit: 'pages/s', ...pagesPerSec(simPages, tb), note })
      const s = rec.add({ id: `${base}/sequential`, label: `sim L${level} ${latencyUs} us ${engines} engines sequential`, threads: 1, unit: 'pages/s', ...pagesPerSec(seqPages, ts), note })
      const bound = (Math.min(engines, batch) * 1e6) / latencyUs
      b.vs = { vs_sequential: b.value / s.value, vs_model_bound: b.value / bound }
      simRows.push([String(level), String(latencyUs), String(engines), fmt(b.value, 0), fmt(s.value, 0), fmt(b.value / s.value, 2), fmt(Math.min(engines, batch), 0), fmt(bound, 0), fmt(b.value / bound, 2)])
      await batched.close()
      await sequential.close()
    }
  }
}

// 2./3. CPU-path devices against the ISA-L loop on this thread.
const cpuRows: string[][] = []
const cpu1 = cpuLoop(1)
const cpuRow = rec.add({ id: 'devices/cpu/isal-l1-ceiling/t1', label: 'native ISA-L deflate-4k level 1 loop (ceiling for CPU-path devices)', threads: 1, unit: 'pages/s', ...pagesPerSec(count, cpu1.seconds) })
cpuRows.push(['native ISA-L deflate-4k loop', 'cpu', '1', fmt(cpuRow.value, 0), fmt(count * PAGE_SIZE / cpu1.bytes, 2), 'ceiling'])
for (const name of ['dpdk:isal', 'qpl:software']) {
  let b: DeviceCompressBackend
  try {
    b = await openDeviceBackend(name, { maxBatch: 8 })
  } catch (err) {
    cpuRows.push([name, 'not run', '—', '—', '—', (err as Error).message.slice(0, 70)])
    rec.notes.push(`${name} not run: ${(err as Error).message}`)
    continue
  }
  for (const folio of [8, 512]) {
    await run(b, folio)
    const t = await samples(() => run(b, folio))
    const row = rec.add({ id: `devices/${name.replace(':', '-')}/folio${folio}`, label: `${name} (folio ${folio})`, threads: 1, unit: 'pages/s', ...pagesPerSec(count, t), note: `path ${b.info.path}; the device's engine thread + the calling thread` })
    row.ceiling_id = cpuRow.id
    row.ceiling = cpuRow.value
    row.ratio = row.value / cpuRow.value
    cpuRows.push([`${name} (folio ${folio})`, b.info.path, '1', fmt(row.value, 0), fmt(count * PAGE_SIZE / lastBytes, 2), `${fmt(row.ratio, 2)}x ceiling`])
  }
  await b.close()
}

const lines = [
  `zstash device benchmark — corpus ${corpusName}, ${count} pages; best of ${R}`,
  `sim: simulated device (not a hardware result), fixed per-page latency on N modelled engines, ${batch} pages per batch, one batch awaited at a time.`,
  `It encodes for real with ISA-L at the given level on its one engine thread (host cost ${levels.map((l) => `level ${l} ~${fmt(hostUs[l], 1)} us/page`).join(', ')}, the CPU loop below).`,
  printTable(['level', 'latency us', 'engines', 'batched pages/s', 'sequential pages/s', 'batched/seq', 'ideal x', 'model bound pages/s', 'batched/bound'], simRows),
  'ideal x = min(engines, pages per batch): the speedup the model allows; model bound = that many pages per latency.',
  '',
  'CPU-path devices (threads: the device engine thread; the calling thread waits)',
  printTable(['run', 'path', 'threads', 'pages/s', 'ratio', 'vs'], cpuRows),
]
for (const l of lines) console.log(l)
rec.notes.push(...lines)
console.log(`\nresults: ${rec.write(values.json)}`)
