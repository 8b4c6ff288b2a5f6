/**
 * A real Redis Cluster on loopback for tests and benchmarks: N redis-server
 * processes (Debian's, installed by scripts/setup.sh) on free 127.0.0.1 ports,
 * cluster-enabled, in a temp dir, joined by `redis-cli --cluster create`.
 * Every wait is a bounded loop; stop() (and, as a last resort, process exit)
 * kills every process it started, so nothing is left running.
 *
 * Used by test/tier-cluster.test.ts (through test/helpers/redis-cluster.ts)
 * and bench/tier.ts; it lives in bench/lib so tsc compiles it for the bench.
 */
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, existsSync, readFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

export interface RedisClusterOptions {
  masters?: number
  /** requirepass for the default user (legacy AUTH). */
  password?: string
  /** Extra ACL users, written as `user <name> on ><password> <rules>` lines. */
  aclUsers?: { name: string; password: string; rules: string }[]
  /** cluster-node-timeout (ms). */
  nodeTimeoutMs?: number
  /** maxmemory per node in bytes (0: none). */
  maxmemory?: number
  /**
   * Serve TLS only (client and cluster bus), with a CA and a server certificate for
   * 127.0.0.1 made here with the openssl CLI. The CA's PEM is in `RedisCluster.tlsCa`.
   */
  tls?: boolean
}

export interface RedisCluster {
  /** 'host:port' of every master. */
  readonly nodes: string[]
  readonly ports: number[]
  readonly dir: string
  /** Sends a signal to node i (SIGKILL: down; SIGSTOP: paused; SIGCONT: resumed). */
  signal(i: number, sig: NodeJS.Signals): void
  /** Starts node i again with its config (same port, same nodes.conf); waits until it answers PING. */
  restart(i: number): Promise<void>
  /** Waits (bounded) until every node reports cluster_state:ok. */
  waitOk(timeoutMs?: number): Promise<void>
  /** The CA certificate (PEM) when started with `tls`. */
  readonly tlsCa: string | undefined
  /** Runs redis-cli against node i; returns stdout. */
  cli(i: number, ...args: string[]): string
  stop(): Promise<void>
}

export function redisServerAvailable(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0 &&
    spawnSync('redis-cli', ['--version'], { stdio: 'ignore' }).status === 0
}

const live = new Set<ChildProcess>()
let exitHookInstalled = false
function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const child of live) { try { child.kill('SIGKILL') } catch { /* already gone */ } }
  })
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer()
    srv.once('error', () => resolve(false))
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)))
  })
}

