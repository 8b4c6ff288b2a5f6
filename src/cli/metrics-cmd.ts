/**
 * `zstash metrics --listen HOST:PORT [--hold SEC] [usemem options] SIZE`: runs a
 * usemem workload and serves its store's and swap cache's metrics at
 * http://HOST:PORT/metrics while it runs (and for --hold seconds after, so a
 * scraper sees the final values).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import client from 'prom-client'
import { InvalidArgumentError } from '../errors.js'
import { parseUsememArgs, USEMEM_USAGE } from '../usemem/options.js'
import { runUsemem, processIo } from '../usemem/run.js'
import { createMetrics, type StoreMetrics } from '../metrics/metrics.js'
import { serveMetrics, DEFAULT_METRICS_LISTEN } from '../metrics/server.js'

export const METRICS_USAGE = `usage: zstash metrics [--listen HOST:PORT] [--allow-remote] [--hold SEC] [usemem options] SIZE
  --listen HOST:PORT   where to serve /metrics (default ${DEFAULT_METRICS_LISTEN}; loopback only)
  --allow-remote       allow a non-loopback address (the endpoint has no authentication)
  --hold SEC           keep serving SEC seconds after the workload ends (default 0)
The rest are usemem's options (zstash usemem --help).`

/** Takes our own flags out of argv; the rest goes to usemem. */
export function splitMetricsArgs(argv: string[]): { listen: string; allowRemote: boolean; hold: number; rest: string[] } {
  let listen = DEFAULT_METRICS_LISTEN, allowRemote = false, hold = 0
  const rest: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined]
    const value = () => {
      const v = inline ?? argv[++i]
      if (v === undefined) throw new InvalidArgumentError(`${flag} needs a value\n${METRICS_USAGE}`)
      return v
    }
    if (flag === '--listen') listen = value()
    else if (flag === '--allow-remote') allowRemote = true
    else if (flag === '--hold') {
      hold = Number(value())
      if (!(hold >= 0 && hold <= 86400)) throw new InvalidArgumentError('--hold must be 0..86400 seconds', 'ERR_ZSTASH_OUT_OF_RANGE')
    } else rest.push(a)
  }
  return { listen, allowRemote, hold, rest }
}

export async function metricsCommand(argv: string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    console.log(`${METRICS_USAGE}\n\n${USEMEM_USAGE}`)
    return 0
  }
  const { listen, allowRemote, hold, rest } = splitMetricsArgs(argv)
  const o = parseUsememArgs(rest)
  const registry = new client.Registry()
  const server = await serveMetrics({ listen, registry, allowRemote })
  console.error(`zstash metrics: serving ${server.url}`)
  let metrics: StoreMetrics | undefined
  try {
    const result = await runUsemem(o, processIo, `zstash metrics ${argv.join(' ')}`, (store, cache) => {
      metrics = createMetrics({ registry, source: store, swapCache: cache })
    })
    console.error(`zstash metrics: workload done (${result.counters.zswpout} zswpout, ${result.counters.zswpin} zswpin), ${server.scrapes} scrapes`)
    if (hold > 0) {
      console.error(`zstash metrics: holding ${server.url} for ${hold} s`)
      await sleep(hold * 1000)
    }
  } finally {
    metrics?.unregister()
    await server.close()
  }
  return 0
}
