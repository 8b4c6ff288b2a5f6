/**
 * Slices of the real memory corpora in ../shared/corpus (raw 4096-byte pages,
 * zstd-compressed). Only the slice asked for is decompressed.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export type CorpusName = 'node-64m' | 'py-64m'

const here = path.dirname(fileURLToPath(import.meta.url))
// Source (bench/lib) and built (dist/bench/lib) copies sit at different depths below the repository.
function findCorpusDir(from: string): string {
  for (let dir = from, i = 0; i < 6; i++, dir = path.dirname(dir)) {
    const candidate = path.join(dir, '..', 'shared', 'corpus')
    if (existsSync(candidate)) return path.resolve(candidate)
  }
  return path.resolve(from, '..', '..', '..', 'shared', 'corpus')
}

export const corpusDir = process.env.ZSTASH_CORPUS_DIR ?? findCorpusDir(here)

export function corpusAvailable(name: CorpusName): boolean {
  return existsSync(path.join(corpusDir, `${name}.pages.zst`))
}

/** The first `maxPages` pages of a corpus (the whole corpus when maxPages is Infinity). */
export function readCorpusPages(name: CorpusName, maxPages: number): Uint8Array {
  const file = path.join(corpusDir, `${name}.pages.zst`)
  const bytes = Number.isFinite(maxPages) ? maxPages * 4096 : 1 << 30
  const out = execFileSync('sh', ['-c', `zstd -dc "$0" | head -c ${bytes}`, file], { maxBuffer: (1 << 30) + 1 })
  return new Uint8Array(out.buffer, out.byteOffset, out.length - (out.length % 4096))
}
