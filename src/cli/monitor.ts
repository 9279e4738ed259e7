// `fairgate monitor`: the Kafka consumer-group aggregator. Same /v1/fairness and /metrics as a
// gateway, computed over the events of every replica.
import { loadConfig } from '../config/index.js'
import { buildMonitorServer } from '../http/index.js'
import { createMonitor } from '../create-monitor.js'
import { createShardedMonitor } from '../create-monitor-shard.js'
import { listen } from './listen.js'
import { createLogger } from './logger.js'
import { reloadOnHangup } from './signals.js'

export async function monitor (args: { config?: string | undefined }): Promise<void> {
  const config = loadConfig({ file: args.config })
  const log = createLogger(config, { role: 'monitor' })
  // monitor.sharded: one shard of a fleet of monitors (docs/scale-out.md); else the single monitor.
  const svc = config.monitor.sharded ? createShardedMonitor(config, { log }) : createMonitor(config, { log })
  reloadOnHangup(log, () => svc.policy)
  const app = buildMonitorServer({ fairness: svc.fairness, metrics: svc.metricsApi, ready: () => svc.ready, status: () => svc.status() })
  const address = await listen(app, config.http.host, config.http.port)
  log.info({ address }, 'fairgate monitor listening; catching up with the event log')
  const stop = (): void => {
    void Promise.allSettled([svc.stop(), app.close()]).then(() => process.exit(0))
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  await svc.start()
}
