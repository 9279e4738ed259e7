// `fairgate serve`: load config, load models, listen; drain on SIGTERM/SIGINT.
import pino from 'pino'
import { loadConfig } from '../config/index.js'
import { createGateway } from '../gateway.js'
import { startGrpcServer, type GrpcServer } from '../grpc/index.js'
import { buildServer } from '../http/index.js'

export interface ServeArgs { config?: string | undefined }

export async function serve (args: ServeArgs): Promise<void> {
  const config = loadConfig({ file: args.config })
  const log = pino({ level: config.log.level, base: { replica: config.replica } })
  const gw = await createGateway(config, { log })
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
    // Answer everything queued while new requests get 503 + Connection: close (UNAVAILABLE over
    // gRPC), then stop listening; the onClose hook closes gRPC, flushes events, releases sessions.
    gw.drain().then(async () => { await app.close() }).then(() => {
      log.info({ accepted: gw.accepted, answered: gw.answered }, 'drained; bye')
      process.exit(0)
    }, (err: Error) => {
      log.error({ err: err.message }, 'error while closing')
      process.exit(1)
    })
  }
  process.on('SIGTERM', () => { shutdown('SIGTERM') })
  process.on('SIGINT', () => { shutdown('SIGINT') })
  const address = await app.listen({ host: config.http.host, port: config.http.port })
  if (config.grpc.port !== 0) {
    grpcServer = await startGrpcServer({ inference: gw.inference, health: gw.health }, config.grpc.host, config.grpc.port)
    log.info({ port: grpcServer.port }, 'fairgate gRPC serving (inference.GRPCInferenceService, grpc.health.v1)')
  }
  log.info({ address, models: gw.registry.models.map(m => m.name) }, 'fairgate serving')
}
