/**
 * Linaro UADK (wd_comp: wd_comp_init2, a session per direction, wd_do_comp_async + wd_comp_poll).
 * There is no UACCE device here, and UADK has no software compression driver: these tests run the
 * real init path and check the status it returns. The data path runs only on a UACCE device
 * (ZSTASH_EXPECT_HARDWARE=uadk).
 * Without UADK compiled these tests are skipped with the reason, except in CI with the vendor
 * tarballs present, where that is a failure (test/helpers/device-libs.ts).
 */
import { afterAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { BackendUnavailableError, InvalidArgumentError } from 'zstash/internals'
import { openDeviceBackend, backends, type DeviceCompressBackend } from '../dist/src/devices/index.js'
import { readCorpusPages } from './helpers/corpus.js'
import { deviceKind, requireCompiled } from './helpers/device-libs.js'
import { compressToArena, decodeOn } from './helpers/device-round-trip.js'

const uadk = deviceKind('uadk')
const mustBeCompiled = requireCompiled(uadk, 'devices-uadk.test')
const hardware = (process.env.ZSTASH_EXPECT_HARDWARE ?? '').split(',').includes('uadk')
const toClose: DeviceCompressBackend[] = []
afterAll(async () => { for (const b of toClose) await b.close() })

// wd_comp_init2 finds no UACCE device and no driver to bind: -WD_EINVAL (-22).
const EINVAL = 'wd_comp_init2("deflate", SCHED_POLICY_RR, TASK_HW) returned -22 (-WD_EINVAL)'

describe('uadk build', () => {
  it.runIf(!uadk.compiled && mustBeCompiled)('is compiled in CI when the vendor tarballs are there', () => {
    expect.fail(`UADK is not compiled (${uadk.reason}), but CI has the vendor tarballs: scripts/build-vendor.sh must build .deps/uadk`)
  })

  it.skipIf(uadk.compiled)('when not compiled, backends() says why and opening it is BackendUnavailableError', async () => {
    const entry = (await backends()).find((b) => b.name === 'uadk')!
    expect(entry).toMatchObject({ kind: 'uadk', compiled: false, available: false, path: 'none', version: '' })
    expect(entry.reason).toMatch(/^not compiled: UADK not found/)
    await expect(openDeviceBackend('uadk', { maxBatch: 8 })).rejects.toBeInstanceOf(BackendUnavailableError)
  })

  it('checks its options before touching the library', async () => {
    await expect(openDeviceBackend('uadk', { maxBatch: 8, device: { dynamicHuffman: true } })).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(openDeviceBackend('uadk', { maxBatch: 8, device: { queueDepth: 0 } })).rejects.toThrow(/queueDepth/)
  })
})

describe.skipIf(!uadk.compiled || hardware)(`uadk without a UACCE device (${uadk.compiled ? uadk.version : uadk.reason})`, () => {
  it("opening is BackendUnavailableError carrying wd_comp_init2's status", async () => {
    const err = await openDeviceBackend('uadk', { maxBatch: 8 }).catch((e) => e)
    expect(err).toBeInstanceOf(BackendUnavailableError)
    expect(err.code).toBe('ERR_ZSTASH_BACKEND_UNAVAILABLE')
    expect(err.message).toContain(EINVAL)
  })

  it('a failed init leaves nothing behind: every later open runs wd_comp_init2 again and gets the same status', async () => {
    // wd_comp_init2 is process-wide: a failure must not leave it half-initialised (a second call
    // would then answer -WD_EEXIST and the open would go on to sessions without contexts).
    for (let i = 0; i < 20; i++) {
      const err = await openDeviceBackend('uadk', { maxBatch: 8 }).catch((e) => e)
      expect(err.message).toContain(EINVAL)
    }
  })

  it('backends() lists it as compiled, unavailable, with the library version and the reason', async () => {
    const entry = (await backends()).find((b) => b.name === 'uadk')!
    expect(entry).toMatchObject({ kind: 'uadk', compiled: true, available: false, path: 'none', probed: true })
    expect(entry.version).toMatch(/^UADK \d+\.\d+/)
    expect(entry.reason).toContain(EINVAL)
  })

  it('the init path writes nothing to stderr', () => {
    const devices = path.resolve(__dirname, '..', 'dist', 'src', 'devices', 'index.js')
    const script = `import(${JSON.stringify(devices)}).then(async (d) => {
      process.stdout.write((await d.openDeviceBackend('uadk', { maxBatch: 8 }).catch((e) => e)).code)
    })`
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 })
    expect(child.stdout).toBe('ERR_ZSTASH_BACKEND_UNAVAILABLE')
    expect(child.stderr).toBe('')
  })
})

describe.runIf(uadk.compiled && hardware)('uadk on a UACCE device (ZSTASH_EXPECT_HARDWARE=uadk)', () => {
  it('round-trips real pages through wd_comp, path hardware', async () => {
    const b = await openDeviceBackend('uadk', { maxBatch: 8 })
    toClose.push(b)
    expect(b.info.path).toBe('hardware')
    const pages = readCorpusPages('node-2k', 256)
    const { arena, jobs, n } = await compressToArena(b, pages)
    expect(Buffer.compare(await decodeOn(b, arena, jobs, n), pages)).toBe(0)
    expect(b.stats().hw_completed).toBeGreaterThan(0)
  })
})
