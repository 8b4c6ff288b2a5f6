// Build-time probe for the optional device libraries, called from binding.gyp and scripts/setup.sh:
//   node native/devices/lib-config.cjs have|cflags|libs|source dpdk|qpl|qat|uadk
//   node native/devices/lib-config.cjs signature
// 'have' prints 1 or 0; 'cflags'/'libs' print compiler or linker flags (nothing when the library is
// absent); 'source' says where the library was found, or why not; 'signature' prints one line naming
// what every library resolves to, so setup rebuilds the addon when that changes.
//
// Where a library is looked for, first match wins:
//   1. an install prefix named by the user: QPL_ROOT; QAT_ROOT (qatlib) with QATZIP_ROOT (QATzip,
//      defaults to QAT_ROOT); UADK_ROOT;
//   2. .deps/<lib>, built by scripts/build-vendor.sh from the vendor tarballs (static, PIC);
//   3. pkg-config: qpl; qatzip + qatlib; libwd + libwd_comp.
// Static archives are preferred in a prefix; shared libraries get an rpath.
'use strict'
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const checkout = path.resolve(__dirname, '..', '..')
const depsDir = path.join(checkout, '.deps')

function pkgConfig(...args) {
  try {
    return execFileSync('pkg-config', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return null
  }
}

const exists = (...p) => fs.existsSync(path.join(...p))
// Versions reach C++ as bare tokens (-DX=1.3.1, stringified there): gyp drops quotes from flags.
const quote = (s) => (String(s).match(/^[\w.+-]+$/) ? String(s) : 'unknown')

function libDir(prefix, archive) {
  for (const dir of ['lib', 'lib64']) if (exists(prefix, dir, archive)) return path.join(prefix, dir)
  return null
}

// A prefix built by build-vendor.sh: .deps/<name> -> <name>-<key>, holding a .built stamp whose first
// line is "<tarball> sha256 <hash>".
function vendorPrefix(name) {
  const link = path.join(depsDir, name)
  const stamp = path.join(link, '.built')
  if (!fs.existsSync(stamp)) return null
  const tarball = fs.readFileSync(stamp, 'utf8').split(/\s+/)[0]
  const version = /-(\d[\w.]*?)\.tar\.gz$/.exec(tarball)?.[1] ?? 'unknown'
  return { prefix: fs.realpathSync(link), version }
}

function pcVersion(prefix, pc) {
  const file = path.join(prefix, 'lib', 'pkgconfig', `${pc}.pc`)
  if (!fs.existsSync(file)) return 'unknown'
  return /^Version:\s*(\S+)/m.exec(fs.readFileSync(file, 'utf8'))?.[1] ?? 'unknown'
}

// Each resolver returns { source, cflags, libs } or { missing: reason }.

function dpdk() {
  if (pkgConfig('--exists', 'libdpdk') === null) return { missing: 'no pkg-config libdpdk' }
  // DPDK's headers need its -march (SSE4.2); binding.gyp confines them to the zstash_dpdk static
  // library so the rest of the addon keeps the baseline ISA. Virtual-device creation lives in the
  // vdev bus driver, which libdpdk.pc omits.
  return { source: `pkg-config libdpdk ${pkgConfig('--modversion', 'libdpdk')}`, cflags: pkgConfig('--cflags', 'libdpdk'), libs: `${pkgConfig('--libs', 'libdpdk')} -lrte_bus_vdev` }
}

function qplAt(prefix, source) {
  if (!exists(prefix, 'include', 'qpl', 'qpl.h')) return null
  const include = `-I${path.join(prefix, 'include')}`
  let dir = libDir(prefix, 'libqpl.a')
  if (dir) return { source, cflags: include, libs: `${path.join(dir, 'libqpl.a')} -ldl -lpthread` }
  dir = libDir(prefix, 'libqpl.so')
  if (dir) return { source, cflags: include, libs: `-L${dir} -Wl,-rpath,${dir} -lqpl -ldl` }
  return null
}

function qpl() {
  if (process.env.QPL_ROOT) {
    return qplAt(process.env.QPL_ROOT, `QPL_ROOT=${process.env.QPL_ROOT}`) ?? { missing: `QPL_ROOT=${process.env.QPL_ROOT} has no include/qpl/qpl.h with lib/libqpl.a or libqpl.so` }
  }
  const vendored = vendorPrefix('qpl')
  if (vendored) {
    const found = qplAt(vendored.prefix, `.deps ${path.basename(vendored.prefix)} (QPL ${vendored.version})`)
    if (found) return found
  }
  if (pkgConfig('--exists', 'qpl') === null) return { missing: 'no .deps/qpl, no QPL_ROOT, no pkg-config qpl' }
  const dir = pkgConfig('--variable=libdir', 'qpl')
  return { source: `pkg-config qpl ${pkgConfig('--modversion', 'qpl')}`, cflags: pkgConfig('--cflags', 'qpl'), libs: `${pkgConfig('--libs', 'qpl')} -ldl${dir ? ` -Wl,-rpath,${dir}` : ''}` }
}

// qatlib (libqat: the DC service and its poll API; libusdm: pinned memory) and QATzip (the probe).
function qatAt(qatlib, qatzip, versions, source) {
  if (!exists(qatlib, 'include', 'qat', 'cpa_dc.h') || !exists(qatlib, 'include', 'qat', 'icp_sal_poll.h')) return null
  if (!exists(qatzip, 'include', 'qatzip.h')) return null
  const defines = `-DZSTASH_QATLIB_VERSION=${quote(versions.qatlib)} -DZSTASH_QATZIP_VERSION=${quote(versions.qatzip)}`
  const cflags = `-I${path.join(qatlib, 'include')} -I${path.join(qatzip, 'include')} ${defines}`
  const system = '-lcrypto -lnuma -lz -llz4 -lpthread'
  const zipA = libDir(qatzip, 'libqatzip.a')
  const qatA = libDir(qatlib, 'libqat.a')
  const usdmA = libDir(qatlib, 'libusdm.a')
  if (zipA && qatA && usdmA) {
    return { source, cflags, libs: `${path.join(zipA, 'libqatzip.a')} ${path.join(qatA, 'libqat.a')} ${path.join(usdmA, 'libusdm.a')} ${system}` }
  }
  const zipSo = libDir(qatzip, 'libqatzip.so')
  const qatSo = libDir(qatlib, 'libqat.so')
  if (zipSo && qatSo) {
    const dirs = [...new Set([zipSo, qatSo])]
    return { source, cflags, libs: `${dirs.map((d) => `-L${d} -Wl,-rpath,${d}`).join(' ')} -lqatzip -lqat -lusdm ${system}` }
  }
  return null
}

function qat() {
  if (process.env.QAT_ROOT || process.env.QATZIP_ROOT) {
    const qatlib = process.env.QAT_ROOT ?? process.env.QATZIP_ROOT
    const qatzip = process.env.QATZIP_ROOT ?? qatlib
    const versions = { qatlib: pcVersion(qatlib, 'qatlib'), qatzip: pcVersion(qatzip, 'qatzip') }
    return qatAt(qatlib, qatzip, versions, `QAT_ROOT=${qatlib} QATZIP_ROOT=${qatzip}`) ??
      { missing: `QAT_ROOT=${qatlib} / QATZIP_ROOT=${qatzip} lack include/qat/cpa_dc.h, include/qatzip.h or their libraries` }
  }
  const lib = vendorPrefix('qatlib')
  const zip = vendorPrefix('qatzip')
  if (lib && zip) {
    const found = qatAt(lib.prefix, zip.prefix, { qatlib: lib.version, qatzip: zip.version },
      `.deps ${path.basename(lib.prefix)} + ${path.basename(zip.prefix)} (qatlib ${lib.version}, QATzip ${zip.version})`)
    if (found) return found
  }
  if (pkgConfig('--exists', 'qatzip', 'qatlib') === null) return { missing: 'no .deps/qatlib + .deps/qatzip, no QAT_ROOT, no pkg-config qatzip + qatlib' }
  const versions = { qatlib: pkgConfig('--modversion', 'qatlib'), qatzip: pkgConfig('--modversion', 'qatzip') }
  const dirs = [...new Set([pkgConfig('--variable=libdir', 'qatzip'), pkgConfig('--variable=libdir', 'qatlib')].filter(Boolean))]
  return {
    source: `pkg-config qatzip ${versions.qatzip} + qatlib ${versions.qatlib}`,
    cflags: `${pkgConfig('--cflags', 'qatzip', 'qatlib')} -DZSTASH_QATLIB_VERSION=${quote(versions.qatlib)} -DZSTASH_QATZIP_VERSION=${quote(versions.qatzip)}`,
    libs: `${pkgConfig('--libs', 'qatzip', 'qatlib')} -lusdm ${dirs.map((d) => `-Wl,-rpath,${d}`).join(' ')}`,
  }
}

function uadkAt(prefix, version, source) {
  if (!exists(prefix, 'include', 'uadk', 'wd_comp.h')) return null
  const cflags = `-I${path.join(prefix, 'include')} -DZSTASH_UADK_VERSION=${quote(version)}`
  const dir = libDir(prefix, 'libwd_comp.a')
  // A --with-static_drv build has the HiSilicon zip driver as an archive to link in; the archives
  // refer to each other, hence the group.
  if (dir && exists(dir, 'uadk', 'libhisi_zip.a')) {
    const a = (f) => path.join(dir, f)
    const wd = exists(dir, 'libwd.a') ? ` ${a('libwd.a')}` : ''
    return { source, cflags, libs: `-Wl,--start-group ${a('libwd_comp.a')} ${a('uadk/libhisi_zip.a')}${wd} -Wl,--end-group -ldl -lnuma -lpthread` }
  }
  const so = libDir(prefix, 'libwd_comp.so')
  if (so) return { source, cflags, libs: `-L${so} -Wl,-rpath,${so} -lwd_comp -lwd -ldl -lnuma -lpthread` }
  return null
}

function uadk() {
  if (process.env.UADK_ROOT) {
    const root = process.env.UADK_ROOT
    return uadkAt(root, pcVersion(root, 'libwd_comp'), `UADK_ROOT=${root}`) ?? { missing: `UADK_ROOT=${root} has no include/uadk/wd_comp.h with libwd_comp` }
  }
  const vendored = vendorPrefix('uadk')
  if (vendored) {
    const found = uadkAt(vendored.prefix, vendored.version, `.deps ${path.basename(vendored.prefix)} (UADK ${vendored.version})`)
    if (found) return found
  }
  if (pkgConfig('--exists', 'libwd', 'libwd_comp') === null) return { missing: 'no .deps/uadk, no UADK_ROOT, no pkg-config libwd + libwd_comp' }
  const version = pkgConfig('--modversion', 'libwd_comp')
  const dir = pkgConfig('--variable=libdir', 'libwd_comp')
  return {
    source: `pkg-config libwd_comp ${version}`,
    cflags: `${pkgConfig('--cflags', 'libwd', 'libwd_comp')} -DZSTASH_UADK_VERSION=${quote(version)}`,
    libs: `${pkgConfig('--libs', 'libwd_comp', 'libwd')}${dir ? ` -Wl,-rpath,${dir}` : ''} -ldl -lnuma -lpthread`,
  }
}

const RESOLVERS = { dpdk, qpl, qat, uadk }
const [what, lib] = process.argv.slice(2)

if (what === 'signature') {
  const parts = Object.entries(RESOLVERS).map(([name, resolve]) => {
    const r = resolve()
    return `${name}=${r.missing ? 'none' : `${r.source} | ${r.cflags} | ${r.libs}`}`
  })
  process.stdout.write(parts.join('\n') + '\n')
  process.exit(0)
}
const resolve = RESOLVERS[lib]
if (!resolve || !['have', 'cflags', 'libs', 'source'].includes(what)) {
  process.stderr.write('usage: lib-config.cjs have|cflags|libs|source dpdk|qpl|qat|uadk, or lib-config.cjs signature\n')
  process.exit(2)
}
const r = resolve()
const out = { have: r.missing ? '0' : '1', cflags: r.cflags ?? '', libs: r.libs ?? '', source: r.missing ? `not found: ${r.missing}` : r.source }[what]
process.stdout.write(out)
