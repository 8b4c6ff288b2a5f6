/**
 * `zstash usemem` options: usemem's own letters where they make sense (-n, -s,
 * -r, -R, -Z, --init-time, -q) plus the zstash ones (--limit, --folio, …).
 * Parsed strictly: an unknown option is an error, not a silent no-op.
 */
import { parseArgs } from 'node:util'
import { availableParallelism } from 'node:os'
import { InvalidArgumentError } from '../errors.js'
import { PAGE_SIZE } from '../codecs/status.js'
import { FOLIO_PAGES, type FolioSize } from '../swapcache/options.js'
import { parseSize } from './size.js'
import { parseBackingSpec } from './backing-spec.js'
import type { BackingOptions } from '../tier/options.js'
import { FORMATS } from '../codecs/formats.js'

/** How --reread passes pick pages: in order, uniformly at random, or 80 % of reads to 20 % of the pages. */
export type RereadPattern = 'seq' | 'random' | 'skew'
export const REREAD_PATTERNS: readonly RereadPattern[] = ['seq', 'random', 'skew']
/** The long spellings the issue and the docs use. */
const REREAD_ALIASES: Record<string, RereadPattern> = { sequential: 'seq', skewed: 'skew' }

export interface UsememOptions {
  /** Bytes each task touches (usemem's SIZE). */
  size: number
  /** -n: async tasks sharing one SwapCache (one cgroup). */
  tasks: number
  /** -s: seconds each task sleeps after its passes, before freeing. */
  sleep: number
  /** --init-time: print the setup time, then restart the clock. */
  initTime: boolean
  /** -R: random word indexes (usemem pattern only). */
  random: boolean
  /** -r: passes; later passes verify the previous one ("Data wrong at offset"). */
  repeat: number
  /** -Z: read everything again and print a "read again" line. */
  readAgain: boolean
  /** usemem | zero | random | mix | corpus:FILE */
  data: string
  /** Resident limit shared by all tasks (memory.high analogue), bytes. */
  limit: number
  /** --charge-pool: the store's compressed pool counts against --limit too (memcg charging zswap's pool). */
  chargePool: boolean
  folio: FolioSize
  compressor: string
  workers: number
  /** Read every byte back at the end; mismatch → DataMismatchError. */
  verify: boolean
  quiet: boolean
  /** Progress bar on stderr: only when it is a TTY unless forced. */
  progress: boolean
  seed: number
  /** Bytes per synchronous chunk between awaits. Default min(1 MiB, limit/4). */
  chunk: number
  json: string | undefined
  label: string | undefined
  /** --pool-limit: the store's pool limit (maxPoolBytes), bytes; undefined: none. */
  poolLimit: number | undefined
  /** --backing: the tier below the pool; cold pages are written back to it when the pool is at its limit. */
  backing: BackingOptions | undefined
  /** --reread N: passes that read every task's data back after the write passes (timed and counted apart). */
  reread: number
  rereadPattern: RereadPattern
  /** The writeback scan's second chance (--no-second-chance: the hand takes pool entries in key order). */
  secondChance: boolean
  /** --recompress C[:LEVEL]: after the timed phases, rewrite the pool's pages with C (zram's recompress). */
  recompress: { compressor: string; level?: number } | undefined
  /** --dictionary: train a dictionary from the stored pages, switch to it, and recompress the pool into it. */
  dictionary: boolean
}

/** `zstd`, `zstd:9`: a CPU stream format and an optional level (the store checks the level's range). */
export function parseRecompressSpec(spec: string): { compressor: string; level?: number } {
  const m = /^([a-z0-9-]+)(?::(-?\d+))?$/.exec(spec)
  if (!m || !(FORMATS as readonly string[]).includes(m[1])) {
    throw new InvalidArgumentError(`--recompress must be one of ${FORMATS.join(', ')} with an optional :LEVEL, got ${JSON.stringify(spec)}`, 'ERR_ZSTASH_UNKNOWN_OPTION')
  }
  return m[2] === undefined ? { compressor: m[1] } : { compressor: m[1], level: Number(m[2]) }
}

