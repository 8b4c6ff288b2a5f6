// Calls every native entry point of the addon with random junk arguments (and
// with a wrong `this`), in a process of its own: a native fatal error or a
// crash ends this process with a signal or a non-zero code, which the test
// (test/native-arguments.test.ts) reports. Every call must return or throw a
// JS Error; every returned promise must settle.
import { loadNative } from '../../dist/src/native.js'

const seed = Number(process.argv[2] ?? 1)
const callsPerFunction = Number(process.argv[3] ?? 3000)
let x = seed >>> 0 || 1
const rnd = () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) / 2 ** 32 }
const pick = (a) => a[Math.floor(rnd() * a.length)]

function detached() {
  const a = new Uint8Array(64)
  structuredClone(a.buffer, { transfer: [a.buffer] })
  return a
}

const junk = () => [
  undefined, null, true, 0, -1, 1, 7, 8, 4095, 4096, 4097, 1.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53),
  '1', 'lz4', 'zstd', '', {}, [], [new Uint8Array(8)], [undefined, new Uint8Array(4096)], Symbol('s'), () => 1, 1n,
  new Uint8Array(0), new Uint8Array(1), new Uint8Array(4096), new Uint8Array(8192), new Int32Array(1), new Int32Array(16),
  new Uint32Array(4), new Float64Array(2), new Uint16Array(3), new Uint8Array(new SharedArrayBuffer(4096)),
  new Int32Array(new SharedArrayBuffer(64)), new SharedArrayBuffer(8), new ArrayBuffer(8), detached(),
  new Proxy(new Uint8Array(4096), {}), new Proxy([new Uint8Array(4096)], {}), new DataView(new ArrayBuffer(8)),
  Object.create(Uint8Array.prototype), [new Proxy(new Uint8Array(8), {})],
  new Proxy([new Uint8Array(4096)], { get: () => { throw new Error('trap') } }),
]

const errors = new Map()
let calls = 0
const pending = []

function call(label, fn, self, args) {
  calls++
  try {
    const r = fn.apply(self, args)
    if (r && typeof r.then === 'function') pending.push(r.then(() => {}, (e) => count(label, e)))
  } catch (e) {
    count(label, e)
  }
}

function count(label, e) {
  if (!(e instanceof Error)) throw new Error(`${label} threw a non-Error: ${String(e)}`)
  errors.set(e.constructor.name, (errors.get(e.constructor.name) ?? 0) + 1)
}

function hammer(label, fn, self, maxArgs) {
  for (let i = 0; i < callsPerFunction; i++) {
    const n = Math.floor(rnd() * (maxArgs + 2))
    const pool = junk()
    call(label, fn, self, Array.from({ length: n }, () => pick(pool)))
  }
}

const native = loadNative()
const codec = new native.Codec('lz4', 1)
const zstd = new native.Codec('zstd', 1)
hammer('Codec', function (...a) { return new native.Codec(...a) }, undefined, 3)
for (const c of [codec, zstd]) {
  hammer('compressBatch', c.compressBatch, c, 10)
  hammer('decompress', c.decompress, c, 7)
  hammer('decompressBatch', c.decompressBatch, c, 7)
}
// Dictionary codecs (a raw-content dictionary), their options, and the trainer.
const dict = new Uint8Array(4096).map((_, i) => (i * 7) & 0xff)
const dictCodecs = [new native.Codec('zstd', 3, { dictionary: dict, id: 1 }), new native.Codec('zstd', 9, { dictionary: dict, id: 2, tables: true }), new native.Codec('lz4', 1, { dictionary: dict, id: 3 })]
for (const c of dictCodecs) {
  hammer('dict compressBatch', c.compressBatch, c, 10)
  hammer('dict decompress', c.decompress, c, 7)
  hammer('dict decompressBatch', c.decompressBatch, c, 7)
}
hammer('Codec options', function (...a) { return new native.Codec(pick(['zstd', 'lz4', 'deflate']), 3, ...a) }, undefined, 1)
hammer('Codec dictionary', function (...a) { return new native.Codec(pick(['zstd', 'lz4']), 3, { dictionary: a[0], id: a[1], tables: a[2], checksumFlag: a[3] }) }, undefined, 4)
const trap = () => { throw new Error('trap') }
const throwing = new Proxy({}, { get: trap })
for (const name of ['zstd', 'lz4']) {
  call('Codec throwing options', function () { return new native.Codec(name, 3, throwing) }, undefined, [])
  call('Codec throwing id', function () { return new native.Codec(name, 3, { dictionary: dict, get id() { return trap() } }) }, undefined, [])
  call('Codec throwing tables', function () { return new native.Codec(name, 3, { dictionary: dict, id: 1, get tables() { return trap() }, get checksumFlag() { return trap() } }) }, undefined, [])
}
hammer('trainDictionary', native.trainDictionary, undefined, 4)
call('trainDictionary throwing options', native.trainDictionary, undefined, [new Uint8Array(8192), new Uint32Array([4096, 4096]), 4096, throwing])
call('trainDictionary throwing k', native.trainDictionary, undefined, [new Uint8Array(8192), new Uint32Array([4096, 4096]), 4096, { get k() { return trap() } }])
hammer('dictionaryId', native.dictionaryId, undefined, 2)
hammer('dictionaryUsesTables', native.dictionaryUsesTables, undefined, 3)
hammer('fillPage', native.fillPage, undefined, 5)
hammer('copyObjects', native.copyObjects, undefined, 6)
hammer('checksum', native.checksum, undefined, 4)
hammer('checkObjects', native.checkObjects, undefined, 6)
hammer('cpuAffinity', native.cpuAffinity, undefined, 2)
hammer('openDevice', native.openDevice, undefined, 2)

