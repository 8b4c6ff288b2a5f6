/**
 * The store's compressors over time: zswap's runtime compressor switch.
 *
 * One backend is current: new stores use it. A store or batched load captures
 * the backend it starts with and holds it (acquire … release) until it ends,
 * so setCompressor() never closes a backend under work in flight: the
 * replaced backend is retired and closes when its last user ends. Entries
 * need no backend to be read (every slot decodes on the CPU: codec-slots.ts).
 *
 * Also here, because they follow the current backend: where folios for it
 * are staged (a worker pool's threads map their staging ring at start, so a
 * new pool gets a new ring), dictionaries trained from the pages stored now,
 * and the drift check that retrains the current dictionary when the ratio of
 * the pages stored with it falls.
 */
import { ClosedError, InvalidArgumentError } from '../errors.js'
import { PAGE_SIZE } from '../codecs/status.js'
import { formatId } from '../codecs/formats.js'
import type { BackendInfo, CompressBackend } from '../codecs/backend.js'
import { trainDictionary, DEFAULT_DICTIONARY_BYTES, type DictionaryFormat } from '../codecs/dictionary.js'
import type { StorePool } from '../allocator/object-pool.js'
import { EntryKind, type EntryTable } from '../entries/entry-table.js'
import { Staging } from '../folio/staging.js'
import { isDeviceCompressor } from '../devices/index.js'
import type { CodecSlots, SlotDictionary } from './codec-slots.js'
import type { ZswapCounters } from './counters.js'
import { resolveOptions, type ResolvedOptions } from './options.js'
import { openBackend, STAGING_PAGES } from './open-backend.js'

/** What setCompressor() takes besides the compressor's name. */
export interface SetCompressorOptions {
  level?: number
  dictionary?: boolean | Uint8Array
  dictionaryBytes?: number
}

/** What the backends need from the store. */
export interface BackendsHost {
  /** The store's options: a new backend inherits everything but the compressor and level. */
  readonly options: Readonly<ResolvedOptions>
  /** The pool every backend allocates in. */
  readonly pool: StorePool
  readonly slots: CodecSlots
  readonly counters: ZswapCounters
  /** Training samples come from the stored entries, read back as pages. */
  readonly entries: EntryTable
  /** Writes the entry positioned by entries.find() as one page at dst[offset]; returns PAGE_SIZE or a DecodeStatus. */
  readEntry(kind: EntryKind, dst: Uint8Array, offset: number): number
  /** Tracks a switch until it settles (close() waits for it). */
  track<T>(op: Promise<T>): Promise<T>
  isClosing(): boolean
  /** Tests wrap every backend the store opens (OpenHooks.wrapBackend); identity otherwise. */
  wrap(backend: CompressBackend): CompressBackend
}

/** Pages per dictionary drift window, and the ratio loss that makes the store train a new dictionary. */
const DRIFT_WINDOW = 4096
const DRIFT_TOLERANCE = 0.1

export class Backends {
  private backend: CompressBackend
  private staging: Staging | undefined
  /** Stores and batched loads in flight per backend: a backend replaced by setCompressor() closes when its last one ends. */
  private readonly users = new Map<CompressBackend, number>()
  private readonly retired = new Set<CompressBackend>()
  private switching: Promise<void> | undefined
  private retraining: Promise<void> | undefined
  /**
   * Dictionary drift: the stored bytes of each window of DRIFT_WINDOW pages
   * published with the current dictionary, against the first window's. When a
   * window is more than DRIFT_TOLERANCE worse, a new dictionary is trained from
   * the pages stored now (in the background; the next stores use it).
   */
  private readonly drift = { slot: -1, pages: 0, bytes: 0, baseline: 0 }

  constructor(backend: CompressBackend, private readonly host: BackendsHost) {
    this.backend = backend
    this.staging = backend.synchronous ? undefined : new Staging(STAGING_PAGES, backend.stagingBuffer)
  }

  /** The backend new stores use. */
  get current(): CompressBackend {
    return this.backend
  }

  /** A store or batched load uses `backend`: it stays open until the last one ends, even once replaced. */
  acquire(backend: CompressBackend): void {
    this.users.set(backend, (this.users.get(backend) ?? 0) + 1)
  }

  release(backend: CompressBackend): void {
    const users = (this.users.get(backend) ?? 1) - 1
    if (users > 0) {
      this.users.set(backend, users)
      return
    }
    this.users.delete(backend)
    if (this.retired.delete(backend)) void backend.close().catch(() => undefined)
  }

  /**
   * Where a folio for `backend` is staged: in the memory its threads mapped at
   * start when it has some (a task then names pages by offset), so a switch to
   * another worker pool starts a new staging ring; folios staged in the old one
   * give their pages back to it.
   */
  stagingFor(backend: CompressBackend): Staging {
    if (!this.staging || (backend.stagingBuffer && this.staging.buffer !== backend.stagingBuffer)) {
      this.staging = new Staging(STAGING_PAGES, backend.stagingBuffer)
    }
    return this.staging
  }

  /** The current backend as stats() reports it: its info, its counters and the staging ring's. */
  stats(): BackendInfo & { counters: Record<string, number> } {
    return { ...this.backend.info, counters: { ...this.backend.stats(), ...this.staging?.stats() } }
  }