export const USEMEM_USAGE = `usage: zstash usemem [options] SIZE[k|m|g|t]
  -n, --nproc N        N tasks, each touching SIZE (async tasks sharing one resident limit)
  -s, --sleep SEC      sleep SEC seconds when done, before freeing
  -r, --repeat N       N passes; passes after the first verify the data
  -R, --random         random access pattern
  -Z, --read-again     read memory again after access
  -q, --quiet          no dots, no progress bar
      --init-time      print the initialization time separately
  zstash:
      --limit SIZE     resident limit shared by all tasks (default: half of N×SIZE)
      --charge-pool    the compressed pool counts against --limit too, as memcg charges
                       zswap's pool to memory.max (default: --limit bounds resident frames)
      --folio 4k|64k|2m  folio size (default 64k)
      --compressor C   lz4 (default), zstd, deflate, deflate-4k, lzo
      --workers N      compression worker threads (default: CPUs, as PageStore)
      --data D         usemem (default) | zero | random | mix | corpus:FILE
      --verify         read every byte back at the end; exit 1 on any mismatch
      --json FILE      write the result as JSON (input of zstash report)
      --label TEXT     column name in reports (default: the compressor)
      --seed N         seed for -R and --data random
      --chunk SIZE     bytes written between awaits (default min(1m, limit/4))
      --progress       force the progress bar (default: only on a TTY)
  the tier below the pool (docs/writeback.md):
      --pool-limit SIZE  the store's pool limit (compressed bytes, zswap's max_pool_percent)
      --backing B      file | file:PATH | cluster:HOST:PORT[,HOST:PORT…]: write cold pages back
                       there when the pool is at its limit (needs --pool-limit)
      --backing-password P  cluster password (or ZSTASH_BACKING_PASSWORD in the environment)
      --reread N       N passes reading every page back after the write passes, each page checked
      --reread-pattern seq|random|skew  in order (default; also: sequential), uniformly
                       random pages, or 80 % of reads to 20 % of the pages (also: skewed;
                       seeded by --seed)
      --no-second-chance  the writeback scan ignores the referenced bit (for comparison)
  operating the store live (docs/recompress.md), after the timed phases, before --verify:
      --recompress C[:LEVEL]  rewrite the pool's pages with C (lz4, zstd, deflate, lzo…),
                       keeping a page only where it got smaller (zram's recompress)
      --dictionary     train a dictionary from the stored pages (zstd, or C of --recompress
                       when it is zstd or lz4), switch new stores to it, recompress into it`

