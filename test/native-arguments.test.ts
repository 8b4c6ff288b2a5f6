/**
 * No input reaches a native fatal error: every native entry point is called
 * with thousands of random wrong arguments (types, lengths, detached and
 * shared buffers, Proxies, throwing getters) and with a wrong `this`, in a
 * child process so that a crash is a failed test, not a dead test runner.
 */
import { describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'helpers', 'native-junk.mjs')

describe('native entry points check their arguments', () => {
  it.each([1, 2, 3])('random junk (seed %i) only ever throws JS errors', (seed) => {
    let out: string
    try {
      out = execFileSync(process.execPath, [script, String(seed), '2000'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 })
    } catch (err) {
      const e = err as { status: number | null; signal: string | null; stderr: string }
      throw new Error(`the native-junk child died (status ${e.status}, signal ${e.signal}):\n${e.stderr?.slice(-2000)}`)
    }
    const result = JSON.parse(out.trim().split('\n').pop()!) as { calls: number; errors: Record<string, number> }
    expect(result.calls).toBeGreaterThan(20_000)
    // Wrong arguments are refused as TypeError/RangeError (or the library's own Error), never silently.
    expect(Object.keys(result.errors).every((name) => ['TypeError', 'RangeError', 'Error'].includes(name))).toBe(true)
    expect(result.errors.TypeError).toBeGreaterThan(1000)
  }, 180_000)
})