// The native pool: its class, methods and batch entry points (docs/allocator.md).
const pool = new native.NativePool({ checksum: 1, maxBytes: 1 << 24 })
hammer('NativePool', function (...a) { return new native.NativePool(...a) }, undefined, 2)
for (const m of ['reserve', 'unreserve', 'reservedBytes', 'totalSize', 'stats', 'allocMany', 'slotRange', 'sizeClasses']) hammer(`pool.${m}`, pool[m], pool, 3)
const withPool = (fn, at) => function (...a) { a[at] = rnd() < 0.8 ? pool : a[at]; return fn(...a) }
const withCodec = (fn) => function (...a) { a[0] = rnd() < 0.8 ? codec : a[0]; a[1] = rnd() < 0.8 ? pool : a[1]; return fn(...a) }
hammer('compressBatchToPool', withCodec(native.compressBatchToPool), undefined, 12)
hammer('decompressFromPool', withCodec(native.decompressFromPool), undefined, 7)
hammer('decompressManyFromPool', withCodec(native.decompressManyFromPool), undefined, 9)
for (const name of ['readObjects', 'storeObjects', 'gatherObjects', 'putObjects', 'freeMany']) hammer(name, withPool(native[name], 0), undefined, 7)
hammer('checksumBytes', native.checksumBytes, undefined, 5)
hammer('livePools', native.livePools, undefined, 1)
for (const m of ['compact', 'close']) call(`pool.${m}`, pool[m], pool, [])
hammer('gatherObjects on a closed pool', withPool(native.gatherObjects, 0), undefined, 6)

const engine = await native.openDevice({ kind: 'sim', level: 1, maxBatch: 8, engines: 2, latencyUs: 1 })
hammer('engine.compress', engine.compress, engine, 8)
hammer('engine.decompress', engine.decompress, engine, 7)
hammer('engine.stats', engine.stats, engine, 2)

// Methods of one class on objects of another, or on plain objects.
const methods = [
  ['compressBatch', codec.compressBatch], ['decompress', codec.decompress], ['decompressBatch', codec.decompressBatch],
  ['pool.reserve', pool.reserve], ['pool.stats', pool.stats], ['pool.compact', pool.compact], ['pool.reservedBytes', pool.reservedBytes],
  ['engine.compress', engine.compress], ['engine.decompress', engine.decompress], ['engine.stats', engine.stats], ['engine.close', engine.close],
]
for (const [label, fn] of methods) {
  for (const self of [engine, codec, pool, {}, Object.create(Object.getPrototypeOf(codec)), Object.create(Object.getPrototypeOf(engine)), Object.create(Object.getPrototypeOf(pool)), undefined, 1]) {
    call(`${label} on a wrong this`, fn, self, [new Uint8Array(4096), 1, new Uint8Array(4096), 0, new Int32Array(1), 0, 4095, true])
  }
}

await Promise.all(pending)
await engine.close()
console.log(JSON.stringify({ calls, errors: Object.fromEntries(errors) }))
