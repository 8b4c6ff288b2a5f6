/**
 * zstash usemem against the kernel's own zswap, same machine, same workload,
 * same compressor: N processes (kernel) / N tasks (zstash) each write SIZE of
 * usemem's word-index pattern and read it back verified, under a LIMIT, at 4 KiB
 * and at 64 KiB folios (the kernel's 64 KiB mTHP setting "never" / "always").
 * zstash runs two ways: its --limit bounding resident frames only ("uncharged"),
 * and with --charge-pool ("charged": frames + compressed pool under the limit,
 * as memcg charges zswap's pool to memory.max, so both sides have the same memory).
 * On demand only: it needs root, and the kernel side sets up a swap file, zswap
 * and a memory cgroup while it runs (the shared tools' kernel-zswap-baseline.sh,
 * which puts everything back). Never run in CI.
 *
 *   sudo node dist/bench/kernel-zswap.js [--repeat 3] [--compressor lzo] [--folios 4k,64k] [--tasks 4] [--size-mib 256] [--limit-mib 512] [--ways uncharged,charged]
 *
 * Prints each run's elapsed/user/sys time, then per folio size the best and the
 * range of both and the ratio zstash / kernel (goal: < 1 at 4 KiB, ≤ 0.7 at 64 KiB).
 * Writes artifacts/kernel-zswap-<time>.json. Exits 3, saying why, when this
 * machine cannot run the kernel side.
 */
import { parseArgs } from 'node:util'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { corpusDir, repoRoot } from './lib/corpus.js'
import { printTable, fmt } from './lib/table.js'
import { RunRecord } from './lib/run-record.js'

const { values } = parseArgs({
  options: {
    repeat: { type: 'string', default: '3' },
    compressor: { type: 'string', default: 'lzo' },
    folios: { type: 'string', default: '4k,64k' },
    tasks: { type: 'string', default: '4' },
    'size-mib': { type: 'string', default: '256' },
    'limit-mib': { type: 'string', default: '512' },
    ways: { type: 'string', default: 'uncharged,charged' },
    workers: { type: 'string' },
    json: { type: 'string' },
  },
})
const R = Number(values.repeat)
const comp = values.compressor!
const folios = values.folios!.split(',')
const tasks = Number(values.tasks)
const sizeMib = Number(values['size-mib'])
const limitMib = Number(values['limit-mib'])
const ways = values.ways!.split(',') as ('uncharged' | 'charged')[]
for (const w of ways) if (w !== 'uncharged' && w !== 'charged') throw new Error(`--ways takes uncharged and/or charged, got ${w}`)
const sharedTools = process.env.ZSTASH_SHARED_DIR ? path.join(process.env.ZSTASH_SHARED_DIR, 'tools') : path.join(path.dirname(corpusDir), 'tools')
const baseline = path.join(sharedTools, 'kernel-zswap-baseline.sh')
const cli = path.join(repoRoot, 'dist', 'src', 'cli', 'main.js')
const TIME = '/usr/bin/time'

/** Every reason this machine cannot run the kernel side; empty when it can. */
function preflight(): string[] {
  const why: string[] = []
  if (process.getuid?.() !== 0) why.push(`not root (uid ${process.getuid?.()}): the kernel side sets up swap, zswap and a cgroup`)
  if (!existsSync('/sys/module/zswap/parameters')) why.push('this kernel has no zswap (/sys/module/zswap/parameters is missing)')
  const v1 = existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes')
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers') && readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').split(/\s+/).includes('memory')
  if (!v1 && !v2) why.push('no memory cgroup controller (neither cgroup v1 /sys/fs/cgroup/memory nor v2 with "memory" at /sys/fs/cgroup)')
  if (existsSync('/proc/crypto') && !new RegExp(`^name\\s*:\\s*${comp}$`, 'm').test(readFileSync('/proc/crypto', 'utf8'))) {
    why.push(`the kernel's crypto API has no ${comp} (see /proc/crypto); zswap could not use it`)
  }
  if (!existsSync(baseline)) why.push(`${baseline} not found (set ZSTASH_SHARED_DIR to the folder holding tools/)`)
  if (!existsSync(TIME)) why.push(`${TIME} not found (Debian package "time")`)
  if (!existsSync(cli)) why.push(`${cli} not built (npm run setup)`)
  if (folios.some((f) => f === '64k') && !existsSync('/sys/kernel/mm/transparent_hugepage/hugepages-64kB/enabled')) {
    why.push('this kernel has no 64 KiB mTHP setting: the kernel side cannot use 64 KiB folios')
  }
  return why
}

