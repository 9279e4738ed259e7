// Process signals shared by `fairgate serve` and `fairgate monitor`. SIGHUP reloads the policy
// files (the README's `kill -HUP`): Node's default for SIGHUP is to exit at once, undrained, so
// both commands install this before anything else can take long.
import type { Logger } from '../logger.js'

export interface Reloadable { reload: () => string[] }

/**
 * SIGHUP → policy reload. A bad file is refused and the last good policies stay (the controller
 * logs why); before the policies are read, the signal is logged and ignored, never fatal.
 */
export function reloadOnHangup (log: Logger, policies: () => Reloadable | null): void {
  process.on('SIGHUP', () => {
    const p = policies()
    if (p === null) {
      log.warn({ signal: 'SIGHUP' }, 'policies are not loaded yet; reload ignored')
      return
    }
    try {
      const models = p.reload()
      log.info({ signal: 'SIGHUP', models }, 'policy reload on SIGHUP done')
    } catch {
      // Already logged by the controller, with the file and field; the process keeps serving.
    }
  })
}
