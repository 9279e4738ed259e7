// `fairgate serve`: load config, load models, listen; drain on SIGTERM/SIGINT, reload policies on SIGHUP.
import { loadConfig } from '../config/index.js'
import { createGateway, type Gateway } from '../gateway.js'
import { startGrpcServer, type GrpcServer } from '../grpc/index.js'
import { buildServer, connectionsClosed, stopAccepting } from '../http/index.js'
import { listen } from './listen.js'
import { createLogger } from './logger.js'
import { reloadOnHangup } from './signals.js'

/** How long a drain waits for keep-alive connections to leave after their last answer. */
const CONNECTION_GRACE_MS = 2_000

export interface ServeArgs { config?: string | undefined }

export async function serve (args: ServeArgs): Promise<void> {
  const config = loadConfig({ file: args.config })
  const log = createLogger(config, {})
  // Installed before the models load (which takes seconds): an early SIGHUP is logged and ignored.
  let built: Gateway | null = null
  reloadOnHangup(log, () => built?.policy ?? null)
  const gw = await createGateway(config, { log })
  built = gw
  if (gw.tracing.enabled) log.info({ exporter: gw.tracing.exporter, endpoint: process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT }, 'tracing on (OpenTelemetry)')
  const app = buildServer(gw, { loggerInstance: log })
  let closing = false
  let grpcServer: GrpcServer | null = null
  // gRPC stops after HTTP has closed, before the gateway releases its sessions.
  app.addHook('onClose', async () => { await grpcServer?.close(); await gw.close() })
  const shutdown = (signal: string): void => {
    if (closing) return
    closing = true
    log.info({ signal }, 'draining: no new requests, answering queued ones')
    const timer = setTimeout(() => {
      log.error({ timeout_ms: config.shutdown.drain_timeout_ms }, 'drain timed out; exiting')
      process.exit(1)
    }, config.shutdown.drain_timeout_ms + config.events.flush_timeout_ms)
    timer.unref()
    // No new connections; requests on open ones get 503 (UNAVAILABLE over gRPC), and every answer
    // from here on carries Connection: close. Once the queue is answered and the connections have gone (or after a
    // short grace for ones idle since the signal), close; the onClose hook flushes events and
    // releases the sessions. Closing idle keep-alive sockets at once would reset requests in transit.
    gw.startDraining()
    stopAccepting(app.server)
    gw.drain().then(async () => {
      const open = await connectionsClosed(app.server, Math.min(CONNECTION_GRACE_MS, config.shutdown.drain_timeout_ms))
      if (open > 0) log.info({ connections: open }, 'closing connections idle since the signal')
      await app.close()
    }).then(() => {
      log.info({ accepted: gw.accepted, answered: gw.answered }, 'drained; bye')
      process.exit(0)
    }, (err: Error) => {
      log.error({ err: err.message }, 'error while closing')
      process.exit(1)
    })
  }
  process.on('SIGTERM', () => { shutdown('SIGTERM') })
  process.on('SIGINT', () => { shutdown('SIGINT') })
  let address: string
  try {
    address = await listen(app, config.http.host, config.http.port)
    if (config.grpc.port !== 0) {
      grpcServer = await startGrpcServer({ inference: gw.inference, health: gw.health }, config.grpc.host, config.grpc.port)
      log.info({ port: grpcServer.port }, 'fairgate gRPC serving (inference.GRPCInferenceService, grpc.health.v1)')
    }
  } catch (err) {
    // Not serving: release the sessions and the event stream before the CLI exits.
    await grpcServer?.close().catch(() => {})
    await gw.close(0).catch(() => {})
    throw err
  }
  log.info({ address, models: gw.registry.models.map(m => m.name) }, 'fairgate serving')
}
