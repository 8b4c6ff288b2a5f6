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
