/**
 * usemem: exact output format, option parsing, and a small verified run
 * through the CLI (2 tasks × 16 MiB under an 8 MiB limit) and the function.
 */
import { describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {
  throughputLine, initTimeLine, kbPerSec, parseSize, parseUsememArgs, resolveUsemem, runUsemem, silentIo, DataMismatchError, USEMEM_SCHEMA,
} from '../dist/src/usemem/index.js'
import { buildTable, renderText, renderMarkdown } from '../dist/src/report/index.js'

const cli = path.resolve(__dirname, '../dist/src/cli/main.js')

describe('usemem format', () => {
  it('matches the published usemem line byte for byte', () => {
    // usemem -a -n 1 $((4000*1024*1024)) → "4718592000 bytes / 114937822 usecs = 40091 KB/s"
    expect(throughputLine(4718592000, 114937822)).toBe('4718592000 bytes / 114937822 usecs = 40091 KB/s')
    expect(throughputLine(1000, 10, 'read again ')).toBe('read again 1000 bytes / 10 usecs = 97656 KB/s')
    expect(kbPerSec(10, 0)).toBe(0)
    expect(initTimeLine(3_000_042)).toBe('the initialization time is 3 secs 42 usecs')
    expect(new DataMismatchError(0, 0x40, 8n, 0n).message).toMatch(/^Data wrong at offset 0x40\. Expected 0x00000008, got 0x00000000/)
  })

  it('parses sizes and options like usemem, strictly', () => {
    expect(parseSize('10g')).toBe(10 * 2 ** 30)
    expect(parseSize('1536M')).toBe(1536 * 2 ** 20)
    expect(parseSize('4096')).toBe(4096)
    expect(() => parseSize('12q')).toThrow(expect.objectContaining({ code: 'ERR_ZSTASH_BAD_SIZE' }))
    const o = parseUsememArgs(['--init-time', '-n', '3', '-s', '0', '-r', '2', '-Z', '--limit', '4m', '--folio', '2m', '16m'])
    expect(o).toMatchObject({ tasks: 3, repeat: 2, readAgain: true, initTime: true, limit: 4 << 20, folio: '2m', size: 16 << 20 })
    expect(() => parseUsememArgs(['--nope', '1m'])).toThrow(expect.objectContaining({ code: 'ERR_ZSTASH_UNKNOWN_OPTION' }))
    expect(() => parseUsememArgs(['--limit', '100k', '1m'])).toThrow(expect.objectContaining({ code: 'ERR_ZSTASH_BAD_SIZE' }))
    expect(() => parseUsememArgs(['-R', '--data', 'zero', '1m'])).toThrow(expect.objectContaining({ code: 'ERR_ZSTASH_INVALID_ARGUMENT' }))
    expect(() => parseUsememArgs(['--data', 'bogus', '1m'])).toThrow(expect.objectContaining({ code: 'ERR_ZSTASH_UNKNOWN_OPTION' }))
  })
})

describe('usemem run', () => {
  it('runs 2 tasks × 16 MiB under an 8 MiB limit through the CLI and verifies every byte', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'zstash-usemem-'))
    const json = path.join(dir, 'r.json')
    const r = spawnSync(process.execPath, [cli, 'usemem', '--init-time', '-n', '2', '--limit', '8m', '--verify', '-r', '2', '--json', json, '16m'], { encoding: 'utf8' })
    expect(r.stderr).toBe('') // not a TTY: no progress bar
    expect(r.status).toBe(0)
    const lines = r.stdout.split('\n')
    expect(lines[0]).toMatch(/^the initialization time is \d+ secs \d+ usecs$/)
    // size/8 + 2 passes × size
    expect(lines.filter((l) => /^\.?\d+ bytes \/ \d+ usecs = \d+ KB\/s$/.test(l.replace(/^\.+/, '')))).toHaveLength(2)
    expect(r.stdout).toContain(`${(16 << 20) / 8 + 2 * (16 << 20)} bytes / `)
    expect(r.stdout).toContain('verify: 32 MiB read back, all correct')
    const result = JSON.parse(readFileSync(json, 'utf8'))
    expect(result.schema).toBe(USEMEM_SCHEMA)
    expect(result.tasks).toHaveLength(2)
    expect(result.counters.zswpout).toBeGreaterThan(0)
    expect(result.counters.pgmajfault).toBeGreaterThan(0)
    expect(result.verify).toEqual({ checked_bytes: 32 << 20, ok: true })
    expect(result.sys_sec).toBeGreaterThanOrEqual(0)
  })

  it('exits 2 with a coded message on bad usage', () => {
    const r = spawnSync(process.execPath, [cli, 'usemem', '--limit', '3k', '1m'], { encoding: 'utf8' })
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('ERR_ZSTASH_BAD_SIZE')
  })

  it('runs random access, read-again and mixed data with counters that add up', async () => {
    const lines: string[] = []
    const io = { ...silentIo, line: (t: string) => lines.push(t) }
    const random = await runUsemem(resolveUsemem({ size: 512 << 10, tasks: 2, limit: 256 << 10, folio: '4k', random: true, readAgain: true, verify: true, workers: 0 }), io)
    expect(random.verify?.ok).toBe(true)
    expect(lines.filter((l) => l.startsWith('read again '))).toHaveLength(2)
    const mix = await runUsemem(resolveUsemem({ size: 4 << 20, tasks: 1, limit: 1 << 20, data: 'mix', folio: '4k', verify: true, workers: 0 }), silentIo)
    expect(mix.verify?.ok).toBe(true)
    expect(mix.store.same_filled_pages).toBeGreaterThan(0)
    expect(mix.counters['incompressible pages']).toBeGreaterThan(0)
    expect(mix.counters['ZSWPOUT-4kB']).toBe(mix.counters.zswpout)
  })
})

