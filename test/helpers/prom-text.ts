/**
 * A strict parser of Prometheus' text exposition format (version 0.0.4), for
 * tests: it throws on anything a Prometheus server would reject or that the
 * format forbids (bad names, unescaped label values, samples before their TYPE,
 * a family split in two, duplicate series, non-cumulative buckets, a +Inf
 * bucket that disagrees with _count), so a test that parses a scrape also
 * checks the exposition is valid.
 */
export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped'

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface Family {
  name: string
  type: MetricType
  help?: string
  samples: Sample[]
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

function parseValue(text: string, line: number): number {
  if (text === '+Inf') return Infinity
  if (text === '-Inf') return -Infinity
  if (text === 'NaN') return NaN
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`line ${line}: bad value '${text}'`)
  return Number(text)
}

function parseLabels(text: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {}
  let i = 1 // after '{'
  for (;;) {
    while (text[i] === ' ') i++
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) }
    const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i))
    if (!m) throw new Error(`line ${line}: bad label name at '${text.slice(i)}'`)
    const name = m[0]
    i += name.length
    if (text[i] !== '=' || text[i + 1] !== '"') throw new Error(`line ${line}: expected ="`)
    i += 2
    let value = ''
    for (;; i++) {
      const c = text[i]
      if (c === undefined) throw new Error(`line ${line}: unterminated label value`)
      if (c === '"') break
      if (c === '\\') {
        const e = text[++i]
        if (e === 'n') value += '\n'
        else if (e === '\\' || e === '"') value += e
        else throw new Error(`line ${line}: bad escape \\${e}`)
      } else if (c === '\n') throw new Error(`line ${line}: raw newline in label value`)
      else value += c
    }
    i++
    if (name in labels) throw new Error(`line ${line}: duplicate label ${name}`)
    if (!LABEL_NAME.test(name) || name.startsWith('__')) throw new Error(`line ${line}: reserved label ${name}`)
    labels[name] = value
    while (text[i] === ' ') i++
    if (text[i] === ',') i++
    else if (text[i] !== '}') throw new Error(`line ${line}: expected , or }`)
  }
}

/** The family a sample belongs to: histogram/summary samples carry suffixes. */
function familyOf(sample: string, families: Map<string, Family>): Family | undefined {
  const direct = families.get(sample)
  if (direct) return direct
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (sample.endsWith(suffix)) {
      const f = families.get(sample.slice(0, -suffix.length))
      if (f && (f.type === 'histogram' || (f.type === 'summary' && suffix !== '_bucket'))) return f
    }
  }
  return undefined
}

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>()
  const closed = new Set<string>()
  const series = new Set<string>()
  let current: Family | undefined
  if (text.length && !text.endsWith('\n')) throw new Error('exposition must end with a newline')
  text.split('\n').forEach((raw, idx) => {
    const line = idx + 1
    if (raw === '') return
    if (raw.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(raw)
      if (!m) return // a plain comment
      const [, kind, name, rest = ''] = m
      if (!NAME.test(name)) throw new Error(`line ${line}: bad metric name ${name}`)
      let f = families.get(name)
      if (f && closed.has(name)) throw new Error(`line ${line}: ${kind} for ${name} after its samples ended`)
      if (!f) {
        if (current) closed.add(current.name)
        f = { name, type: 'untyped', samples: [] }
        families.set(name, f)
        current = f
      }
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`line ${line}: bad type '${rest}'`)
        if (f.samples.length) throw new Error(`line ${line}: TYPE of ${name} after its samples`)
        if ((f as Family & { typed?: boolean }).typed) throw new Error(`line ${line}: second TYPE for ${name}`)
        ;(f as Family & { typed?: boolean }).typed = true
        f.type = rest as MetricType
      } else {
        if (f.help !== undefined) throw new Error(`line ${line}: second HELP for ${name}`)
        f.help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\')
      }
      return
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(.*)$/.exec(raw)
    if (!m) throw new Error(`line ${line}: not a sample: ${raw}`)
    const name = m[1]
    let rest = m[2]
    let labels: Record<string, string> = {}
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, line))
    const parts = rest.trim().split(/ +/)
    if (!rest.startsWith(' ') || parts.length < 1 || parts.length > 2) throw new Error(`line ${line}: expected ' value [timestamp]'`)
    const value = parseValue(parts[0], line)
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`line ${line}: bad timestamp`)
    let f = familyOf(name, families)
    if (!f) throw new Error(`line ${line}: sample ${name} has no TYPE/HELP before it`)
    if (f !== current) {
      if (closed.has(f.name)) throw new Error(`line ${line}: samples of ${f.name} are not contiguous`)
      if (current) closed.add(current.name)
      current = f
    }
    const key = name + JSON.stringify(Object.entries(labels).sort())
    if (series.has(key)) throw new Error(`line ${line}: duplicate series ${key}`)
    series.add(key)
    if (f.type === 'counter' && !(value >= 0)) throw new Error(`line ${line}: counter ${name} is ${value}`)
    if (f.type === 'histogram' && name.endsWith('_bucket') && !('le' in labels)) throw new Error(`line ${line}: bucket without le`)
    f.samples.push({ name, labels, value })
  })
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f)
  return families
}

function checkHistogram(f: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number; sum?: number }>()
  for (const s of f.samples) {
    const { le, ...rest } = s.labels
    const key = JSON.stringify(Object.entries(rest).sort())
    const g = groups.get(key) ?? { buckets: [] }
    groups.set(key, g)
    if (s.name === `${f.name}_bucket`) g.buckets.push([parseValue(le, 0), s.value])
    else if (s.name === `${f.name}_count`) g.count = s.value
    else if (s.name === `${f.name}_sum`) g.sum = s.value
    else throw new Error(`histogram ${f.name} has a sample ${s.name}`)
  }
  for (const g of groups.values()) {
    if (g.count === undefined || g.sum === undefined) throw new Error(`histogram ${f.name} lacks _count or _sum`)
    const b = g.buckets
    if (!b.length || b[b.length - 1][0] !== Infinity) throw new Error(`histogram ${f.name} lacks a +Inf bucket`)
    for (let i = 1; i < b.length; i++) {
      if (!(b[i][0] > b[i - 1][0])) throw new Error(`histogram ${f.name}: le not increasing`)
      if (b[i][1] < b[i - 1][1]) throw new Error(`histogram ${f.name}: buckets not cumulative`)
    }
    if (b[b.length - 1][1] !== g.count) throw new Error(`histogram ${f.name}: +Inf bucket ${b[b.length - 1][1]} ≠ count ${g.count}`)
  }
}

/** The value of one series, or undefined. */
export function sampleValue(families: Map<string, Family>, family: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const f = families.get(family)
  const want = JSON.stringify(Object.entries(labels).sort())
  return f?.samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want)?.value
}
