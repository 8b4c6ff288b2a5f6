{
  "targets": [
    {
      "target_name": "zstash",
      "sources": [
        "native/addon/addon.cc",
        "native/addon/codec_object.cc",
        "native/addon/page_ops.cc",
        "native/batch/compress_batch.cc",
        "native/codecs/codec_factory.cc",
        "native/codecs/lz4_codec.cc",
        "native/codecs/zstd_codec.cc",
        "native/codecs/deflate_codec.cc",
        "native/codecs/deflate4k_codec.cc",
        "native/codecs/lzo_codec.cc",
        "native/devices/register_devices.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O2", "-fvisibility=hidden", "<!@(pkg-config --cflags libzstd liblz4 libdeflate libisal lzo2)"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "libraries": ["<!@(pkg-config --libs libzstd liblz4 libdeflate libisal lzo2)"]
    }
  ]
}
