/**
 * Intel QAT through qatlib's data-compression API (cpaDcCompressData2 with a callback,
 * icp_sal_DcPollInstance from the engine's poll), with QATzip's probe. There is no QAT device here:
 * these tests run the real probe and open path and check the statuses the libraries return. The
 * data path runs only with a device (ZSTASH_EXPECT_HARDWARE=qat). QATzip's software fallback is
 * never a path: without hardware the backend is unavailable.
 * Without qatlib + QATzip compiled these tests are skipped with the reason, except in CI with the
 * vendor tarballs present, where that is a failure (test/helpers/device-libs.ts).
 */
import { afterAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { BackendUnavailableError, InvalidArgumentError } from 'zstash/internals'
import { openDeviceBackend, backends, type DeviceCompressBackend } from '../dist/src/devices/index.js'
import { readCorpusPages } from './helpers/corpus.js'
import { deviceKind, requireCompiled } from './helpers/device-libs.js'
import { compressToArena, decodeOn } from './helpers/device-round-trip.js'

const qat = deviceKind('qat')
const mustBeCompiled = requireCompiled(qat, 'devices-qat.test')
const hardware = (process.env.ZSTASH_EXPECT_HARDWARE ?? '').split(',').includes('qat')
const toClose: DeviceCompressBackend[] = []
afterAll(async () => { for (const b of toClose) await b.close() })

// What the probe reports on a machine without QAT: qatlib's own device check, then QATzip's qzInit
// with its software backup off.
const NO_DEVICE = 'icp_sal_userIsQatAvailable() returned CPA_FALSE'
const QZ_NOSW_NO_HW = 'qzInit(sw_backup=0) returned -101 (QZ_NOSW_NO_HW)'

/** A child process's script: open 'qat' `opens` times, print the distinct error codes. */
function openScript(opens: number): string {
  const devices = path.resolve(__dirname, '..', 'dist', 'src', 'devices', 'index.js')
  return `import(${JSON.stringify(devices)}).then(async (d) => {
    const codes = new Set()
    for (let i = 0; i < ${opens}; i++) codes.add((await d.openDeviceBackend('qat', { maxBatch: 8 }).catch((e) => e)).code)
    process.stdout.write(${opens} + ' x ' + [...codes].join(','))
    process.exit(0)
  })`
}

/** LD_PRELOAD wrapper counting pthread_key_create calls; writes the count at exit. */
const KEY_COUNTER = `
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
static int calls;
int pthread_key_create(pthread_key_t *key, void (*destructor)(void *)) {
  static int (*real)(pthread_key_t *, void (*)(void *));
  if (!real) real = (int (*)(pthread_key_t *, void (*)(void *)))dlsym(RTLD_NEXT, "pthread_key_create");
  __atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED);
  return real(key, destructor);
}
__attribute__((destructor)) static void report(void) {
  const char *file = getenv("ZSTASH_KEY_COUNT_FILE");
  FILE *f = file ? fopen(file, "w") : NULL;
  if (f) { fprintf(f, "%d", calls); fclose(f); }
}
`

describe('qat build', () => {
  it.runIf(!qat.compiled && mustBeCompiled)('is compiled in CI when the vendor tarballs are there', () => {
    expect.fail(`QAT is not compiled (${qat.reason}), but CI has the vendor tarballs: scripts/build-vendor.sh must build .deps/qatlib and .deps/qatzip`)
  })

  it.skipIf(qat.compiled)('when not compiled, backends() says why and opening it is BackendUnavailableError', async () => {
    const entry = (await backends()).find((b) => b.name === 'qat')!
    expect(entry).toMatchObject({ kind: 'qat', compiled: false, available: false, path: 'none', version: '' })
    expect(entry.reason).toMatch(/^not compiled: qatlib \+ QATzip not found/)
    await expect(openDeviceBackend('qat', { maxBatch: 8 })).rejects.toBeInstanceOf(BackendUnavailableError)
  })

  it('checks its options before touching the library', async () => {
    await expect(openDeviceBackend('qat', { maxBatch: 8, device: { engines: 2 } })).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(openDeviceBackend('qat', { maxBatch: 8, device: { dynamicHuffman: 1 as never } })).rejects.toThrow(/dynamicHuffman/)
  })
})

describe.skipIf(!qat.compiled || hardware)(`qat without a device (${qat.compiled ? qat.version : qat.reason})`, () => {
  it("opening is BackendUnavailableError carrying qatlib's and QATzip's statuses", async () => {
    const err = await openDeviceBackend('qat', { maxBatch: 8 }).catch((e) => e)
    expect(err).toBeInstanceOf(BackendUnavailableError)
    expect(err.code).toBe('ERR_ZSTASH_BACKEND_UNAVAILABLE')
    expect(err.message).toContain(NO_DEVICE)
    expect(err.message).toContain(QZ_NOSW_NO_HW)
    expect(err.message).toContain('icp_sal_userStart was not attempted')
  })

  it('the probe runs once per process: 200 opens create no more pthread keys than one', () => {
    // QATzip without hardware creates a pthread key in every qzInit and never deletes it; after
    // ~1,025 the process has none left. pthread_key_create is counted in a child process through a
    // preloaded wrapper (the addon reaches libc's symbol even where QATzip is linked in statically).
    const dir = mkdtempSync(path.join(os.tmpdir(), 'zstash-keys-'))
    try {
      writeFileSync(path.join(dir, 'count.c'), KEY_COUNTER)
      const cc = spawnSync('cc', ['-shared', '-fPIC', '-O1', '-o', path.join(dir, 'count.so'), path.join(dir, 'count.c'), '-ldl'], { encoding: 'utf8' })
      expect(cc.stderr).toBe('')
      const keysAfter = (opens: number) => {
        const out = path.join(dir, `keys-${opens}`)
        const child = spawnSync(process.execPath, ['-e', openScript(opens)], {
          encoding: 'utf8', timeout: 60_000, env: { ...process.env, LD_PRELOAD: path.join(dir, 'count.so'), ZSTASH_KEY_COUNT_FILE: out },
        })
        expect(child.stdout).toBe(`${opens} x ERR_ZSTASH_BACKEND_UNAVAILABLE`)
        return Number(readFileSync(out, 'utf8'))
      }
      const one = keysAfter(1)
      expect(one).toBeGreaterThan(0)
      expect(keysAfter(200)).toBe(one)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('backends() lists it as compiled, unavailable, with the library versions and the reason', async () => {
    const entry = (await backends()).find((b) => b.name === 'qat')!
    expect(entry).toMatchObject({ kind: 'qat', compiled: true, available: false, path: 'none', probed: true })
    expect(entry.version).toMatch(/^qatlib \S+ \(DC API \d+\.\d+\) \+ QATzip \S+ \(API \d+\.\d+\)$/)
    expect(entry.reason).toContain(NO_DEVICE)
    expect(entry.reason).toContain(QZ_NOSW_NO_HW)
  })

  it('the probe writes nothing to stderr (QATzip is quieted; a doomed icp_sal_userStart is not called)', () => {
    const child = spawnSync(process.execPath, ['-e', openScript(1)], { encoding: 'utf8', timeout: 30_000 })
    expect(child.status).toBe(0)
    expect(child.stdout).toBe('1 x ERR_ZSTASH_BACKEND_UNAVAILABLE')
    expect(child.stderr).toBe('')
  })
})

describe.runIf(qat.compiled && hardware)('qat on a QAT device (ZSTASH_EXPECT_HARDWARE=qat)', () => {
  it('round-trips real pages through qatlib, path hardware', async () => {
    const b = await openDeviceBackend('qat', { maxBatch: 8 })
    toClose.push(b)
    expect(b.info.path).toBe('hardware')
    const pages = readCorpusPages('node-2k', 256)
    const { arena, jobs, n } = await compressToArena(b, pages)
    expect(Buffer.compare(await decodeOn(b, arena, jobs, n), pages)).toBe(0)
    expect(b.stats().hw_completed).toBeGreaterThan(0)
  })
})
