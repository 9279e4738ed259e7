// Child processes for the hand-rolled baselines (loadtest/baseline/server.ts), started and
// stopped like the gateway in harness.ts, and the memory / CPU readings of any child.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { freePort, type Proc } from './harness.js'

export type BaselineMode = 'baseline' | 'constant'

/** Starts loadtest/baseline/server.ts in its own node process and waits until it answers. */
export async function startBaselineProcess (mode: BaselineMode, extraArgs: string[] = [], nodeArgs: string[] = []): Promise<Proc> {
  const port = await freePort()
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'loadtest/baseline/server.ts', '--mode', mode, '--port', String(port), ...extraArgs], {
    stdio: ['ignore', 'ignore', 'inherit']
  })
  const url = `http://127.0.0.1:${port}`
  const started = Date.now()
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${mode} server exited during start`)
    if (Date.now() - started > 60_000) throw new Error(`${mode} server not ready in 60 s`)
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

/** Resident set size (MiB) of a process from /proc/<pid>/status VmRSS; null where unavailable. */
export function rssMiB (pid: number | undefined): number | null {
  if (pid === undefined) return null
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? null : Number(m[1]) / 1024
  } catch {
    return null
  }
}
