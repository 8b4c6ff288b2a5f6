/**
 * Per-page codec calls, one thread: for each codec, the library's default
 * one-shot call against the alternatives and the call zstash ships, compress
 * and decompress MB/s and ratio on each corpus.
 *
 *  1. bench/native/codec_calls.cc, compiled here into a temporary directory with
 *     the addon's flags and the codec sources of native/codecs: every variant
 *     in one C++ process, rounds interleaved (same-filled pages dropped: a store
 *     never hands them to a codec).
 *  2. the addon's own loop (one compressBatch / decompressBatch call over all
 *     pages, same-filled detection on): what zstash's ceiling rows measure.
 *  3. pagebench.c from the shared tools, when it is there (report only).
 *
 * Run: npm run bench:codecs -- [--codecs lz4,zstd] [--corpora node-64m,py-64m] [--repeat 9] [--json FILE]
 * Needs a C++ compiler and pkg-config (scripts/setup.sh installs both).
 */
import { parseArgs } from 'node:util'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { PAGE_SIZE, loadNative } from '../src/internals.js'
import { readCorpusPages, corpusAvailable, corpusDir, repoRoot, type CorpusName } from './lib/corpus.js'
import { printTable, fmt } from './lib/table.js'
import { Ceiling } from './lib/ceiling.js'
import { RunRecord, throughput, spread } from './lib/run-record.js'

const { values } = parseArgs({
  options: {
    codecs: { type: 'string', default: 'lz4,zstd,deflate,deflate-4k,lzo' },
    corpora: { type: 'string', default: 'node-64m,py-64m' },
    repeat: { type: 'string', default: '9' },
    json: { type: 'string' },
  },
})
const codecs = values.codecs!.split(',')
const corpora = values.corpora!.split(',') as CorpusName[]
const R = Number(values.repeat)
const native = loadNative()
const rec = new RunRecord('codecs', { codecs, corpora, repeat: R }, native.codecLibraries)
const LIBS = ['libzstd', 'liblz4', 'libdeflate', 'libisal', 'lzo2']

interface VariantResult {
  codec: string; variant: string; role: 'default' | 'alternative' | 'chosen'; note: string; pages: number; pages_in_file: number
  compress_MBps: number; compress_MBps_median: number; decompress_MBps: number; decompress_MBps_median: number
  compress_cpu_MBps_median: number; decompress_cpu_MBps_median: number
  ratio: number; incompressible: number
}

/** Compiles a C/C++ program into a cache directory keyed by its sources; returns the binary. */
function build(name: string, compiler: string, sources: string[], flags: string[]): string {
  const hash = createHash('sha256')
  for (const s of sources) hash.update(readFileSync(s))
  hash.update(flags.join(' '))
  const dir = path.join(tmpdir(), `zstash-bench-${name}-${hash.digest('hex').slice(0, 12)}`)
  const bin = path.join(dir, name)
  if (existsSync(bin)) return bin
  mkdirSync(dir, { recursive: true })
  const pkg = execFileSync('pkg-config', ['--cflags', '--libs', ...LIBS, ...(name === 'pagebench' ? ['zlib'] : [])], { encoding: 'utf8' }).trim().split(/\s+/)
  execFileSync(compiler, [...flags, '-o', bin, ...sources, ...pkg], { stdio: ['ignore', 'ignore', 'inherit'] })
  return bin
}

