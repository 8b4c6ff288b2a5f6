/**
 * The scrape endpoint: GET /metrics returns the registry's text exposition.
 *
 * Loopback only unless the caller says otherwise: the metrics carry no secret
 * but describe the workload, the endpoint has no authentication or TLS, and
 * the point (zswap's users asking for metrics without root) is a local
 * Prometheus or node_exporter-style sidecar. `allowRemote: true` binds any
 * address, as an explicit choice.
 */
import http from 'node:http'
import { isIP } from 'node:net'
import client from 'prom-client'
import { InvalidArgumentError } from '../errors.js'

export interface ServeMetricsOptions {
  /** 'host:port', '[v6]:port' or a port; default '127.0.0.1:9464' (port 0: any free port). */
  listen?: string | number
  registry?: client.Registry
  /** Bind a non-loopback address. Default false. */
  allowRemote?: boolean
}

export interface MetricsServer {
  /** The bound address and port (the real port when 0 was asked for). */
  readonly host: string
  readonly port: number
  /** http://host:port/metrics */
  readonly url: string
  /** Scrapes served. */
  readonly scrapes: number
  close(): Promise<void>
}

export const DEFAULT_METRICS_LISTEN = '127.0.0.1:9464'

export function parseListen(listen: string | number): { host: string; port: number } {
  let host = '127.0.0.1'
  let portText = String(listen)
  if (typeof listen === 'string') {
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d+)$/.exec(listen)
    if (m) {
      host = m[1] ?? m[2]
      portText = m[3]
    } else if (!/^\d+$/.test(listen)) {
      throw new InvalidArgumentError(`listen '${listen}' is not host:port, [v6]:port or a port`)
    }
  }
  const port = Number(portText)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError(`listen port ${portText} is out of range`, 'ERR_ZSTASH_OUT_OF_RANGE')
  return { host, port }
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./i.test(host)
  return false
}

export async function serveMetrics(options: ServeMetricsOptions = {}): Promise<MetricsServer> {
  for (const k of Object.keys(options)) {
    if (!['listen', 'registry', 'allowRemote'].includes(k)) throw new InvalidArgumentError(`unknown option '${k}' in serveMetrics options`, 'ERR_ZSTASH_UNKNOWN_OPTION')
  }
  const { host, port } = parseListen(options.listen ?? DEFAULT_METRICS_LISTEN)
  if (!options.allowRemote && !isLoopback(host)) {
    throw new InvalidArgumentError(`refusing to serve metrics on non-loopback ${host} without allowRemote (the endpoint has no authentication)`, 'ERR_ZSTASH_METRICS_REMOTE')
  }
  const registry = options.registry ?? client.register
  let scrapes = 0
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end()
      return
    }
    if (url === '/') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('zstash metrics: GET /metrics\n')
      return
    }
    if (url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n')
      return
    }
    registry.metrics().then(
      (text) => {
        scrapes++
        res.writeHead(200, { 'content-type': registry.contentType, 'content-length': Buffer.byteLength(text) })
        res.end(req.method === 'HEAD' ? undefined : text)
      },
      (err: Error) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics collection failed: ${err.message}\n`)
      },
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  }).catch((err: NodeJS.ErrnoException) => {
    throw new InvalidArgumentError(`cannot listen on ${host}:${port}: ${err.code ?? err.message}`, 'ERR_ZSTASH_METRICS_LISTEN')
  })
  const addr = server.address()
  const bound = typeof addr === 'object' && addr ? addr : { address: host, port }
  const shown = bound.address.includes(':') ? `[${bound.address}]` : bound.address
  return {
    host: bound.address,
    port: bound.port,
    url: `http://${shown}:${bound.port}/metrics`,
    get scrapes() { return scrapes },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}
