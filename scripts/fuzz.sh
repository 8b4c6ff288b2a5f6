#!/usr/bin/env bash
# Fuzzes the native page decoders with libFuzzer + AddressSanitizer.
#   scripts/fuzz.sh [seconds=60]
# Seeds the corpus with real compressed pages of every codec (from the store's
# own encoder), so the fuzzer starts from valid streams and mutates them.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
if ! command -v clang++-14 >/dev/null; then
  echo "fuzz: installing clang-14 and its sanitizer runtimes" >&2
  apt-get install -y -qq clang-14 libclang-rt-14-dev >/dev/null
fi
out=build/fuzz
mkdir -p "$out/corpus"
clang++-14 -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined \
  native/fuzz/decode_fuzz.cc native/codecs/*_codec.cc native/codecs/codec_factory.cc \
  $(pkg-config --cflags --libs libzstd liblz4 libdeflate libisal lzo2) -o "$out/decode_fuzz"
# Seeds: a few corpus pages compressed by each codec, prefixed with the codec selector byte;
# the dictionary codecs (selectors 5-7) use a dictionary trained here on other corpus pages.
node --input-type=module -e '
  import { loadNative, trainDictionary, samplePages } from "./dist/src/internals.js"
  import { readCorpusPages } from "./dist/bench/lib/corpus.js"
  import { writeFileSync } from "node:fs"
  const native = loadNative(); const all = readCorpusPages("node-64m", 2048), pages = all.subarray(0, 16 * 4096)
  const dict = (await trainDictionary(samplePages(all.subarray(16 * 4096), 512).pages, undefined, { capacity: 32768, id: 1 })).bytes
  writeFileSync("'"$out"'/dict.bin", dict)
  const codecs = [["lz4", 1], ["zstd", 1], ["deflate", 1], ["deflate-4k", 1], ["lzo", 1],
    ["zstd", 1, { dictionary: dict, id: 1, tables: false }], ["zstd", 9, { dictionary: dict, id: 1, tables: true }], ["lz4", 1, { dictionary: dict, id: 1 }]]
  codecs.forEach(([c, level, opts], sel) => {
    const codec = new native.Codec(c, level, opts), out = new Uint8Array(pages.length), st = new Int32Array(16)
    codec.compressBatch(pages, 0, 16, out, 0, st, 0, 4095, false)
    for (let i = 0; i < 16; i++) if (st[i] > 0) writeFileSync(`'"$out"'/corpus/${c}${opts ? "-dict" + level : ""}-${i}`, Buffer.concat([Buffer.from([sel]), out.subarray(i*4096, i*4096 + st[i])]))
  })'
ZSTASH_FUZZ_DICT="$out/dict.bin" "$out/decode_fuzz" -max_total_time="$seconds" -max_len=8192 -print_final_stats=1 "$out/corpus"
