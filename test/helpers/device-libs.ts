/**
 * Which accelerator libraries this build of the addon has, and whether their absence is a failure.
 * On a user's machine a library that is not compiled skips its tests (with the reason printed).
 * In CI (CI=true) with the vendor tarballs beside the checkout (../shared/vendor, or
 * ZSTASH_VENDOR_DIR), setup must have built and linked them, so a missing one fails a test instead:
 * the suite cannot pass by silently testing nothing.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { loadNative } from 'zstash/internals'

export interface NativeDeviceKindInfo {
  kind: string
  compiled: boolean
  reason: string
  version: string
}

const override = process.env.ZSTASH_VENDOR_DIR
export const vendorDir = override && override !== 'none' ? path.resolve(override) : path.resolve(__dirname, '..', '..', '..', 'shared', 'vendor')
export const vendorPresent = override !== 'none' && existsSync(vendorDir)
export const inCi = process.env.CI === 'true' || process.env.CI === '1'

/** The addon's entry for a device kind ('qpl', 'qat', 'uadk', ...). */
export function deviceKind(kind: string): NativeDeviceKindInfo {
  const kinds = loadNative().devices as NativeDeviceKindInfo[]
  const info = kinds.find((d) => d.kind === kind)
  if (!info) throw new Error(`the addon does not list device kind '${kind}'`)
  return info
}

/**
 * True when a missing library must fail: CI with the vendor tarballs present. Prints why tests are
 * skipped otherwise.
 */
export function requireCompiled(info: NativeDeviceKindInfo, testFile: string): boolean {
  const required = inCi && vendorPresent
  if (!info.compiled && !required) {
    console.warn(`${testFile}: ${info.kind} tests skipped: ${info.reason}` +
      (vendorPresent ? '' : ` (no vendor tarballs at ${vendorDir}; set ZSTASH_VENDOR_DIR or install the library and run setup)`))
  }
  return required
}