  /** See PageStore.setCompressor(). Bad options reject; switches apply in call order. */
  setCompressor(compressor: string, options: SetCompressorOptions = {}): Promise<void> {
    try {
      if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('setCompressor options must be an object')
      for (const key of Object.keys(options)) {
        if (!['level', 'dictionary', 'dictionaryBytes'].includes(key)) throw new InvalidArgumentError(`unknown setCompressor option '${key}'`, 'ERR_ZSTASH_UNKNOWN_OPTION')
      }
      const { device, maxBatch, workers, incompressibleThreshold, sameFilled, storeIncompressible } = this.host.options
      // storeIncompressible too: a CPU backend keeps raw pages in the pool itself.
      const resolved = resolveOptions(
        { compressor, level: options.level, device, workers, incompressibleThreshold, sameFilled, storeIncompressible, ...(isDeviceCompressor(compressor) ? {} : { maxBatch }) },
        isDeviceCompressor, workers,
      )
      const dictionary = options.dictionary
      if (dictionary !== undefined && typeof dictionary !== 'boolean' && !(dictionary instanceof Uint8Array)) {
        throw new InvalidArgumentError("option 'dictionary' must be a boolean or a Uint8Array")
      }
      if (dictionary && resolved.format !== 'zstd' && resolved.format !== 'lz4') {
        throw new InvalidArgumentError(`dictionaries are for zstd and lz4, not ${compressor}`)
      }
      // Switches are applied one after the other, in call order.
      const next = (this.switching ?? Promise.resolve()).catch(() => undefined).then(() => this.switchTo(resolved, dictionary, options.dictionaryBytes))
      this.switching = next
      return this.host.track(next)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  private async switchTo(resolved: ResolvedOptions, dictionary: boolean | Uint8Array | undefined, dictionaryBytes: number | undefined): Promise<void> {
    const { slots } = this.host
    let dict: SlotDictionary | undefined
    if (dictionary) {
      const format = resolved.format as DictionaryFormat
      const bytes = dictionary instanceof Uint8Array ? dictionary : await this.trainFromStored(format, resolved.level!, dictionaryBytes)
      const ids = new Set(slots.liveDictionaryIds())
      let id = 1
      while (ids.has(id)) id++
      const shared = new Uint8Array(new SharedArrayBuffer(bytes.length))
      shared.set(bytes)
      dict = { bytes: shared, id, format, level: resolved.level! }
    }
    const backend = this.host.wrap(await openBackend(resolved, this.host.pool, dict))
    if (this.host.isClosing()) {
      await backend.close()
      throw new ClosedError()
    }
    const slot = dict ? slots.addDictionary(dict) : formatId(backend.info.format)
    const old = this.backend
    this.backend = backend
    slots.use(slot)
    this.host.counters.compressor_switches++
    if (this.users.has(old)) this.retired.add(old)
    else await old.close().catch(() => undefined)
  }

  /** A dictionary trained from up to 2048 stored pages spread over the table (decoded here, trained off-thread). */
  private async trainFromStored(format: DictionaryFormat, level: number, capacity?: number): Promise<Uint8Array> {
    const { entries } = this.host
    const keys = new Uint32Array(2048)
    const stride = Math.max(1, Math.floor(entries.size / keys.length))
    let n = 0
    let cursor = 0
    let skip = 0
    const one = new Uint32Array(1)
    while (n < keys.length && cursor >= 0) {
      const found = entries.select(cursor, 1, one, (kind) => kind === EntryKind.Compressed || kind === EntryKind.Raw)
      cursor = found.next
      if (found.count === 0) break
      if (skip++ % stride === 0) keys[n++] = one[0]
    }
    if (n < 8) throw new InvalidArgumentError(`training a dictionary needs stored pages to learn from (found ${n})`)
    const samples = new Uint8Array(n * PAGE_SIZE)
    let got = 0
    for (let i = 0; i < n; i++) {
      const kind = entries.find(keys[i])
      if ((kind === EntryKind.Compressed || kind === EntryKind.Raw) && this.host.readEntry(kind, samples, got * PAGE_SIZE) === PAGE_SIZE) got++
    }
    const trained = await trainDictionary(samples.subarray(0, got * PAGE_SIZE), undefined, { capacity: capacity ?? DEFAULT_DICTIONARY_BYTES, level })
    this.host.counters.dictionaries_trained++
    return trained.bytes
  }

  /** Counts a folio published with dictionary `slot` (its pages and stored bytes) towards the drift check. */
  recordDrift(slot: number, pages: number, bytes: number): void {
    const { slots } = this.host
    if (!slots.isDictionarySlot(slot) || slot !== slots.current) return
    const d = this.drift
    if (d.slot !== slot) Object.assign(d, { slot, pages: 0, bytes: 0, baseline: 0 })
    d.pages += pages
    d.bytes += bytes
    if (d.pages < DRIFT_WINDOW) return
    const ratio = (d.pages * PAGE_SIZE) / Math.max(1, d.bytes)
    d.pages = d.bytes = 0
    if (d.baseline === 0) {
      d.baseline = ratio
    } else if (ratio < d.baseline * (1 - DRIFT_TOLERANCE) && !this.host.isClosing() && !this.retraining) {
      const dict = slots.dictionary(slot)!
      this.host.counters.dictionary_retrains++
      this.retraining = this.setCompressor(this.backend.info.format, { level: dict.level, dictionary: true })
        .catch(() => undefined).finally(() => { this.retraining = undefined })
    }
  }

  /** Closes the current backend and every retired one still in use (close() ends their queued work). */
  async closeAll(): Promise<void> {
    await Promise.all([this.backend, ...this.retired].map((b) => b.close()))
  }

  /** Resolves when every switch issued so far has settled. */
  async switchesSettled(): Promise<void> {
    await this.switching?.catch(() => undefined)
  }
}
