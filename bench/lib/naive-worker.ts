/** One thread of the naive alternative's parallel form: its own Map over its slice of the pages. */
import { parentPort, workerData } from 'node:worker_threads'
import { NaiveStore } from './naive-core.js'

const { pages, first, count } = workerData as { pages: SharedArrayBuffer; first: number; count: number }
const slice = new Uint8Array(pages, first * 4096, count * 4096)
const naive = new NaiveStore()
parentPort!.on('message', (op: 'clear' | 'store' | 'load' | 'verify') => {
  if (op === 'clear') naive.clear()
  else if (op === 'store') naive.store(slice, first, count)
  else if (op === 'load') naive.load(first, count)
  else naive.verify(slice, first, count)
  parentPort!.postMessage(naive.compressedBytes)
})
