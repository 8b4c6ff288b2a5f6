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

const helpers = path.join(path.dirname(fileURLToPath(import.meta.url)), 'helpers')
const script = path.join(helpers, 'native-junk.mjs')

function runChild(file: string, args: string[]): string {
  try {
    return execFileSync(process.execPath, [file, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 })
  } catch (err) {
    const e = err as { status: number | null; signal: string | null; stderr: string }
    throw new Error(`the child ${path.basename(file)} died (status ${e.status}, signal ${e.signal}):\n${e.stderr?.slice(-2000)}`)
  }
}

describe('native entry points check their arguments', () => {
  it.each([1, 2, 3])('random junk (seed %i) only ever throws JS errors', (seed) => {
    const out = runChild(script, [String(seed), '2000'])
    const result = JSON.parse(out.trim().split('\n').pop()!) as { calls: number; errors: Record<string, number> }
    expect(result.calls).toBeGreaterThan(20_000)
    // Wrong arguments are refused as TypeError/RangeError (or the library's own Error), never silently.
    expect(Object.keys(result.errors).every((name) => ['TypeError', 'RangeError', 'Error'].includes(name))).toBe(true)
    expect(result.errors.TypeError).toBeGreaterThan(1000)
  }, 180_000)

  // Found in CI: a worker terminated during a native call made the addon's throw
  // fail inside Node-API, a native fatal error that killed the process.
  it('worker threads terminated in the middle of native calls never abort the process', () => {
    const out = runChild(path.join(helpers, 'native-terminate.mjs'), ['40'])
    const result = JSON.parse(out.trim().split('\n').pop()!) as { rounds: number; looping: number }
    expect(result.rounds).toBe(40)
    expect(result.looping).toBeGreaterThan(10)
  }, 180_000)
})