describe('usemem: the tier below the pool, re-read, recompress', () => {
  it('parses the tier, re-read and recompress flags strictly', () => {
    const o = parseUsememArgs(['--pool-limit', '1m', '--backing', 'file', '--reread', '2', '--reread-pattern', 'skewed', '--no-second-chance', '--recompress', 'zstd:9', '--dictionary', '8m'])
    expect(o).toMatchObject({ poolLimit: 1 << 20, backing: { type: 'file' }, reread: 2, rereadPattern: 'skew', secondChance: false, recompress: { compressor: 'zstd', level: 9 }, dictionary: true })
    expect(parseUsememArgs(['--reread', '1', '--reread-pattern', 'sequential', '1m']).rereadPattern).toBe('seq')
    expect(parseUsememArgs(['--pool-limit', '1m', '--backing', 'cluster:127.0.0.1:7000,127.0.0.1:7001', '1m']).backing).toMatchObject({ type: 'cluster', nodes: ['127.0.0.1:7000', '127.0.0.1:7001'] })
    const bad = (argv: string[], code: string) => expect(() => parseUsememArgs([...argv, '1m'])).toThrow(expect.objectContaining({ code }))
    bad(['--backing', 'file'], 'ERR_ZSTASH_INVALID_ARGUMENT') // needs --pool-limit
    bad(['--pool-limit', '1m', '--backing', 'tape'], 'ERR_ZSTASH_UNKNOWN_OPTION')
    bad(['--no-second-chance'], 'ERR_ZSTASH_INVALID_ARGUMENT') // needs --backing
    bad(['--reread-pattern', 'zigzag'], 'ERR_ZSTASH_UNKNOWN_OPTION')
    bad(['--recompress', 'brotli'], 'ERR_ZSTASH_UNKNOWN_OPTION')
    bad(['--recompress', 'deflate', '--dictionary'], 'ERR_ZSTASH_INVALID_ARGUMENT')
    bad(['--pool-limit', '4k'], 'ERR_ZSTASH_BAD_SIZE')
  })

  it('writes cold pages to a file past --pool-limit, re-reads them skewed, and every counter adds up', async () => {
    const lines: string[] = []
    const io = { ...silentIo, line: (t: string) => lines.push(t) }
    const r = await runUsemem(resolveUsemem({
      size: 8 << 20, tasks: 2, limit: 2 << 20, folio: '4k', workers: 0, verify: true,
      poolLimit: 512 << 10, backing: { type: 'file' }, reread: 1, rereadPattern: 'skew',
    }), io)
    expect(r.verify).toEqual({ checked_bytes: 16 << 20, ok: true })
    const t = r.tier!
    expect(t.backing).toBe('file')
    expect(t.written_back_pages).toBeGreaterThan(0)
    expect(t.pswpout).toBe(t.written_back_pages)
    expect(r.counters.written_back_pages).toBe(t.written_back_pages)
    expect(r.counters.pswpin).toBe(t.pswpin)
    expect(t.writeback_fail + t.backing_load_fail + t.reject_reclaim_fail).toBe(0)
    // Swap-ins come from one tier or the other; the latency histograms counted the same pages.
    expect(t.load_latency_us.backing.pages).toBe(t.pswpin)
    expect(t.load_latency_us.pool.pages).toBe(r.counters.zswpin)
    expect(t.load_latency_us.backing.count).toBeGreaterThan(0)
    expect(t.load_latency_us.backing.p99).toBeGreaterThanOrEqual(t.load_latency_us.backing.p50)
    const rr = r.reread!
    expect(rr.reads).toBe(2 * (8 << 20) / 4096)
    expect(rr.pswpin).toBeGreaterThan(0)
    expect(rr.pswpin_per_1000_reads).toBeCloseTo((1000 * rr.pswpin) / rr.reads, 6)
    expect(lines.filter((l) => l.startsWith('reread skew '))).toHaveLength(2)
    // The pool stayed under its limit (plus the allocator's slack for a folio).
    expect(r.store.pool_total_size).toBeLessThanOrEqual((512 << 10) + 40 * 4096)
    const text = renderText(buildTable([r]))
    for (const row of ['written_back_pages', 'pswpin', 'swap-in µs p99, backing store', 'reread pswpin per 1,000 reads', 'backing store bytes']) expect(text).toContain(row)
  }, 60_000)

  it('recompresses into a dictionary trained from the stored pages; the report shows before and after', async () => {
    const lines: string[] = []
    const io = { ...silentIo, line: (t: string) => lines.push(t) }
    const r = await runUsemem(resolveUsemem({ size: 4 << 20, tasks: 1, limit: 1 << 20, data: 'mix', folio: '4k', workers: 0, verify: true, dictionary: true }), io)
    expect(r.verify?.ok).toBe(true)
    const rc = r.recompress!
    expect(rc.target).toBe('zstd:3+dictionary')
    expect(rc.dictionary_name).toMatch(/^zstd\+dict\d+$/)
    expect(rc.pages).toBeGreaterThan(0)
    expect(rc.saved_bytes).toBe(rc.before.compressed_bytes - rc.after.compressed_bytes)
    expect(rc.after.compression_ratio).toBeGreaterThan(rc.before.compression_ratio)
    expect(lines.some((l) => l.startsWith('recompress zstd:3+dictionary: '))).toBe(true)
    const md = renderMarkdown(buildTable([r]))
    expect(md).toContain('| **recompress (before / after)** |')
    expect(md).toMatch(/\| compression ratio after \| \d+\.\d\d \|/)
  }, 60_000)

  it('main job: the tier phase sends pages pool -> file -> back and prints the tier rows (small sizes)', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'zstash-main-'))
    const r = spawnSync(process.execPath, [cli, 'main', '--size', '4m', '--tasks', '1', '--limit', '2m', '--compressors', 'lz4', '--workers', '1',
      '--recompress', 'zstd:3', '--tier-size', '8m', '--tier-tasks', '1', '--tier-limit', '2m', '--tier-pool-limit', '512k', '--out', out], { encoding: 'utf8' })
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toContain('recompress target')
    expect(r.stdout).toMatch(/tier: [1-9]\d* pages written back to the file, [1-9]\d* read back from it \(pswpin\)/)
    expect(r.stdout).toContain('every byte verified: yes')
    expect(r.stdout).toContain('swap-in µs p50, backing store')
    const tier = JSON.parse(readFileSync(path.join(out, 'main-tier-results.json'), 'utf8'))
    expect(tier[0].tier.written_back_pages).toBeGreaterThan(0)
    expect(readFileSync(path.join(out, 'main-tier-report.md'), 'utf8')).toContain('| **tier below the pool** |')
  }, 60_000)
})
