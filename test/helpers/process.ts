// Runs the built CLI (dist/) as a child process, as an operator would.
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { ROOT } from './gateway.js'

export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.unref()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => { resolve(port) })
    })
  })
}

/** Polls cond every 50 ms; throws naming `what` after timeoutMs. */
export async function until (what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const started = Date.now()
  while (!(await cond())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

export interface Served {
  child: ChildProcess
  url: string
  /** host:port of the gRPC service (unless FAIRGATE_GRPC_PORT=0 was passed). */
  grpc: string
  /** ms from spawn until /v2/health/ready answered 200. */
  readyMs: number
  output: () => string
  exited: Promise<number | null>
}

export async function serveCli (env: Record<string, string> = {}, timeoutMs = 30_000): Promise<Served> {
  return await runCli('serve', env, timeoutMs, '/v2/health/ready')
}

/** `fairgate monitor`, answered once it listens (it is ready only once caught up with the log). */
export async function monitorCli (env: Record<string, string> = {}, timeoutMs = 30_000): Promise<Served> {
  return await runCli('monitor', env, timeoutMs, '/v2/health/live')
}

/** Start-up attempts when a port freePort picked was taken before the child bound it. */
const PORT_ATTEMPTS = 3

/**
 * freePort closes its socket before the child binds the port, so a parallel test can take it in
 * between (CI saw `listen EADDRINUSE` on the gRPC port). Such a start is retried on fresh ports;
 * any other early exit fails at once.
 */
async function runCli (command: string, env: Record<string, string>, timeoutMs: number, readyPath: string): Promise<Served> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runCliOnce(command, env, timeoutMs, readyPath)
    } catch (err) {
      if (attempt >= PORT_ATTEMPTS || !/EADDRINUSE/.test((err as Error).message)) throw err
    }
  }
}

async function runCliOnce (command: string, env: Record<string, string>, timeoutMs: number, readyPath: string): Promise<Served> {
  const port = await freePort()
  // gRPC too on a free port, so gateways of parallel tests do not meet on 8081.
  const grpcPort = await freePort()
  const started = Date.now()
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'cli', 'index.js'), command], {
    cwd: ROOT,
    env: { ...process.env, FAIRGATE_HTTP_HOST: '127.0.0.1', FAIRGATE_HTTP_PORT: String(port), FAIRGATE_GRPC_HOST: '127.0.0.1', FAIRGATE_GRPC_PORT: String(grpcPort), FAIRGATE_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr!.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<number | null>(resolve => child.on('exit', code => { resolve(code) }))
  const url = `http://127.0.0.1:${port}`
  for (;;) {
    if (child.exitCode !== null) throw new Error(`fairgate exited early (${child.exitCode}): ${out}`)
    if (Date.now() - started > timeoutMs) { child.kill('SIGKILL'); throw new Error(`not ready in ${timeoutMs} ms: ${out}`) }
    try {
      const r = await fetch(`${url}${readyPath}`)
      if (r.status === 200) break
    } catch {}
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return { child, url, grpc: `127.0.0.1:${grpcPort}`, readyMs: Date.now() - started, output: () => out, exited }
}
