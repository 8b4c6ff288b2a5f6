// Build-time probe for optional device libraries, called from binding.gyp:
//   node native/devices/lib-config.cjs have|cflags|libs dpdk|qpl
// 'have' prints 1 or 0; the others print compiler or linker flags (nothing when
// the library is absent). QPL is found through pkg-config (qpl.pc) or QPL_ROOT
// (an install prefix holding include/qpl/qpl.h and lib/libqpl.a or libqpl.so).
'use strict'
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

function pkgConfig(...args) {
  try {
    return execFileSync('pkg-config', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return null
  }
}

function dpdk(what) {
  if (pkgConfig('--exists', 'libdpdk') === null) return null
  if (what === 'have') return '1'
  // DPDK's headers need its -march (SSE4.2); binding.gyp confines them to the
  // zstash_dpdk static library so the rest of the addon keeps the baseline ISA.
  if (what === 'cflags') return pkgConfig('--cflags', 'libdpdk')
  // Virtual-device creation lives in the vdev bus driver, which libdpdk.pc omits.
  return `${pkgConfig('--libs', 'libdpdk')} -lrte_bus_vdev`
}

function qplRootLayout() {
  const root = process.env.QPL_ROOT
  if (!root) return null
  const header = path.join(root, 'include', 'qpl', 'qpl.h')
  if (!fs.existsSync(header)) return null
  for (const dir of ['lib', 'lib64']) {
    const libdir = path.join(root, dir)
    if (fs.existsSync(path.join(libdir, 'libqpl.a'))) return { include: path.join(root, 'include'), libs: `${path.join(libdir, 'libqpl.a')} -ldl -lpthread` }
    if (fs.existsSync(path.join(libdir, 'libqpl.so'))) return { include: path.join(root, 'include'), libs: `-L${libdir} -Wl,-rpath,${libdir} -lqpl -ldl` }
  }
  return null
}

function qpl(what) {
  const fromRoot = qplRootLayout()
  if (fromRoot) {
    if (what === 'have') return '1'
    return what === 'cflags' ? `-I${fromRoot.include}` : fromRoot.libs
  }
  if (pkgConfig('--exists', 'qpl') === null) return null
  if (what === 'have') return '1'
  if (what === 'cflags') return pkgConfig('--cflags', 'qpl')
  const libdir = pkgConfig('--variable=libdir', 'qpl')
  return `${pkgConfig('--libs', 'qpl')} -ldl${libdir ? ` -Wl,-rpath,${libdir}` : ''}`
}

const [what, lib] = process.argv.slice(2)
const probe = { dpdk, qpl }[lib]
if (!probe || !['have', 'cflags', 'libs'].includes(what)) {
  process.stderr.write('usage: lib-config.cjs have|cflags|libs dpdk|qpl\n')
  process.exit(2)
}
const out = probe(what)
process.stdout.write(out === null ? (what === 'have' ? '0' : '') : out)
