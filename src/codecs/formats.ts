/**
 * Stream formats. An entry records the format its object is in, so any backend
 * that writes a format can be read back by the CPU decoder of that format
 * (a page an accelerator compressed to deflate-4k inflates with ISA-L here).
 */
export const FORMATS = ['lz4', 'zstd', 'deflate', 'deflate-4k', 'lzo'] as const
export type StreamFormat = (typeof FORMATS)[number]

export interface FormatSpec {
  /** Level used when the caller gives none. */
  defaultLevel: number
  minLevel: number
  maxLevel: number
  /** What `level` means for this codec, for error messages and docs. */
  levelMeaning: string
}

export const FORMAT_SPECS: Record<StreamFormat, FormatSpec> = {
  lz4: { defaultLevel: 1, minLevel: 1, maxLevel: 65537, levelMeaning: 'LZ4 acceleration (1 = default, higher = faster, larger)' },
  zstd: { defaultLevel: 1, minLevel: -7, maxLevel: 22, levelMeaning: 'zstd compression level' },
  deflate: { defaultLevel: 1, minLevel: 0, maxLevel: 12, levelMeaning: 'libdeflate level' },
  'deflate-4k': { defaultLevel: 1, minLevel: 0, maxLevel: 3, levelMeaning: 'ISA-L igzip level' },
  lzo: { defaultLevel: 1, minLevel: 1, maxLevel: 1, levelMeaning: 'lzo1x-1 has one level' },
}

export function formatId(format: StreamFormat): number {
  return FORMATS.indexOf(format)
}

export function isFormat(name: string): name is StreamFormat {
  return (FORMATS as readonly string[]).includes(name)
}
