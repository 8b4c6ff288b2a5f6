/**
 * Real memory pages for tests and benchmarks (raw 4096-byte pages, zstd-compressed).
 *
 *   node-64m, py-64m  the whole corpora, in ../shared/corpus (or ZSTASH_CORPUS_DIR);
 *                     a developer's and CI's machine has them, a user's clone does not.
 *   node-2k, py-2k    every 8th page of those (2048 pages each), shipped in
 *                     test/fixtures so tests run on real pages everywhere.
 *
 * Only the slice asked for is decompressed.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export type SharedCorpus = 'node-64m' | 'py-64m'
export type FixtureCorpus = 'node-2k' | 'py-2k'
export type CorpusName = SharedCorpus | FixtureCorpus

const here = path.dirname(fileURLToPath(import.meta.url))

/** The checkout's root: source (bench/lib) and built (dist/bench/lib) copies sit at different depths. */
function findRoot(from: string): string {
  for (let dir = from, i = 0; i < 6; i++, dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'test', 'fixtures'))) return dir
  }
  return path.resolve(from, '..', '..')
}

export const repoRoot = findRoot(here)
export const fixtureDir = path.join(repoRoot, 'test', 'fixtures')
export const corpusDir = process.env.ZSTASH_CORPUS_DIR ?? path.resolve(repoRoot, '..', 'shared', 'corpus')

const FIXTURES: Record<FixtureCorpus, SharedCorpus> = { 'node-2k': 'node-64m', 'py-2k': 'py-64m' }

function isFixture(name: CorpusName): name is FixtureCorpus {
  return name in FIXTURES
}

export function corpusFile(name: CorpusName): string {
  return path.join(isFixture(name) ? fixtureDir : corpusDir, `${name}.pages.zst`)
}

export function corpusAvailable(name: CorpusName): boolean {
  return existsSync(corpusFile(name))
}

/**
 * The corpus a benchmark should use: the whole shared one when it is there,
 * else its shipped sample (with a note on stderr, so a reader knows which ran).
 */
export function benchCorpus(name: SharedCorpus): CorpusName {
  if (corpusAvailable(name)) return name
  const sample = (Object.keys(FIXTURES) as FixtureCorpus[]).find((f) => FIXTURES[f] === name)!
  process.stderr.write(`note: ${name} not found in ${corpusDir}; using the shipped sample ${sample} (2048 pages)\n`)
  return sample
}

/** The first `maxPages` pages of a corpus (the whole corpus when maxPages is Infinity). */
export function readCorpusPages(name: CorpusName, maxPages: number): Uint8Array {
  const file = corpusFile(name)
  if (!existsSync(file)) throw new Error(`corpus ${name} not found at ${file}`)
  const bytes = Number.isFinite(maxPages) ? maxPages * 4096 : 1 << 30
  const out = execFileSync('sh', ['-c', `zstd -dc "$0" | head -c ${bytes}`, file], { maxBuffer: (1 << 30) + 1 })
  return new Uint8Array(out.buffer, out.byteOffset, out.length - (out.length % 4096))
}
