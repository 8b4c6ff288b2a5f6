/** `zstash report --compare`: two bench runs, rows matched by id, values, % change and ratios. */
import { describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { report } from 'zstash/internals'

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'src', 'cli', 'main.js')

function run(commit: string, rows: report.BenchRow[]): report.BenchRun {
  return {
    schema: report.BENCH_SCHEMA, bench: 'pool', command: 'dist/bench/pool.js', started_at: '2026-11-30T10:00:00.000Z', finished_at: '2026-11-30T10:01:00.000Z',
    git: { commit, dirty: false, branch: 'main' },
    machine: { hostname: 'h', cpus: 2, cpu_model: 'cpu', memory_bytes: 1, kernel: 'k', node: 'v20', loadavg_start: [0.5], loadavg_end: [0.5] },
    libraries: 'lz4', params: {}, rows, notes: [],
  }
}

const ceilA = { id: 'pool/ceiling/node/lz4/compress/t2', label: 'ceiling', threads: 2, unit: 'MB/s', value: 1000 }
const a = run('aaaaaaaaaaaa', [
  ceilA,
  { id: 'pool/store/node/lz4/zstash/t2', label: 'store', threads: 2, unit: 'MB/s', value: 450, ceiling_id: ceilA.id, ceiling: 1000, ratio: 0.45, vs: { vs_naive_t1: 1.5 } },
  { id: 'pool/only-in-a', label: 'gone', threads: 1, unit: 'µs', value: 2.5 },
])
const b = run('bbbbbbbbbbbb', [
  { ...ceilA, value: 800 },
  { id: 'pool/store/node/lz4/zstash/t2', label: 'store', threads: 2, unit: 'MB/s', value: 720, ceiling_id: ceilA.id, ceiling: 800, ratio: 0.9, vs: { vs_naive_t1: 2 } },
  { id: 'pool/only-in-b', label: 'new', threads: 1, unit: 'MB/s', value: 10 },
])

describe('compareRuns', () => {
  const t = report.compareRuns(a, b)
  const row = (id: string) => t.rows.find((r) => r.id === id)!

  it('matches rows by id and computes % change of values and of ratios', () => {
    expect(row('pool/store/node/lz4/zstash/t2').values).toEqual([450, 720])
    expect(row('pool/store/node/lz4/zstash/t2').change).toBeCloseTo(60)
    expect(row('pool/store/node/lz4/zstash/t2').ratios).toEqual([0.45, 0.9])
    expect(row('pool/store/node/lz4/zstash/t2').ratioChange).toBeCloseTo(100)
    expect(row('pool/ceiling/node/lz4/compress/t2').change).toBeCloseTo(-20)
    expect(row('pool/store/node/lz4/zstash/t2:vs_naive_t1').values).toEqual([1.5, 2])
  })

  it('keeps rows found in one run only, with the other side empty', () => {
    expect(row('pool/only-in-a').values).toEqual([2.5, null])
    expect(row('pool/only-in-b').values).toEqual([null, 10])
    expect(row('pool/only-in-b').change).toBeNull()
    expect(t.rows.map((r) => r.id).indexOf('pool/only-in-b')).toBe(t.rows.length - 1)
  })

  it('flags a row whose thread count differs between the runs', () => {
    const b2 = run('c', [{ ...ceilA, threads: 1 }])
    expect(report.compareRuns(a, b2).threadMismatches).toEqual([ceilA.id])
    expect(report.renderCompare(report.compareRuns(a, b2), 'text')).toContain('2→1')
  })

  it('renders text and Markdown with both values and the change', () => {
    const text = report.renderCompare(t, 'text')
    expect(text).toMatch(/pool\/store\/node\/lz4\/zstash\/t2\s+2\s+MB\/s\s+450\s+720\s+60%\s+0\.45\s+0\.90\s+100%/)
    expect(text).toContain('aaaaaaaaa')
    const md = report.renderCompare(t, 'md')
    expect(md).toContain('| pool/store/node/lz4/zstash/t2 | 2 | MB/s | 450 | 720 | 60% | 0.45 | 0.90 | 100% |')
    expect(md.split('\n')[2]).toBe('| row | threads | unit | A | B | % change | ratio A | ratio B | ratio % change |')
    const json = JSON.parse(report.renderCompare(t, 'json'))
    expect(json.rows.find((r: report.CompareRow) => r.id === ceilA.id).values).toEqual([1000, 800])
  })

  it('refuses a file that is not a bench run', () => {
    expect(() => report.checkBenchRun({ schema: 'zstash-usemem/1' }, 'x.json')).toThrow(expect.objectContaining({ code: 'ERR_ZSTASH_BAD_RESULT' }))
    expect(() => report.checkBenchRun({ ...a, rows: [{ id: 'r', value: 'fast', threads: 1 }] }, 'x.json')).toThrow(/row 0/)
  })
})

describe('zstash report --compare', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'zstash-compare-'))
  const fa = path.join(dir, 'a.json')
  const fb = path.join(dir, 'b.json')
  writeFileSync(fa, JSON.stringify(a))
  writeFileSync(fb, JSON.stringify(b))
  const zstash = (...args: string[]) => spawnSync(process.execPath, [cli, 'report', ...args], { encoding: 'utf8' })

  it('prints the comparison as text, or Markdown into a file', () => {
    const r = zstash('--compare', fa, fb)
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('% change')
    expect(r.stdout).toMatch(/zstash\/t2\s+2\s+MB\/s\s+450\s+720\s+60%/)
    const out = path.join(dir, 'cmp.md')
    expect(zstash('--compare', fa, fb, '--out', out).status).toBe(0)
  })

  it('rejects one file, html, and a usemem result with exit 2 and a code', () => {
    let r = zstash('--compare', fa)
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('exactly two')
    r = zstash('--compare', fa, fb, '--format', 'html')
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('ERR_ZSTASH_UNKNOWN_OPTION')
    writeFileSync(path.join(dir, 'u.json'), JSON.stringify({ schema: 'zstash-usemem/1' }))
    r = zstash('--compare', fa, path.join(dir, 'u.json'))
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('ERR_ZSTASH_BAD_RESULT')
    rmSync(dir, { recursive: true, force: true })
  })
})