/** A port p with p and p + 10000 (the cluster bus) free on 127.0.0.1. */
async function freePortPair(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 30000)
    if (taken.has(port) || taken.has(port + 10000)) continue
    if (await portFree(port) && await portFree(port + 10000)) {
      taken.add(port)
      taken.add(port + 10000)
      return port
    }
  }
  throw new Error('no free port pair found for redis-server')
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  installExitHook()
  const masters = options.masters ?? 3
  const dir = mkdtempSync(path.join(os.tmpdir(), 'zstash-redis-'))
  const taken = new Set<number>()
  const ports: number[] = []
  for (let i = 0; i < masters; i++) ports.push(await freePortPair(taken))
  const children: (ChildProcess | undefined)[] = new Array(masters)
  let tlsCa: string | undefined
  const tlsArgs: string[] = []
  const tlsLines: string[] = []
  if (options.tls) {
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore', timeout: 30_000 })
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=zstash test CA')
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1')
    writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n')
    ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext')
    tlsCa = readFileSync(path.join(dir, 'ca.crt'), 'utf8')
    tlsArgs.push('--tls', '--cacert', path.join(dir, 'ca.crt'))
    tlsLines.push(
      `tls-cert-file ${path.join(dir, 'server.crt')}`, `tls-key-file ${path.join(dir, 'server.key')}`,
      `tls-ca-cert-file ${path.join(dir, 'ca.crt')}`, 'tls-cluster yes', 'tls-replication yes', 'tls-auth-clients no',
    )
  }
  const authArgs = [...tlsArgs, ...(options.password ? ['--no-auth-warning', '-a', options.password] : [])]

  const confFile = (i: number) => path.join(dir, String(ports[i]), 'redis.conf')
  for (let i = 0; i < masters; i++) {
    const nodeDir = path.join(dir, String(ports[i]))
    mkdirSync(nodeDir)
    const lines = [
      ...(options.tls ? ['port 0', `tls-port ${ports[i]}`, ...tlsLines] : [`port ${ports[i]}`]),
      'bind 127.0.0.1',
      'daemonize no',
      `dir ${nodeDir}`,
      `logfile ${path.join(nodeDir, 'redis.log')}`,
      'cluster-enabled yes',
      'cluster-config-file nodes.conf',
      `cluster-node-timeout ${options.nodeTimeoutMs ?? 1000}`,
      // A master that is down must not stop the others from serving their slots.
      'cluster-require-full-coverage no',
      'appendonly no',
      'save ""',
      'io-threads 1',
    ]
    if (options.password) lines.push(`requirepass ${options.password}`, `masterauth ${options.password}`)
    for (const u of options.aclUsers ?? []) lines.push(`user ${u.name} on >${u.password} ${u.rules}`)
    if (options.maxmemory) lines.push(`maxmemory ${options.maxmemory}`, 'maxmemory-policy noeviction')
    writeFileSync(confFile(i), lines.join('\n') + '\n')
  }

  const cli = (i: number, ...args: string[]) =>
    execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(ports[i]), ...authArgs, ...args], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] })

  const waitPing = async (i: number) => {
    for (let t = 0; t < 100; t++) {
      try {
        if (cli(i, 'ping').trim() === 'PONG') return
      } catch { /* not up yet */ }
      await sleep(50)
    }
    throw new Error(`redis-server on port ${ports[i]} did not answer PING within 5 s`)
  }

  const startNode = async (i: number) => {
    const child = spawn('redis-server', [confFile(i)], { stdio: 'ignore' })
    live.add(child)
    child.once('exit', () => live.delete(child))
    children[i] = child
    await waitPing(i)
  }

  const stop = async () => {
    await Promise.all(children.map(async (child) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise<void>((r) => child.once('exit', () => r()))
      try { child.kill('SIGCONT') } catch { /* gone */ }
      child.kill('SIGKILL')
      await Promise.race([exited, sleep(5000)])
    }))
    rmSync(dir, { recursive: true, force: true })
  }

  const waitOk = async (timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      let ok = 0
      for (let i = 0; i < masters; i++) {
        try {
          if (/cluster_state:ok/.test(cli(i, 'cluster', 'info'))) ok++
        } catch { /* down */ }
      }
      if (ok === masters) return
      if (Date.now() > deadline) throw new Error(`cluster not ok after ${timeoutMs} ms`)
      await sleep(100)
    }
  }

  try {
    await Promise.all(ports.map((_, i) => startNode(i)))
    execFileSync('redis-cli', [
      ...authArgs, '--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes',
    ], { stdio: 'ignore', timeout: 30_000 })
    await waitOk()
  } catch (err) {
    await stop()
    throw err
  }

  return {
    nodes: ports.map((p) => `127.0.0.1:${p}`),
    ports,
    dir,
    tlsCa,
    signal(i, sig) {
      children[i]?.kill(sig)
    },
    async restart(i) {
      const old = children[i]
      if (old && old.exitCode === null && old.signalCode === null) {
        const exited = new Promise<void>((r) => old.once('exit', () => r()))
        old.kill('SIGKILL')
        await Promise.race([exited, sleep(5000)])
      }
      if (!existsSync(confFile(i))) throw new Error('cluster directory is gone')
      await startNode(i)
    },
    waitOk,
    cli,
    stop,
  }
}
