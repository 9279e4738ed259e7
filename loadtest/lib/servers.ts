// Child processes for the hand-rolled baselines (loadtest/baseline/server.ts), started and
// stopped like the gateway in harness.ts, and the memory / CPU readings of any child.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { freePort, readyProcess, type Proc } from './harness.js'

export type BaselineMode = 'baseline' | 'constant'

/** Starts loadtest/baseline/server.ts in its own node process and waits until it answers. */
export async function startBaselineProcess (mode: BaselineMode, extraArgs: string[] = [], nodeArgs: string[] = []): Promise<Proc> {
  const port = await freePort()
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'loadtest/baseline/server.ts', '--mode', mode, '--port', String(port), ...extraArgs], {
    stdio: ['ignore', 'ignore', 'inherit']
  })
  return await readyProcess(child, `http://127.0.0.1:${port}`, `${mode} server`)
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