interface Timed { elapsed: number; user: number; sys: number; maxRssKib?: number; output: string }

function timed(cmd: string, args: string[]): Timed {
  const r = spawnSync(TIME, ['-f', 'TIME elapsed %e s, user %U s, sys %S s, maxrss %M KiB', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 })
  const output = `${r.stdout}${r.stderr}`
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${output.slice(-2000)}`)
  // The baseline script prints its own /usr/bin/time line (the usemem run only); take the last one.
  const lines = [...output.matchAll(/elapsed ([\d.]+) s, user ([\d.]+) s, sys ([\d.]+) s(?:, maxrss (\d+) KiB)?/g)]
  const inner = lines.filter((m) => !m[0].includes('maxrss'))
  const m = inner.length ? inner[inner.length - 1] : lines[lines.length - 1]
  if (!m) throw new Error(`no timing line in the output of ${cmd}:\n${output.slice(-2000)}`)
  const outer = lines.find((l) => l[4] !== undefined)
  return { elapsed: Number(m[1]), user: Number(m[2]), sys: Number(m[3]), maxRssKib: outer ? Number(outer[4]) : undefined, output }
}

const why = preflight()
if (why.length) {
  console.log('kernel-zswap comparison cannot run on this machine:')
  for (const w of why) console.log(`  - ${w}`)
  process.exit(3)
}

const rec = new RunRecord('kernel-zswap', { tasks, size_mib: sizeMib, limit_mib: limitMib, compressor: comp, folios, repeat: R, ways }, '')
const work = mkdtempSync(path.join(tmpdir(), 'zstash-kernel-zswap-'))
const runRows: string[][] = []
const summary: string[][] = []
try {
  for (const folio of folios) {
    const mthp = folio === '64k' ? 'always' : 'never'
    const kernel: Timed[] = []
    const zstash = new Map(ways.map((w) => [w, { runs: [] as Timed[], own: [] as number[], pool: 0, charged: 0 }]))
    // Alternate the runs so drift on the host hits every side alike.
    for (let r = 0; r < R; r++) {
      const k = timed('bash', [baseline, String(tasks), String(sizeMib), String(limitMib), comp, mthp])
      if (/bad words [1-9]/.test(k.output)) throw new Error(`kernel run read back wrong data:\n${k.output}`)
      kernel.push(k)
      runRows.push([folio, 'kernel zswap', String(r + 1), fmt(k.elapsed, 2), fmt(k.user, 2), fmt(k.sys, 2), '—', '—'])
      for (const way of ways) {
        const z = zstash.get(way)!
        const json = path.join(work, `zstash-${folio}-${way}-${r}.json`)
        const zArgs = [cli, 'usemem', '-q', '-n', String(tasks), '--limit', `${limitMib}m`, '-r', '2', '--folio', folio, '--compressor', comp, '--json', json,
          ...(way === 'charged' ? ['--charge-pool'] : []), ...(values.workers ? ['--workers', values.workers] : []), `${sizeMib}m`]
        const t = timed(process.execPath, zArgs)
        const result = JSON.parse(readFileSync(json, 'utf8')) as { elapsed_sec: number; store: { pool_total_size: number }; counters: Record<string, number> }
        z.runs.push(t)
        z.own.push(result.elapsed_sec)
        z.pool = result.store.pool_total_size
        z.charged = result.counters.charged_bytes ?? 0
        runRows.push([folio, `zstash usemem, ${way}`, String(r + 1), fmt(t.elapsed, 2), fmt(t.user, 2), fmt(t.sys, 2), t.maxRssKib ? fmt(t.maxRssKib / 1024, 0) : '—', fmt(z.pool / 2 ** 20, 0)])
      }
    }
    const best = (t: Timed[]) => Math.min(...t.map((x) => x.elapsed))
    const range = (t: number[]) => `${fmt(Math.min(...t), 2)}–${fmt(Math.max(...t), 2)}`
    // CPU time (user + sys) of each side's best run: on a loaded host the steadier comparison.
    const cpu = (t: Timed[]) => Math.min(...t.map((x) => x.user + x.sys))
    const kRow = rec.add({ id: `kernel-zswap/${comp}/${folio}/kernel/elapsed`, label: `kernel zswap ${comp}, ${folio} folios (mTHP 64k ${mthp})`, threads: 2, unit: 's', value: best(kernel), samples: kernel.map((x) => x.elapsed), note: `${tasks} processes; sys ${range(kernel.map((x) => x.sys))} s` })
    const kCpu = rec.add({ id: `kernel-zswap/${comp}/${folio}/kernel/cpu`, label: `kernel zswap ${comp}, ${folio}: user + sys`, threads: 2, unit: 's', value: cpu(kernel) })
    for (const [way, z] of zstash) {
      // The uncharged rows keep their ids, so earlier JSON compares with them.
      const id = way === 'uncharged' ? 'zstash' : 'zstash-charged'
      const zRow = rec.add({ id: `kernel-zswap/${comp}/${folio}/${id}/elapsed`, label: `zstash usemem ${comp}, ${folio} folios, ${way === 'charged' ? 'frames + pool under the limit (--charge-pool)' : 'frames under the limit'}`, threads: 2, unit: 's', value: best(z.runs), samples: z.runs.map((x) => x.elapsed), note: `${tasks} tasks in one process, whole process (node start included); usemem's own elapsed ${range(z.own)} s; pool_total_size ${fmt(z.pool / 2 ** 20, 0)} MiB` })
      zRow.ceiling_id = kRow.id
      zRow.ceiling = kRow.value
      zRow.ratio = zRow.value / kRow.value
      const zCpu = rec.add({ id: `kernel-zswap/${comp}/${folio}/${id}/cpu`, label: `zstash usemem ${comp}, ${folio}, ${way}: user + sys`, threads: 2, unit: 's', value: cpu(z.runs), ceiling_id: kCpu.id, ceiling: kCpu.value, ratio: cpu(z.runs) / kCpu.value })
      summary.push([folio, way, `${fmt(kRow.value, 2)} (${range(kernel.map((x) => x.elapsed))})`, range(kernel.map((x) => x.sys)), `${fmt(zRow.value, 2)} (${range(z.runs.map((x) => x.elapsed))})`,
        range(z.own), fmt(zRow.ratio, 2), fmt(zCpu.ratio!, 2), folio === '64k' ? '≤ 0.70' : '< 1.00', fmt(z.pool / 2 ** 20, 0),
        way === 'charged' ? fmt(z.charged / 2 ** 20, 0) : `${fmt((limitMib * 2 ** 20 + z.pool) / 2 ** 20, 0)} (frames ≤ ${limitMib})`])
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true })
}

