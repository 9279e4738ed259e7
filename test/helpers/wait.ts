// Tests wait on conditions, never on fixed sleeps: poll until the condition holds, and fail
// naming it if it never does (the timeout is a safety net, not a measurement).
export async function waitFor (what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 60_000, everyMs = 50): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
}
