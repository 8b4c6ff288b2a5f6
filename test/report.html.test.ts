/**
 * The HTML report in headless Chromium (Debian's package, driven by
 * playwright-core; no browser download): it loads without console errors,
 * shows its charts, and leaves a screenshot in artifacts/report.png.
 * Without /usr/bin/chromium the test fails in CI (CI=true) and skips elsewhere.
 */
import { describe, expect, it } from 'vitest'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { buildTable, renderHtml } from '../dist/src/report/index.js'
import { runUsemem, resolveUsemem, silentIo } from '../dist/src/usemem/index.js'

const CHROMIUM = '/usr/bin/chromium'
const haveChromium = existsSync(CHROMIUM)
const inCi = process.env.CI === 'true' || process.env.CI === '1'
const artifacts = path.resolve(__dirname, '..', 'artifacts')

if (!haveChromium && !inCi) console.warn(`report.html.test: ${CHROMIUM} not found (apt-get install chromium); skipping the browser check`)

describe('HTML report in Chromium', () => {
  it.runIf(!haveChromium && inCi)('needs Chromium in CI', () => {
    expect.fail(`${CHROMIUM} is missing: install Debian's chromium package (scripts/setup.sh with ZSTASH_EXTRA_APT=chromium)`)
  })

  it.runIf(haveChromium)('loads without console errors, shows the charts, and is screenshotted', async () => {
    const results = []
    for (const compressor of ['lz4', 'zstd']) {
      results.push(await runUsemem(resolveUsemem({ size: 2 << 20, tasks: 2, limit: 1 << 20, compressor, workers: 0 }), silentIo))
    }
    const html = renderHtml(buildTable(results, { baseline: 0 }))
    mkdirSync(artifacts, { recursive: true })
    const file = path.join(artifacts, 'report.html')
    writeFileSync(file, html)

    const { chromium } = await import('playwright-core')
    const profile = mkdtempSync(path.join(os.tmpdir(), 'zstash-chromium-'))
    // A fresh profile per run (playwright passes it as --user-data-dir).
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    })
    try {
      const page = context.pages()[0] ?? await context.newPage()
      const problems: string[] = []
      page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`) })
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
      page.on('requestfailed', (r) => problems.push(`requestfailed: ${r.url()}`))
      const requests: string[] = []
      page.on('request', (r) => requests.push(r.url()))
      await page.goto('file://' + file, { waitUntil: 'load' })
      expect(problems).toEqual([])
      expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]) // self-contained
      const charts = page.locator('svg.chart')
      expect(await charts.count()).toBeGreaterThanOrEqual(4)
      for (const id of ['chart-throughput', 'chart-time', 'chart-ratio']) {
        const box = await page.locator(`#${id}`).boundingBox()
        expect(box && box.width > 100 && box.height > 100).toBe(true)
        expect(await page.locator(`#${id} rect.bar`).count()).toBeGreaterThanOrEqual(2)
      }
      expect(await page.locator('#report-table').innerText()).toContain('Total throughput (KB/s)')
      const shot = path.join(artifacts, 'report.png')
      await page.screenshot({ path: shot, fullPage: true })
      expect(statSync(shot).size).toBeGreaterThan(10_000)
    } finally {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    }
  })
})
