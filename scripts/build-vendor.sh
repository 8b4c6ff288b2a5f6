#!/usr/bin/env bash
# Builds the accelerator libraries the device backends link — Intel QPL (IAA), qatlib + QATzip (QAT),
# Linaro UADK — from their source release tarballs, when a vendor folder holds them (../shared/vendor
# beside the checkout, or ZSTASH_VENDOR_DIR; ZSTASH_VENDOR_DIR=none skips). None is a Debian package.
#
# Each library is built once, static and PIC, into .deps/<lib>-<sha256 prefix>/ (ignored by git) and
# linked as .deps/<lib>; a tarball whose hash is already built is skipped, so a second run only checks.
# One log per library: .deps/logs/<lib>.log. Without a vendor folder this prints one line and exits 0:
# the addon then builds without these libraries (or with ones the user installed; see lib-config.cjs).
set -euo pipefail
cd "$(dirname "$0")/.."
checkout=$PWD

vendor=${ZSTASH_VENDOR_DIR:-../shared/vendor}
if [ "$vendor" = none ]; then
  echo "zstash setup: ZSTASH_VENDOR_DIR=none: not building the accelerator libraries"
  exit 0
fi
if [ ! -d "$vendor" ]; then
  [ -n "${ZSTASH_VENDOR_DIR:-}" ] && { echo "zstash setup: ZSTASH_VENDOR_DIR=$vendor is not a folder" >&2; exit 1; }
  exit 0   # a user's machine: nothing to build, nothing to say
fi
vendor=$(cd "$vendor" && pwd)
deps=$checkout/.deps
mkdir -p "$deps/logs"
jobs=$(nproc 2>/dev/null || echo 2)

# Two setups in one checkout (npm test and npm start at once) must not build into the same folder.
exec 9>"$deps/.lock"
flock 9

# The newest release of a library in the vendor folder (by version order), or nothing.
tarball() {
  local f
  f=$(cd "$vendor" && ls -1 $1 2>/dev/null | sort -V | tail -1)
  [ -n "$f" ] && echo "$vendor/$f"
}

# A build's key: the tarballs it is made from and the recipe that builds it, so a new release or a
# changed recipe builds again and anything else is reused.
key_of() {
  local recipe=$1
  shift
  { sha256sum "$@" | cut -d' ' -f1; declare -f "$recipe"; } | sha256sum | cut -c1-16
}

# build_lib NAME KEY TARBALL STEPS: runs STEPS (a function of this script) in the unpacked source with
# $prefix set, logging to .deps/logs/NAME.log; on success marks the prefix built and points .deps/NAME
# at it. Older builds of NAME are removed.
build_lib() {
  local name=$1 key=$2 tar=$3 steps=$4
  prefix=$deps/$name-$key
  local log=$deps/logs/$name.log
  if [ -f "$prefix/.built" ]; then
    ln -sfn "$name-$key" "$deps/$name"
    return 0
  fi
  local src=$deps/src/$name-$key
  rm -rf "$prefix" "$src"
  mkdir -p "$src"
  local start=$SECONDS
  echo "zstash setup: building $(basename "$tar") into .deps/$name-$key (log: .deps/logs/$name.log)"
  if ! { tar -xzf "$tar" -C "$src" --strip-components=1 && (cd "$src" && "$steps"); } >"$log" 2>&1; then
    echo "zstash setup: building $name from $tar FAILED; the last lines of $log:" >&2
    tail -25 "$log" >&2
    echo "zstash setup: fix the cause (often a missing Debian package) and run setup again, or skip these" >&2
    echo "libraries with ZSTASH_VENDOR_DIR=none (their backends are then reported as not compiled)." >&2
    return 1
  fi
  echo "$(basename "$tar") sha256 $(sha256sum "$tar" | cut -d' ' -f1)" >"$prefix/.built"
  echo "zstash setup: built $name in $((SECONDS - start)) s"
  rm -rf "$src"
  for old in "$deps/$name"-*; do
    [ "$old" != "$prefix" ] && [ -d "$old" ] && rm -rf "$old"
  done
  ln -sfn "$name-$key" "$deps/$name"
}

# Each step is logged with its duration, so a slow build shows where the time went.
step() {
  echo "== $*"
  local t=$SECONDS
  "$@"
  echo "== $((SECONDS - t)) s: $1"
}

