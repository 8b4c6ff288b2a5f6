// Worker threads that call every native entry point with wrong arguments in a
// tight loop, terminated at random moments (as piscina ends a worker, or as a
// test ends one mid-batch). In a terminating thread Node-API refuses to throw;
// the addon must then return quietly, never abort the process with a native
// fatal error. Run in a process of its own by test/native-arguments.test.ts;
// prints how many workers reached their loop before being terminated.
import { Worker } from 'node:worker_threads'

const rounds = Number(process.argv[2] ?? 40)
const body = `
const { parentPort } = require('node:worker_threads')
import(${JSON.stringify(new URL('../../dist/src/native.js', import.meta.url).href)}).then(({ loadNative }) => {
  const n = loadNative()
  const only = process.env.ZSTASH_TERMINATE_ONLY ? process.env.ZSTASH_TERMINATE_ONLY.split(',') : null
  const fns = Object.entries(n).filter(([k, f]) => typeof f === 'function' && (!only || only.includes(k))).map(([, f]) => f)
  const junk = [undefined, 1, 'x', {}, [], new Uint8Array(8), new Int32Array(4)]
  parentPort.postMessage('looping')
  for (let i = 0; ; i++) for (const f of fns) {
    try { f(junk[i % 7], junk[(i + 3) % 7], junk[(i + 5) % 7]) } catch {}
    try { new f(junk[i % 7], junk[(i + 1) % 7]) } catch {}
  }
})`
let looping = 0
for (let i = 0; i < rounds; i++) {
  const w = new Worker(body, { eval: true })
  w.on('error', () => {})
  // Terminate some while they load the addon, most while they loop.
  const reached = new Promise((resolve) => w.once('message', () => { looping++; resolve() }))
  if (i % 4 !== 0) await Promise.race([reached, new Promise((r) => setTimeout(r, 5000))])
  await new Promise((r) => setTimeout(r, Math.random() * 20))
  await w.terminate()
}
console.log(JSON.stringify({ rounds, looping }))
