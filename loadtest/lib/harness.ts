// Shared pieces of the load tests: run the built gateway as a child process (as in
// production), drive it with autocannon, summarize.
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import autocannon from 'autocannon'

export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => { resolve(port) })
    })
  })
}

/** FAIRGATE_* variables for a gateway from a JSON object in environment variable `name` (BENCH_GATEWAY_ENV, PROFILE_ENV). */
export function gatewayEnv (name: string): Record<string, string> {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return {}
  const env = JSON.parse(raw) as unknown
  if (typeof env !== 'object' || env === null || Array.isArray(env) || Object.values(env).some(v => typeof v !== 'string')) {
    throw new Error(`${name}: must be a JSON object of strings, e.g. {"FAIRGATE_MODELS_INLINE_MAX_MS":"0"}`)
  }
  return env as Record<string, string>
}

export interface Proc { child: ChildProcess, url: string, stop: () => Promise<void> }

/** Starts `fairgate serve` (dist/) with extra env and waits until ready; `logFile` keeps its stdout (the log). */
export async function startGatewayProcess (env: Record<string, string>, nodeArgs: string[] = [], logFile?: string): Promise<Proc> {
  const port = await freePort()
  // gRPC on its own free port (FAIRGATE_GRPC_PORT in env wins), so parallel gateways do not meet on 8081.
  const grpcPort = await freePort()
  const out = logFile === undefined ? 'ignore' : openSync(logFile, 'w')
  const child = spawn(process.execPath, [...nodeArgs, 'dist/cli/index.js', 'serve'], {
    env: { ...process.env, FAIRGATE_HTTP_HOST: '127.0.0.1', FAIRGATE_HTTP_PORT: String(port), FAIRGATE_GRPC_HOST: '127.0.0.1', FAIRGATE_GRPC_PORT: String(grpcPort), FAIRGATE_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', out, 'inherit']
  })
  if (typeof out === 'number') closeSync(out)
  return await readyProcess(child, `http://127.0.0.1:${port}`, 'gateway')
}

/** Waits until a spawned server answers /v2/health/ready; returns its handle. */
export async function readyProcess (child: ChildProcess, url: string, label: string): Promise<Proc> {
  const started = Date.now()
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${label} exited during start`)
    if (Date.now() - started > 60_000) throw new Error(`${label} not ready in 60 s`)
    try { if ((await fetch(`${url}/v2/health/ready`)).status === 200) break } catch {}
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  return {
    child,
    url,
    stop: async () => {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await new Promise(resolve => child.once('exit', resolve))
    }
  }
}

export interface EvalRow { features: Record<string, unknown>, group: Record<string, string>, label: number }
export function evalRows (limit = Infinity): EvalRow[] {
  return readFileSync('models/income/eval.jsonl', 'utf8').trim().split('\n').slice(0, limit).map(l => JSON.parse(l) as EvalRow)
}

export interface LoadResult { rps: number, total: number, p50: number, p99: number, non2xx: number, errors: number }

/**
 * CPU time (ms, user + system) of a process on Linux, split into its main thread (tid = pid)
 * and all other threads (libuv pool, V8 helpers, worker threads); null elsewhere. The main
 * thread is what bounds the gateway's throughput, and unlike req/s it barely moves with what
 * else the machine is doing.
 */
export function threadCpuMs (pid: number): { main: number, others: number } | null {
  try {
    const tick = 1000 / 100 // USER_HZ
    let main = 0
    let others = 0
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const ms = (Number(f[11]) + Number(f[12])) * tick
      if (Number(tid) === pid) main += ms
      else others += ms
    }
    return { main, others }
  } catch {
    return null
  }
}

/** CPU time (ms) of every thread of a process, or null (not Linux, or the pid is gone). */
export function processCpuMs (pid: number | null | undefined): number | null {
  const t = pid == null ? null : threadCpuMs(pid)
  return t === null ? null : t.main + t.others
}

/** CPU µs per request between two threadCpuMs() readings of a server that answered `total` requests. */
export function cpuPerRequestUs (before: { main: number, others: number } | null, after: { main: number, others: number } | null, total: number): { main: number, others: number } | null {
  if (before === null || after === null || total === 0) return null
  return { main: Math.round((after.main - before.main) * 10_000 / total) / 10, others: Math.round((after.others - before.others) * 10_000 / total) / 10 }
}

/** Closed-loop load: `connections` clients, each sending the next body as soon as answered (to `path`). */
export async function closedLoop (url: string, bodies: string[], connections: number, seconds: number, path = '/v1/predict'): Promise<LoadResult> {
  let i = 0
  const r = await autocannon({
    url: `${url}${path}`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    connections,
    duration: seconds,
    requests: [{ setupRequest: (req) => ({ ...req, body: bodies[i++ % bodies.length] }) }]
  })
  return { rps: r.requests.average, total: r.requests.total, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors }
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
