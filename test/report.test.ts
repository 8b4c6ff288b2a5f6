/** Report tables: the letters' layout, thousands separators, "% change", and every output format. */
import { describe, expect, it } from 'vitest'
import { buildTable, renderText, renderMarkdown, renderJson, renderHtml, formatChange, percentChange } from '../dist/src/report/index.js'
import type { UsememResult } from '../dist/src/usemem/index.js'

describe('report', () => {
  const base = fakeResult('mm-unstable', { total: 7_191_949, elapsed: 93.21, sys: 2190.52, zswpout: 61_577_440 })
  const patched = fakeResult('v12', { total: 10_702_115, elapsed: 69.98, sys: 1651.51, zswpout: 71_448_317 })

  it('formats percent changes as the cover letters do', () => {
    expect(formatChange(percentChange(7_191_949, 10_702_115))).toBe('49%')
    expect(formatChange(percentChange(93.21, 69.98))).toBe('-25%')
    expect(formatChange(percentChange(6_258_312, 6_269_511))).toBe('0.2%')
    expect(formatChange(percentChange(0, 5))).toBe('')
  })

  it('prints the cover-letter table with a baseline', () => {
    const text = renderText(buildTable([base, patched], { baseline: 0 }))
    const row = (name: string) => text.split('\n').find((l) => l.startsWith(name + ' '))!.trim().split(/\s{2,}/)
    expect(row('Total throughput (KB/s)')).toEqual(['Total throughput (KB/s)', '7,191,949', '10,702,115', '49%'])
    expect(row('elapsed time (sec)')).toEqual(['elapsed time (sec)', '93.21', '69.98', '-25%'])
    expect(row('sys time (sec)')).toEqual(['sys time (sec)', '2,190.52', '1,651.51', '-25%'])
    expect(row('zswpout')).toEqual(['zswpout', '61,577,440', '71,448,317'])
    expect(text).toMatch(/^-+$/m)
    const order = ['Total throughput', 'Avg throughput', 'elapsed time', 'sys time', 'memcg_high', 'memcg_swap_fail', 'zswpout', 'pgmajfault']
    const at = order.map((n) => text.indexOf(n))
    expect(at).toEqual([...at].sort((a, b) => a - b))
  })

  it('renders Markdown, JSON and HTML from the same rows', () => {
    const t = buildTable([base, patched], { baseline: 0 })
    const md = renderMarkdown(t)
    expect(md).toContain('| Total throughput (KB/s) | 7,191,949 | 10,702,115 | 49% |')
    const json = JSON.parse(renderJson(t))
    expect(json.baseline).toBe('mm-unstable')
    expect(json.rows.find((r: { name: string }) => r.name === 'zswpout').values).toEqual([61_577_440, 71_448_317])
    const html = renderHtml(t)
    expect(html).toMatch(/^<!DOCTYPE html>/)
    expect(html).not.toMatch(/<script|<link|https?:\/\/(?!www\.w3\.org)/)
    expect((html.match(/<svg class="chart"/g) ?? []).length).toBeGreaterThanOrEqual(4)
  })

  it('rejects files that are not usemem results', () => {
    expect(() => buildTable([])).toThrow(expect.objectContaining({ code: 'ERR_ZSTASH_INVALID_ARGUMENT' }))
  })
})


/** A synthetic usemem result (numbers from the zswap batching cover letter). */
function fakeResult(label: string, v: { total: number; elapsed: number; sys: number; zswpout: number }): UsememResult {
  return {
    schema: 'zstash-usemem/1',
    label,
    command: `usemem --init-time -w -O -b 1 -s 10 -n 30 10g (${label})`,
    config: {
      size: 10 * 2 ** 30, tasks: 30, sleep: 10, initTime: true, random: false, repeat: 1, readAgain: false, data: 'usemem',
      data_description: 'usemem (word index)', limit: 150 * 2 ** 30, folio: '64k', compressor: 'deflate-iaa', workers: 0,
      verify: false, seed: 1, chunk: 1 << 20, label,
    },
    init_usecs: 1000,
    tasks: Array.from({ length: 30 }, () => ({ bytes: 1, usecs: 1, kbps: Math.round(v.total / 30) })),
    read_again: [],
    total_throughput_kbps: v.total,
    avg_throughput_kbps: Math.round(v.total / 30),
    read_again_total_kbps: 0,
    elapsed_sec: v.elapsed,
    user_sec: 1,
    sys_sec: v.sys,
    max_rss_bytes: 0,
    counters: {
      memcg_high: 1_056_505, memcg_swap_fail: 3_966, '64kB_swpout_fallback': 3_965, zswpout: v.zswpout, zswpin: 488,
      pswpout: 0, pswpin: 0, 'ZSWPOUT-64kB': 3_844_593, 'SWPOUT-64kB': 0, pgmajfault: 2_786, zswap_reject_compress_fail: 0,
    },
    store: { compressor: 'deflate-iaa', backend: 'iaa', stored_pages: 1, pool_total_size: 1, compressed_bytes: 1, compression_ratio: 3.1, same_filled_pages: 0 },
    verify: null,
    host: { node: 'v20', platform: 'linux', arch: 'x64', cpus: 2, cpu_model: 'test' },
    started_at: '2025-09-25T00:00:00.000Z',
  }
}
