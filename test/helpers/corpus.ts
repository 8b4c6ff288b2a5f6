export { readCorpusPages, corpusAvailable, corpusDir } from '../../bench/lib/corpus.js'
export type { CorpusName } from '../../bench/lib/corpus.js'