qpl_steps() {
  # QPL bundles its own ISA-L subset (nasm); libaccel-config is dlopen'ed at run time, not linked.
  step cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DQPL_BUILD_TESTS=OFF -DQPL_BUILD_EXAMPLES=OFF \
    -DQPL_LIBRARY_TYPE=STATIC -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DCMAKE_INSTALL_PREFIX="$prefix"
  step cmake --build build -j "$jobs"
  step cmake --install build
}

# Autotools builds are static only (libtool then compiles each file once), without debug info or
# dependency tracking (a one-off build needs neither), and make only the libraries the addon links,
# not the daemons, tools, samples or tests around them.
qatlib_steps() {
  step ./autogen.sh
  step ./configure --prefix="$prefix" --disable-systemd --disable-samples --with-pic --disable-shared \
    --disable-dependency-tracking CFLAGS="-O2"
  # libqat: the DC service and its poll API; libusdm: pinned memory.
  step make -j "$jobs" libusdm.la libqat.la
  step make install-libLTLIBRARIES install-pkgincludeHEADERS
}

qatzip_steps() {
  step ./autogen.sh
  # QATzip's configure links test programs against the static libqat, which needs these too.
  step ./configure --prefix="$prefix" --with-pic --disable-shared --disable-dependency-tracking CFLAGS="-O2" \
    CPPFLAGS="-I$qatlib_prefix/include" LDFLAGS="-L$qatlib_prefix/lib" LIBS="-lusdm -lcrypto -lnuma -lpthread -ldl"
  step make -C src -j "$jobs"
  step make -C src install
  step make install-pkgincludeHEADERS
}

uadk_steps() {
  # --with-static_drv compiles the HiSilicon zip driver in (hisi_zip_probe is called by wd_comp)
  # instead of dlopen'ing it from a lib/uadk folder next to libwd.so, which a library linked into
  # the addon does not have. That mode also defines WD_NO_LOG, which sends UADK's messages to
  # stderr; -UWD_NO_LOG (after it on the command line) keeps them in syslog, as in UADK's default
  # build. libwd_comp.a of this mode holds libwd's objects too.
  step ./autogen.sh
  step ./configure --prefix="$prefix" --with-static_drv --disable-shared --with-pic --disable-dependency-tracking \
    CFLAGS="-O2 -UWD_NO_LOG"
  step make -j "$jobs" libwd_comp.la libhisi_zip.la
  step make install-pkgincludeHEADERS
  mkdir -p "$prefix/lib/uadk"
  install -m 644 .libs/libwd_comp.a "$prefix/lib/"
  install -m 644 .libs/libhisi_zip.a "$prefix/lib/uadk/"
}

qpl_tar=$(tarball 'qpl-*.tar.gz') || true
qatlib_tar=$(tarball 'qatlib-*.tar.gz') || true
qatzip_tar=$(tarball 'QATzip-*.tar.gz') || true
uadk_tar=$(tarball 'uadk-*.tar.gz') || true

status=0
# QPL (cmake, parallel make) builds beside the autotools chain, whose configure steps leave a core idle.
qpl_pid=
if [ -n "$qpl_tar" ]; then
  build_lib qpl "$(key_of qpl_steps "$qpl_tar")" "$qpl_tar" qpl_steps &
  qpl_pid=$!
fi
if [ -n "$qatlib_tar" ]; then
  build_lib qatlib "$(key_of qatlib_steps "$qatlib_tar")" "$qatlib_tar" qatlib_steps || status=1
  qatlib_prefix=$deps/qatlib
  # QATzip is built against this qatlib, so its key covers both tarballs.
  if [ -n "$qatzip_tar" ] && [ $status = 0 ]; then
    build_lib qatzip "$(key_of qatzip_steps "$qatzip_tar" "$qatlib_tar")" "$qatzip_tar" qatzip_steps || status=1
  fi
fi
if [ -n "$uadk_tar" ]; then build_lib uadk "$(key_of uadk_steps "$uadk_tar")" "$uadk_tar" uadk_steps || status=1; fi
if [ -n "$qpl_pid" ]; then wait "$qpl_pid" || status=1; fi
rmdir "$deps/src" 2>/dev/null || true
exit $status
