/**
 * Inline SVG bar charts: no script, no external asset, so the page renders the
 * same from a file, a mail attachment or a CI artifact.
 */
const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7']

export const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`)

export interface Series {
  label: string
  values: number[]
}

/**
 * Grouped vertical bars: one group per category, one bar per series.
 * `format` labels each bar with its value.
 */
export function barChart(opts: { id: string; title: string; categories: string[]; series: Series[]; format: (n: number) => string; width?: number; height?: number }): string {
  const width = opts.width ?? 520
  const height = opts.height ?? 260
  const top = 36
  const bottom = 48
  const left = 16
  const plotH = height - top - bottom
  const max = Math.max(1e-9, ...opts.series.flatMap((s) => s.values.filter(Number.isFinite)))
  const groupW = (width - 2 * left) / Math.max(1, opts.categories.length)
  const barW = Math.max(6, Math.min(60, (groupW * 0.8) / Math.max(1, opts.series.length)))
  const parts: string[] = []
  parts.push(`<svg class="chart" id="${escapeXml(opts.id)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(opts.title)}">`)
  parts.push(`<title>${escapeXml(opts.title)}</title>`)
  parts.push(`<text x="${width / 2}" y="20" text-anchor="middle" class="chart-title">${escapeXml(opts.title)}</text>`)
  parts.push(`<line x1="${left}" y1="${top + plotH}" x2="${width - left}" y2="${top + plotH}" stroke="#999"/>`)
  opts.categories.forEach((cat, g) => {
    const gx = left + g * groupW + (groupW - barW * opts.series.length) / 2
    opts.series.forEach((s, i) => {
      const v = s.values[g]
      if (!Number.isFinite(v)) return
      const h = (Math.max(0, v) / max) * plotH
      const x = gx + i * barW
      const y = top + plotH - h
      parts.push(`<rect class="bar" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${PALETTE[i % PALETTE.length]}"><title>${escapeXml(`${s.label} ${cat}: ${opts.format(v)}`)}</title></rect>`)
      parts.push(`<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(y - 4).toFixed(1)}" text-anchor="middle" class="bar-value">${escapeXml(opts.format(v))}</text>`)
    })
    parts.push(`<text x="${(left + g * groupW + groupW / 2).toFixed(1)}" y="${top + plotH + 18}" text-anchor="middle" class="category">${escapeXml(cat)}</text>`)
  })
  // Legend along the bottom.
  let lx = left
  for (const [i, s] of opts.series.entries()) {
    parts.push(`<rect x="${lx}" y="${height - 16}" width="10" height="10" fill="${PALETTE[i % PALETTE.length]}"/>`)
    parts.push(`<text x="${lx + 14}" y="${height - 7}" class="legend">${escapeXml(s.label)}</text>`)
    lx += 24 + s.label.length * 7
  }
  parts.push('</svg>')
  return parts.join('')
}
