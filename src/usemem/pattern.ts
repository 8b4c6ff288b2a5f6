/**
 * Page contents. 'usemem' copies vm-scalability's do_access(): every 8-byte
 * word holds its word index within the task's area (so no page is same-filled).
 * Every kind is a pure function of (task, page), so any pass can verify.
 */
import { readFileSync } from 'node:fs'
import { InvalidArgumentError } from '../errors.js'
import { PAGE_SIZE } from '../codecs/status.js'

export type DataKind = 'usemem' | 'zero' | 'random' | 'mix' | 'corpus'

export interface DataSource {
  readonly kind: DataKind
  readonly description: string
  /** Writes page `page` of task `task` into dst[at, at + PAGE_SIZE). */
  fill(task: number, page: number, dst: Uint8Array, at: number): void
}

const WORDS = PAGE_SIZE / 8

function fillUsemem(page: number, dst: Uint8Array, at: number): void {
  // Two u32 halves per word: BigInt writes would cost ~10× as much, and indexes stay below 2^53.
  const u32 = new Uint32Array(dst.buffer, dst.byteOffset + at, PAGE_SIZE / 4)
  const first = page * WORDS
  const hi = Math.floor(first / 2 ** 32)
  let lo = first >>> 0
  for (let i = 0; i < PAGE_SIZE / 4; i += 2) {
    u32[i] = lo
    u32[i + 1] = hi
    lo = (lo + 1) >>> 0
  }
  if (hi !== Math.floor((first + WORDS - 1) / 2 ** 32)) {
    // The page straddles 2^32 words: slow path, exact.
    const view = new DataView(dst.buffer, dst.byteOffset + at, PAGE_SIZE)
    for (let i = 0; i < WORDS; i++) view.setBigUint64(i * 8, BigInt(first + i), true)
  }
}

function fillRandom(seed: number, task: number, page: number, dst: Uint8Array, at: number): void {
  const u32 = new Uint32Array(dst.buffer, dst.byteOffset + at, PAGE_SIZE / 4)
  let x = (Math.imul(page + 1, 0x9e3779b1) ^ Math.imul(task + 1, 0x85ebca6b) ^ seed) >>> 0 || 1
  for (let i = 0; i < u32.length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5
    u32[i] = x >>> 0
  }
}

/** Parses --data: usemem | zero | random | mix | corpus:FILE. */
export function dataSource(spec: string, seed: number): DataSource {
  if (spec === 'usemem') return { kind: 'usemem', description: 'usemem (word index)', fill: (_t, p, d, a) => fillUsemem(p, d, a) }
  if (spec === 'zero') return { kind: 'zero', description: 'zero pages', fill: (_t, _p, d, a) => d.fill(0, a, a + PAGE_SIZE) }
  if (spec === 'random') return { kind: 'random', description: 'random (incompressible)', fill: (t, p, d, a) => fillRandom(seed, t, p, d, a) }
  if (spec === 'mix') {
    // 1/8 same-filled, 1/8 incompressible, the rest usemem: every store path in one run.
    return {
      kind: 'mix',
      description: 'mix: 1/8 zero, 1/8 random, 6/8 usemem',
      fill: (t, p, d, a) => {
        const k = p & 7
        if (k === 0) d.fill(0, a, a + PAGE_SIZE)
        else if (k === 1) fillRandom(seed, t, p, d, a)
        else fillUsemem(p, d, a)
      },
    }
  }
  if (spec.startsWith('corpus:')) {
    const file = spec.slice('corpus:'.length)
    let bytes: Buffer
    try {
      bytes = readFileSync(file)
    } catch (err) {
      throw new InvalidArgumentError(`--data corpus: cannot read ${JSON.stringify(file)}: ${(err as Error).message}`)
    }
    const pages = Math.floor(bytes.length / PAGE_SIZE)
    if (pages === 0) throw new InvalidArgumentError(`--data corpus: ${JSON.stringify(file)} is shorter than one page`)
    const corpus = new Uint8Array(bytes.buffer, bytes.byteOffset, pages * PAGE_SIZE)
    return {
      kind: 'corpus',
      description: `corpus ${file} (${pages} pages, cycled)`,
      fill: (t, p, d, a) => d.set(corpus.subarray(((p + t * 7919) % pages) * PAGE_SIZE, (((p + t * 7919) % pages) + 1) * PAGE_SIZE), a),
    }
  }
  throw new InvalidArgumentError(`--data must be usemem, zero, random, mix or corpus:FILE, got ${JSON.stringify(spec)}`, 'ERR_ZSTASH_UNKNOWN_OPTION')
}
