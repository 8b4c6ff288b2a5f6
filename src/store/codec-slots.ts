/**
 * How each stored object was encoded, in the 4-bit slot of its entry: zswap's
 * pool list, where every entry points to the pool (compressor) that wrote it,
 * so the compressor can change while old entries stay readable.
 *
 *   slots 0..4   the stream formats (FORMATS: lz4, zstd, deflate, deflate-4k, lzo)
 *   slots 5..15  a format with a trained dictionary (an object is [id][frame])
 *
 * A dictionary slot lives while any object uses it: the table counts objects
 * and bytes per slot (typed arrays, no object per page), which also gives the
 * per-compressor counters. A retired dictionary's slot is released, and can
 * take a new dictionary, when its last object goes.
 */
import { FORMATS, formatId, type StreamFormat } from '../codecs/formats.js'
import { DictionaryError, openDictionaryCodec, type DictionaryFormat } from '../codecs/dictionary.js'
import { MAX_COMPRESSOR_SLOTS } from '../entries/entry-table.js'
import { loadNative, type NativeCodec } from '../native.js'

export const FIRST_DICTIONARY_SLOT = FORMATS.length

/** A dictionary bound to a slot: what a worker needs to build its own codec for it. */
export interface SlotDictionary {
  /** Shared memory: workers read it in place. */
  bytes: Uint8Array
  /** The id byte every object of this dictionary starts with. */
  id: number
  format: DictionaryFormat
  level: number
}

export interface SlotStats {
  /** 'lz4', 'zstd', …, or 'zstd+dict3' for dictionary 3. */
  name: string
  /** Objects (compressed, raw, or written back) encoded this way, and their bytes. */
  objects: number
  bytes: number
  current: boolean
}

export class CodecSlots {
  private readonly decoders: (NativeCodec | undefined)[] = new Array(MAX_COMPRESSOR_SLOTS)
  private readonly dictionaries: (SlotDictionary | undefined)[] = new Array(MAX_COMPRESSOR_SLOTS)
  private readonly retired = new Uint8Array(MAX_COMPRESSOR_SLOTS)
  private readonly objects = new Float64Array(MAX_COMPRESSOR_SLOTS)
  private readonly bytes = new Float64Array(MAX_COMPRESSOR_SLOTS)
  /** The slot new stores are published under. */
  current: number

  constructor(format: StreamFormat) {
    const native = loadNative()
    for (let s = 0; s < FORMATS.length; s++) this.decoders[s] = new native.Codec(FORMATS[s], 1)
    this.current = formatId(format)
  }

  /** The decoder of a slot (an entry's objects are read back by the slot that wrote them). */
  decoder(slot: number): NativeCodec {
    return this.decoders[slot]!
  }

  /** Dictionaries by slot, for the slots named in `slots` (what a worker needs to decode a batch). */
  dictionariesFor(slots: Uint8Array, count: number): Record<number, SlotDictionary> | undefined {
    let out: Record<number, SlotDictionary> | undefined
    for (let i = 0; i < count; i++) {
      const s = slots[i]
      if (s >= FIRST_DICTIONARY_SLOT && !out?.[s]) (out ??= {})[s] = this.dictionaries[s]!
    }
    return out
  }

  dictionary(slot: number): SlotDictionary | undefined {
    return this.dictionaries[slot]
  }

  isDictionarySlot(slot: number): boolean {
    return slot >= FIRST_DICTIONARY_SLOT
  }

  /** Binds a dictionary to a free slot (a retired one whose objects are gone is reused). */
  addDictionary(dict: SlotDictionary): number {
    for (let s = FIRST_DICTIONARY_SLOT; s < MAX_COMPRESSOR_SLOTS; s++) {
      if (this.dictionaries[s] && !(this.retired[s] && this.objects[s] === 0)) continue
      this.dictionaries[s] = dict
      this.decoders[s] = openDictionaryCodec(dict.format, dict.level, dict.bytes, dict.id)
      this.retired[s] = 0
      this.objects[s] = this.bytes[s] = 0
      return s
    }
    throw new DictionaryError(
      `all ${MAX_COMPRESSOR_SLOTS - FIRST_DICTIONARY_SLOT} dictionary slots hold dictionaries that stored objects still use`,
      'ERR_ZSTASH_DICTIONARY_FULL',
    )
  }

  /** New stores use `slot` from now on; a dictionary slot that stops being current is retired. */
  use(slot: number): void {
    if (slot !== this.current && this.isDictionarySlot(this.current)) this.retire(this.current)
    this.current = slot
  }

  /** Ids of the dictionaries still held (current, or used by objects). */
  liveDictionaryIds(): number[] {
    const ids: number[] = []
    for (let s = FIRST_DICTIONARY_SLOT; s < MAX_COMPRESSOR_SLOTS; s++) if (this.dictionaries[s]) ids.push(this.dictionaries[s]!.id)
    return ids
  }

  add(slot: number, bytes: number): void {
    this.objects[slot]++
    this.bytes[slot] += bytes
  }

  remove(slot: number, bytes: number): void {
    this.objects[slot]--
    this.bytes[slot] -= bytes
    if (this.retired[slot] && this.objects[slot] === 0) this.release(slot)
  }

  name(slot: number): string {
    const d = this.dictionaries[slot]
    return d ? `${d.format}+dict${d.id}` : FORMATS[slot]
  }

  stats(): SlotStats[] {
    const out: SlotStats[] = []
    for (let s = 0; s < MAX_COMPRESSOR_SLOTS; s++) {
      if (s >= FIRST_DICTIONARY_SLOT && !this.dictionaries[s]) continue
      if (this.objects[s] === 0 && s !== this.current) continue
      out.push({ name: this.name(s), objects: this.objects[s], bytes: this.bytes[s], current: s === this.current })
    }
    return out
  }

  private retire(slot: number): void {
    this.retired[slot] = 1
    if (this.objects[slot] === 0) this.release(slot)
  }

  private release(slot: number): void {
    if (!this.isDictionarySlot(slot)) return
    this.dictionaries[slot] = undefined
    this.decoders[slot] = undefined
  }
}