const nativeDir = path.join(repoRoot, 'native')
const harnessSources = [
  path.join(repoRoot, 'bench', 'native', 'codec_calls.cc'),
  ...readdirSync(path.join(nativeDir, 'codecs')).filter((f) => f.endsWith('.cc')).map((f) => path.join(nativeDir, 'codecs', f)),
]
// The addon's flags (binding.gyp): -O2, C++17.
const harness = build('codec_calls', 'c++', harnessSources, ['-O2', '-std=c++17', '-Wno-deprecated-declarations'])
const sharedTools = process.env.ZSTASH_SHARED_DIR ? path.join(process.env.ZSTASH_SHARED_DIR, 'tools') : path.join(path.dirname(corpusDir), 'tools')
const pagebenchSource = path.join(sharedTools, 'pagebench.c')
let pagebench: string | undefined
if (existsSync(pagebenchSource)) {
  try {
    pagebench = build('pagebench', 'cc', [pagebenchSource], ['-O2'])
  } catch (err) {
    rec.notes.push(`pagebench.c did not build: ${(err as Error).message.split('\n')[0]}`)
  }
} else {
  rec.notes.push(`pagebench.c not found (${pagebenchSource}): C ceiling not run`)
}

const tables: string[] = []
for (const corpus of corpora) {
  if (!corpusAvailable(corpus)) {
    console.log(`corpus ${corpus} not found; skipped`)
    continue
  }
  const pages = readCorpusPages(corpus, Infinity)
  const bytes = pages.length
  const rawFile = path.join(tmpdir(), `zstash-bench-${process.pid}-${corpus}.pages`)
  writeFileSync(rawFile, pages)
  try {
    const out = execFileSync(harness, [rawFile, String(R), ...codecs], { encoding: 'utf8', maxBuffer: 1 << 24 })
    const results = out.trim().split('\n').map((l) => JSON.parse(l) as VariantResult)
    const rows: string[][] = []
    for (const codec of codecs) {
      const mine = results.filter((r) => r.codec === codec)
      const def = mine.find((r) => r.role === 'default')
      for (const r of mine) {
        const slug = r.role === 'chosen' ? 'zstash' : r.variant.replace(/[^A-Za-z0-9_]+/g, '-')
        const base = `codecs/${corpus}/${codec}/${slug}`
        const c = rec.add({ id: `${base}/compress/t1`, label: `${corpus} ${codec} ${r.variant} compress`, threads: 1, unit: 'MB/s', value: r.compress_MBps, samples: [r.compress_MBps, r.compress_MBps_median], note: `${r.role}: ${r.note}; samples = [best, median] of ${R} rounds over ${r.pages} non-same-filled pages` })
        const d = rec.add({ id: `${base}/decompress/t1`, label: `${corpus} ${codec} ${r.variant} decompress`, threads: 1, unit: 'MB/s', value: r.decompress_MBps, samples: [r.decompress_MBps, r.decompress_MBps_median] })
        const cc = rec.add({ id: `${base}/compress-cpu/t1`, label: `${corpus} ${codec} ${r.variant} compress, per CPU second`, threads: 1, unit: 'MB/s', value: r.compress_cpu_MBps_median, note: 'median over rounds of bytes / thread CPU time: time descheduled does not count' })
        const dc = rec.add({ id: `${base}/decompress-cpu/t1`, label: `${corpus} ${codec} ${r.variant} decompress, per CPU second`, threads: 1, unit: 'MB/s', value: r.decompress_cpu_MBps_median })
        rec.add({ id: `${base}/ratio`, label: `${corpus} ${codec} ${r.variant} ratio`, threads: 1, unit: 'x', value: r.ratio, note: `${r.incompressible} pages over the 4095-byte threshold count 4096` })
        const vsDef = (x: number, y: number) => (def && r !== def ? fmt(x / y, 2) : '—')
        if (def && r !== def) {
          c.vs = { vs_default: r.compress_MBps_median / def.compress_MBps_median }
          d.vs = { vs_default: r.decompress_MBps_median / def.decompress_MBps_median }
          cc.vs = { vs_default: r.compress_cpu_MBps_median / def.compress_cpu_MBps_median }
          dc.vs = { vs_default: r.decompress_cpu_MBps_median / def.decompress_cpu_MBps_median }
        }
        rows.push([codec, r.variant, r.role, fmt(r.compress_MBps_median, 0), fmt(r.compress_cpu_MBps_median, 0), fmt(r.decompress_MBps_median, 0), fmt(r.decompress_cpu_MBps_median, 0),
          fmt(r.ratio, 3), def ? vsDef(r.compress_cpu_MBps_median, def.compress_cpu_MBps_median) : '—', def ? vsDef(r.decompress_cpu_MBps_median, def.decompress_cpu_MBps_median) : '—'])
      }
    }
    tables.push(`\n${corpus}: per-page calls in one C++ process, 1 thread, ${results[0]?.pages ?? 0} non-same-filled pages of ${results[0]?.pages_in_file ?? 0}, ${R} interleaved rounds`)
    tables.push(printTable(['codec', 'call', 'role', 'comp MB/s', 'per CPU s', 'decomp MB/s', 'per CPU s', 'ratio', 'comp / default', 'decomp / default'], rows))

    // The addon's loop: one call over all pages through N-API, what zstash's ceilings run.
    const shared = new SharedArrayBuffer(bytes)
    new Uint8Array(shared).set(pages)
    const addonRows: string[][] = []
    for (const codec of codecs) {
      const ceil = await Ceiling.start(shared, codec, 1)
      const c = rec.add({ id: `codecs/${corpus}/${codec}/addon-loop/compress/t1`, label: `${corpus} ${codec} addon compressBatch loop`, threads: 1, unit: 'MB/s', ...throughput(bytes, await ceil.compress(R)), note: 'all pages, same-filled detection on' })
      const d = rec.add({ id: `codecs/${corpus}/${codec}/addon-loop/decompress/t1`, label: `${corpus} ${codec} addon decompressBatch loop`, threads: 1, unit: 'MB/s', ...throughput(bytes, await ceil.decompress(R)) })
      await ceil.close()
      addonRows.push([codec, spread(c), spread(d)])
    }
    tables.push(`\n${corpus}: the addon's loop (one compressBatch / decompressBatch call over all ${bytes / PAGE_SIZE} pages, same-filled detection on), best (min–max)`)
    tables.push(printTable(['codec', 'compress MB/s', 'decompress MB/s'], addonRows))

    if (pagebench) {
      const text = execFileSync(pagebench, [rawFile], { encoding: 'utf8' })
      tables.push(`\n${corpus}: pagebench.c (shared tools; report only, one pass, zero pages dropped)`)
      for (const line of text.trim().split('\n')) {
        tables.push(`  ${line}`)
        const m = /^(\S+)\s+comp\s+(\d+) MB\/s\s+decomp\s+(\d+) MB\/s\s+ratio\s+([\d.]+)/.exec(line)
        if (m) {
          rec.add({ id: `codecs/${corpus}/pagebench/${m[1]}/compress/t1`, label: `${corpus} pagebench ${m[1]} compress`, threads: 1, unit: 'MB/s', value: Number(m[2]) })
          rec.add({ id: `codecs/${corpus}/pagebench/${m[1]}/decompress/t1`, label: `${corpus} pagebench ${m[1]} decompress`, threads: 1, unit: 'MB/s', value: Number(m[3]) })
          rec.add({ id: `codecs/${corpus}/pagebench/${m[1]}/ratio`, label: `${corpus} pagebench ${m[1]} ratio`, threads: 1, unit: 'x', value: Number(m[4]) })
        }
      }
    }
  } finally {
    rmSync(rawFile, { force: true })
  }
}

const header = `zstash codec calls, 1 thread; ${native.codecLibraries}`
console.log(header)
for (const t of tables) console.log(t)
console.log('\nMB/s = median over the rounds of wall time; per CPU s = median of bytes per second of this thread\'s CPU time (time descheduled by other')
console.log('processes does not count: the steadier comparison on a shared host); / default = per CPU s against the library\'s default call;')
console.log('ratio = input / Σ min(compressed, 4096).')
rec.notes.push(header, ...tables)
console.log(`\nresults: ${rec.write(values.json)}`)
