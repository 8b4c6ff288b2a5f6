#!/usr/bin/env bash
# Installs whatever is missing for zstash on Debian 12, then builds what is stale:
#   1. Debian packages (codec libraries, DPDK, tools) — when root or with passwordless sudo;
#   2. npm packages;
#   3. the accelerator libraries (QPL, qatlib + QATzip, UADK) from the vendor tarballs, when there
#      are any (../shared/vendor or ZSTASH_VENDOR_DIR): scripts/build-vendor.sh, into .deps/;
#   4. the native addon (node-gyp) and the TypeScript build.
# Idempotent: a second run does nothing but check.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential python3 pkg-config zstd
  libzstd-dev liblz4-dev libdeflate-dev libisal-dev liblzo2-dev zlib1g-dev libxxhash-dev
  dpdk-dev libdpdk-dev
  libssl-dev redis-server redis-tools
)
# Building the accelerator libraries needs their build tools; only a checkout with the vendor
# tarballs (CI, developers) builds them, so a user's machine is not asked for these. libaccel-config1
# is what QPL's hardware path dlopens: with it, a machine without IAA gets QPL's "no work queue"
# status (503) instead of "library not found" (501).
vendor_dir=${ZSTASH_VENDOR_DIR:-../shared/vendor}
if [ "$vendor_dir" != none ] && [ -d "$vendor_dir" ]; then
  APT_PACKAGES+=(cmake nasm autoconf automake libtool autoconf-archive libssl-dev libnuma-dev uuid-dev libaccel-config1)
fi
# Extra packages a caller asks for (the test setup adds chromium, for the HTML report test).
if [ -n "${ZSTASH_EXTRA_APT:-}" ]; then read -r -a extra <<<"$ZSTASH_EXTRA_APT"; APT_PACKAGES+=("${extra[@]}"); fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo"; else
    echo "zstash setup: missing Debian packages: ${missing[*]}" >&2
    echo "Install them as root with:" >&2
    echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "zstash setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package.json -nt node_modules/.package-lock.json ] || \
   { [ -f package-lock.json ] && [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
  echo "zstash setup: installing npm packages"
  if [ -f package-lock.json ]; then npm ci --ignore-scripts --no-audit --no-fund >/dev/null; else npm install --ignore-scripts --no-audit --no-fund >/dev/null; fi
fi

# Build against the Node headers installed with node when they are there (no download).
node_prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
if [ -f "$node_prefix/include/node/node_api.h" ]; then export npm_config_nodedir="$node_prefix"; fi

bash scripts/build-vendor.sh

# The addon is rebuilt when its sources changed or when the device libraries it would link changed
# (built from the vendor tarballs, named by QPL_ROOT/QAT_ROOT/QATZIP_ROOT/UADK_ROOT, or installed).
addon=build/Release/zstash.node
device_libs=$(node native/devices/lib-config.cjs signature)
if [ ! -f "$addon" ] || [ -n "$(find native binding.gyp -newer "$addon" -print -quit)" ] || \
   [ "$device_libs" != "$(cat build/.device-libs 2>/dev/null)" ]; then
  echo "zstash setup: building the native addon"
  npm run --silent build:native >/tmp/zstash-native-build.log 2>&1 || { tail -40 /tmp/zstash-native-build.log >&2; exit 1; }
  printf '%s\n' "$device_libs" > build/.device-libs
fi

if [ ! -f dist/src/index.js ] || [ -n "$(find src workers bench tsconfig.json -newer dist/src/index.js -print -quit 2>/dev/null)" ]; then
  echo "zstash setup: compiling TypeScript"
  npx tsc -p tsconfig.json
fi