function posInt(name: string, text: string | undefined, min: number, fallback: number): number {
  if (text === undefined) return fallback
  const n = Number(text)
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(text)}`, 'ERR_ZSTASH_OUT_OF_RANGE')
  return n
}

export function parseUsememArgs(argv: string[]): UsememOptions {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        nproc: { type: 'string', short: 'n' },
        sleep: { type: 'string', short: 's' },
        repeat: { type: 'string', short: 'r' },
        random: { type: 'boolean', short: 'R' },
        'read-again': { type: 'boolean', short: 'Z' },
        quiet: { type: 'boolean', short: 'q' },
        'init-time': { type: 'boolean' },
        limit: { type: 'string' },
        'charge-pool': { type: 'boolean' },
        folio: { type: 'string' },
        compressor: { type: 'string' },
        workers: { type: 'string' },
        data: { type: 'string' },
        verify: { type: 'boolean' },
        json: { type: 'string' },
        label: { type: 'string' },
        seed: { type: 'string' },
        chunk: { type: 'string' },
        progress: { type: 'boolean' },
        'pool-limit': { type: 'string' },
        backing: { type: 'string' },
        'backing-password': { type: 'string' },
        reread: { type: 'string' },
        'reread-pattern': { type: 'string' },
        'no-second-chance': { type: 'boolean' },
        recompress: { type: 'string' },
        dictionary: { type: 'boolean' },
      },
    })
  } catch (err) {
    const e = err as Error & { code?: string }
    const code = e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? 'ERR_ZSTASH_UNKNOWN_OPTION' : 'ERR_ZSTASH_INVALID_ARGUMENT'
    throw new InvalidArgumentError(`${e.message}\n${USEMEM_USAGE}`, code)
  }
  const { values: v, positionals } = parsed
  if (positionals.length !== 1) throw new InvalidArgumentError(`expected exactly one SIZE, got ${positionals.length}\n${USEMEM_USAGE}`)
  const size = parseSize(positionals[0], 'SIZE')
  const tasks = posInt('-n', v.nproc, 1, 1)
  const folio = (v.folio ?? '64k').toLowerCase()
  if (!(folio in FOLIO_PAGES)) throw new InvalidArgumentError(`--folio must be 4k, 64k or 2m, got ${JSON.stringify(v.folio)}`, 'ERR_ZSTASH_OUT_OF_RANGE')
  const folioBytes = FOLIO_PAGES[folio as FolioSize] * PAGE_SIZE
  const limit = v.limit !== undefined ? parseSize(v.limit, '--limit') : defaultLimit(size * tasks, folioBytes)
  return resolveUsemem({
    size,
    tasks,
    sleep: posInt('-s', v.sleep, 0, 0),
    initTime: v['init-time'] ?? false,
    random: v.random ?? false,
    repeat: posInt('-r', v.repeat, 1, 1),
    readAgain: v['read-again'] ?? false,
    data: v.data ?? 'usemem',
    limit,
    chargePool: v['charge-pool'] ?? false,
    folio: folio as FolioSize,
    compressor: v.compressor ?? 'lz4',
    workers: posInt('--workers', v.workers, 0, availableParallelism()),
    verify: v.verify ?? false,
    quiet: v.quiet ?? false,
    progress: v.progress ?? false,
    seed: posInt('--seed', v.seed, 0, 1),
    chunk: v.chunk !== undefined ? parseSize(v.chunk, '--chunk') : 0,
    json: v.json,
    label: v.label,
    poolLimit: v['pool-limit'] !== undefined ? parseSize(v['pool-limit'], '--pool-limit') : undefined,
    backing: v.backing !== undefined ? parseBackingSpec(v.backing, v['backing-password'] ?? process.env.ZSTASH_BACKING_PASSWORD) : undefined,
    reread: posInt('--reread', v.reread, 0, 0),
    rereadPattern: v['reread-pattern'] as RereadPattern | undefined,
    secondChance: !(v['no-second-chance'] ?? false),
    recompress: v.recompress !== undefined ? parseRecompressSpec(v.recompress) : undefined,
    dictionary: v.dictionary ?? false,
  })
}

function defaultLimit(total: number, folioBytes: number): number {
  return Math.max(2 * folioBytes, Math.floor(total / 2 / folioBytes) * folioBytes)
}

/** Fills defaults and checks cross-option rules, for the CLI and for programmatic callers. */
export function resolveUsemem(o: Partial<UsememOptions> & { size: number }): UsememOptions {
  const folio = o.folio ?? '64k'
  const folioBytes = FOLIO_PAGES[folio] * PAGE_SIZE
  const tasks = o.tasks ?? 1
  if (!Number.isSafeInteger(o.size) || o.size < 8 || o.size % 8 !== 0) {
    throw new InvalidArgumentError(`SIZE must be a positive multiple of 8 bytes, got ${o.size}`, 'ERR_ZSTASH_BAD_SIZE')
  }
  const limit = o.limit ?? defaultLimit(o.size * tasks, folioBytes)
  if (limit % folioBytes !== 0 || limit < 2 * folioBytes) {
    throw new InvalidArgumentError(`--limit must be a multiple of the folio size (${folioBytes}) and at least two folios, got ${limit}`, 'ERR_ZSTASH_BAD_SIZE')
  }
  const data = o.data ?? 'usemem'
  if (!/^(usemem|zero|random|mix|corpus:.+)$/.test(data)) {
    throw new InvalidArgumentError(`--data must be usemem, zero, random, mix or corpus:FILE, got ${JSON.stringify(data)}`, 'ERR_ZSTASH_UNKNOWN_OPTION')
  }
  if (o.random && data !== 'usemem') {
    throw new InvalidArgumentError(`-R writes usemem's word indexes; it cannot be combined with --data ${data}`, 'ERR_ZSTASH_INVALID_ARGUMENT')
  }
  let chunk = o.chunk || Math.min(1 << 20, Math.floor(limit / 4 / PAGE_SIZE) * PAGE_SIZE)
  chunk = Math.max(PAGE_SIZE, Math.floor(chunk / PAGE_SIZE) * PAGE_SIZE)
  if (chunk > limit / 2) throw new InvalidArgumentError(`--chunk must be at most half of --limit`, 'ERR_ZSTASH_OUT_OF_RANGE')
  const poolLimit = o.poolLimit
  if (poolLimit !== undefined && (!Number.isSafeInteger(poolLimit) || poolLimit < 16 * PAGE_SIZE)) {
    throw new InvalidArgumentError(`--pool-limit must be at least 64k, got ${poolLimit}`, 'ERR_ZSTASH_BAD_SIZE')
  }
  if (o.backing !== undefined && poolLimit === undefined) {
    throw new InvalidArgumentError('--backing needs --pool-limit: pages are written back when the pool is at its limit', 'ERR_ZSTASH_INVALID_ARGUMENT')
  }
  const secondChance = o.secondChance ?? true
  if (!secondChance && o.backing === undefined) {
    throw new InvalidArgumentError('--no-second-chance applies to writeback: it needs --backing', 'ERR_ZSTASH_INVALID_ARGUMENT')
  }
  const reread = o.reread ?? 0
  if (!Number.isSafeInteger(reread) || reread < 0) throw new InvalidArgumentError(`--reread must be an integer ≥ 0, got ${reread}`, 'ERR_ZSTASH_OUT_OF_RANGE')
  const rereadPattern = REREAD_ALIASES[o.rereadPattern as string] ?? o.rereadPattern ?? 'seq'
  if (!REREAD_PATTERNS.includes(rereadPattern)) {
    throw new InvalidArgumentError(`--reread-pattern must be ${REREAD_PATTERNS.join(', ')}, got ${JSON.stringify(rereadPattern)}`, 'ERR_ZSTASH_UNKNOWN_OPTION')
  }
  return {
    size: o.size,
    tasks,
    sleep: o.sleep ?? 0,
    initTime: o.initTime ?? false,
    random: o.random ?? false,
    repeat: o.repeat ?? 1,
    readAgain: o.readAgain ?? false,
    data,
    limit,
    chargePool: o.chargePool ?? false,
    folio,
    compressor: o.compressor ?? 'lz4',
    workers: o.workers ?? availableParallelism(),
    verify: o.verify ?? false,
    quiet: o.quiet ?? false,
    progress: o.progress ?? false,
    seed: o.seed ?? 1,
    chunk,
    json: o.json,
    label: o.label,
    poolLimit,
    backing: o.backing,
    reread,
    rereadPattern,
    secondChance,
    recompress: o.recompress,
    dictionary: dictionary(o),
  }
}

function dictionary(o: Partial<UsememOptions>): boolean {
  const on = o.dictionary ?? false
  if (on && o.recompress && o.recompress.compressor !== 'zstd' && o.recompress.compressor !== 'lz4') {
    throw new InvalidArgumentError(`--dictionary trains for zstd or lz4, not ${o.recompress.compressor}`, 'ERR_ZSTASH_INVALID_ARGUMENT')
  }
  return on
}
