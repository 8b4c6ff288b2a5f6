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
        "native/codecs/zstd_dict_codec.cc",
        "native/codecs/lz4_dict_codec.cc",
        "native/codecs/dict_trainer.cc",
        "native/addon/dictionary_ops.cc",
        "native/devices/register_devices.cc",
        "native/devices/engine_object.cc",
        "native/devices/js_options.cc",
        "native/devices/batch_engine.cc",
        "native/devices/device_registry.cc",
        "native/devices/sim_device.cc",
        "native/devices/qpl_device.cc",
        "native/devices/qat_device.cc",
        "native/devices/uadk_device.cc",
        "native/tier/object_sealer.cc",
        "native/allocator/size_classes.cc",
        "native/allocator/page_region.cc",
        "native/allocator/zs_pool.cc",
        "native/allocator/checksum.cc",
        "native/allocator/pool_registry.cc",
        "native/allocator/pool_object.cc",
        "native/allocator/pool_entry_points.cc"
      ],
      "dependencies": ["zstash_dpdk"],
      "variables": {
        "zstash_qpl%": "<!(node native/devices/lib-config.cjs have qpl)",
        "zstash_qat%": "<!(node native/devices/lib-config.cjs have qat)",
        "zstash_uadk%": "<!(node native/devices/lib-config.cjs have uadk)"
      },
      "conditions": [
        ["zstash_qpl==1", {
          "defines": ["ZSTASH_HAVE_QPL"],
          "cflags_cc": ["<!@(node native/devices/lib-config.cjs cflags qpl)"],
          "libraries": ["<!@(node native/devices/lib-config.cjs libs qpl)"]
        }],
        ["zstash_qat==1", {
          "defines": ["ZSTASH_HAVE_QAT"],
          "cflags_cc": ["<!@(node native/devices/lib-config.cjs cflags qat)"],
          "libraries": ["<!@(node native/devices/lib-config.cjs libs qat)"]
        }],
        ["zstash_uadk==1", {
          "defines": ["ZSTASH_HAVE_UADK"],
          "cflags_cc": ["<!@(node native/devices/lib-config.cjs cflags uadk)"],
          "libraries": ["<!@(node native/devices/lib-config.cjs libs uadk)"]
        }]
      ],
      "ldflags": ["-Wl,--exclude-libs,ALL"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O2", "-fvisibility=hidden", "<!@(pkg-config --cflags libzstd liblz4 libdeflate libisal lzo2 libcrypto libxxhash)"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "libraries": ["<!@(pkg-config --libs libzstd liblz4 libdeflate libisal lzo2 libcrypto libxxhash)"]
    },
    {
      "target_name": "zstash_dpdk",
      "type": "static_library",
      "sources": ["native/devices/dpdk_eal.cc", "native/devices/dpdk_device.cc"],
      "variables": {
        "zstash_dpdk%": "<!(node native/devices/lib-config.cjs have dpdk)"
      },
      "cflags_cc": ["-std=c++17", "-O2", "-fPIC", "-fvisibility=hidden", "-Wno-deprecated-declarations"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "conditions": [
        ["zstash_dpdk==1", {
          "defines": ["ZSTASH_HAVE_DPDK"],
          "cflags_cc": ["<!@(node native/devices/lib-config.cjs cflags dpdk)"],
          "link_settings": {"libraries": ["<!@(node native/devices/lib-config.cjs libs dpdk)"]}
        }]
      ]
    }
  ]
}