const lines = [
  `zstash usemem vs the kernel's zswap: ${tasks} × ${sizeMib} MiB under ${limitMib} MiB, ${comp}, written then verified, ${R} runs each (alternating)`,
  printTable(['folio', 'run', '#', 'elapsed s', 'user s', 'sys s', 'max RSS MiB', 'zstash pool MiB'], runRows),
  '',
  printTable(['folio', 'zstash way', 'kernel elapsed s best (range)', 'kernel sys s', 'zstash elapsed s best (range)', 'zstash usemem-own s', 'zstash / kernel elapsed', 'CPU (user+sys)', 'goal', 'zstash pool MiB', 'zstash charged MiB at end'], summary),
  'kernel: shared tools kernel-zswap-baseline.sh (usemem.c forked processes, swap file + zswap + memory cgroup limit; 64k = mTHP 64 KiB "always", 4k = "never").',
  `zstash: zstash usemem -n ${tasks} --limit ${limitMib}m -r 2 --folio F --compressor ${comp} [--charge-pool] ${sizeMib}m, timed as a whole process like the kernel's usemem.`,
  'uncharged: zstash\'s --limit bounds resident frames and its compressed pool lives outside it (up to limit + pool in use);',
  'charged: --charge-pool puts frames + pool under the one limit, as memcg charges the kernel\'s zswap pool: the like-for-like comparison.',
]
for (const l of lines) console.log(l)
rec.notes.push(...lines)
console.log(`\nresults: ${rec.write(values.json)}`)
