// The KServe v2 gRPC service (inference.GRPCInferenceService) and grpc.health.v1, over the same
// gateway as HTTP and given the same narrow interfaces as its route plugins (inference, health):
// ModelInfer parses into an InferJob and hands it to inference.submit(); the shared respondGrpc
// answers when the batch has run (the gateway's completion steps count it). The only place that
// knows grpc-js.
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import type { InferJob } from '../batching/index.js'
import type { HealthApi, InferenceApi } from '../gateway.js'
import {
  EXTENSIONS, jobIdBytes, modelMetadata, modelReady, OUT_ID, OUT_ID_RAW, OUT_SCORE, OUT_SCORE_RAW, parseBudget,
  PREDICTION_ID_OUTPUT, round3, scoreBytes, type ParseContext
} from '../oip/index.js'
import { nextPredictionId } from '../prediction-id.js'
import type { Span } from '../telemetry/index.js'
import { parseGrpcInfer, type GrpcInferRequest } from './parse-infer.js'
import { httpStatusOf, toStatus } from './status.js'

const PROTO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'proto')
const LOAD = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true }

type Callback = grpc.sendUnaryData<object>

/** The gateway interfaces the gRPC service uses, the same ones the HTTP plugins get. */
export interface GrpcApis {
  inference: InferenceApi
  health: HealthApi
}

/** What respondGrpc needs of one call: one small object per request, no closure. */
class GrpcCall {
  constructor (readonly inference: InferenceApi, readonly callback: Callback, readonly span: Span | null) {}
}

function fail (call: GrpcCall, err: unknown): void {
  call.callback(toStatus(err) as grpc.ServiceError)
  if (call.span !== null) call.inference.tracing.endServerSpan(call.span, httpStatusOf(err), false)
}

export function respondGrpc (job: InferJob): void {
  const call = job.ctx as GrpcCall
  if (job.error !== null) { fail(call, job.error); return }
  const n = job.rows
  const bits = job.answer
  // raw_output_contents covers every output or none (its entries follow the outputs' order).
  const raw = (bits & (OUT_SCORE_RAW | OUT_ID_RAW)) !== 0
  const outputs: object[] = []
  const rawOut: Buffer[] = []
  if ((bits & OUT_SCORE) !== 0) {
    outputs.push({ name: job.model.manifest.output.name, datatype: 'FP32', shape: [n, 1], contents: raw ? null : { fp32_contents: Array.from(job.scores) } })
    if (raw) rawOut.push(scoreBytes(job))
  }
  if ((bits & OUT_ID) !== 0) {
    outputs.push({ name: PREDICTION_ID_OUTPUT, datatype: 'BYTES', shape: [n], contents: raw ? null : { bytes_contents: job.ids.map(id => Buffer.from(id, 'latin1')) } })
    if (raw) rawOut.push(jobIdBytes(job))
  }
  call.callback(null, {
    model_name: job.model.name,
    model_version: job.variant!.name,
    id: job.requestId,
    parameters: { queue_ms: { double_param: round3(job.queueMs) }, batch_size: { int64_param: job.batchSize } },
    outputs,
    raw_output_contents: rawOut
  })
  if (call.span !== null) call.inference.tracing.endServerSpan(call.span, 200, false)
}

function firstString (md: grpc.Metadata, key: string): string | undefined {
  const v = md.get(key)[0]
  return typeof v === 'string' ? v : undefined
}

function handlers ({ inference, health }: GrpcApis): grpc.UntypedServiceImplementation {
  const clock = inference.clock
  const tracing = inference.tracing
  const { maxRows, defaultBudgetMs } = inference.limits
  const unary = <Req>(fn: (req: Req) => object): grpc.handleUnaryCall<Req, object> => (call, callback) => {
    try {
      callback(null, fn(call.request))
    } catch (err) {
      callback(toStatus(err) as grpc.ServiceError)
    }
  }
  return {
    ServerLive: unary(() => ({ live: true })),
    ServerReady: unary(() => ({ ready: health.ready })),
    ModelReady: unary((r: { name: string, version: string }) => ({ ready: modelReady(health, r.name, r.version === '' ? undefined : r.version) })),
    ServerMetadata: unary(() => ({ name: 'fairgate', version: '0.1.0', extensions: EXTENSIONS })),
    ModelMetadata: unary((r: { name: string, version: string }) => modelMetadata(health, r.name, r.version === '' ? undefined : r.version)),
    ModelInfer: (call: grpc.ServerUnaryCall<GrpcInferRequest, object>, callback: Callback) => {
      const now = clock.now()
      const req = call.request
      const md = call.metadata
      let span: Span | null = null
      if (tracing.enabled) {
        span = tracing.startServerSpan('POST', '/inference.GRPCInferenceService/ModelInfer', '/inference.GRPCInferenceService/ModelInfer', md.getMap() as Record<string, string>)
        span.setAttribute('rpc.system', 'grpc')
        span.setAttribute('fairgate.transport', 'grpc')
      }
      let job: InferJob
      try {
        const model = inference.model(req.model_name)
        const ctx: ParseContext = {
          now,
          maxRows,
          defaultBudgetMs,
          headerBudget: parseBudget(firstString(md, 'x-latency-budget-ms'), 'x-latency-budget-ms metadata'),
          requestId: firstString(md, 'x-request-id') ?? nextPredictionId()
        }
        // The caller's deadline is a budget too: past it, nobody reads the answer.
        const d = call.getDeadline()
        const ms = d instanceof Date ? d.getTime() : d
        const callerDeadline = ms === Infinity ? Infinity : now + (ms - Date.now())
        job = parseGrpcInfer(model, req, ctx, callerDeadline)
      } catch (err) {
        const code = httpStatusOf(err)
        inference.countRejected(req.model_name, code, 'grpc')
        callback(toStatus(err) as grpc.ServiceError)
        if (span !== null) tracing.endServerSpan(span, code, false)
        return
      }
      const grpcCall = new GrpcCall(inference, callback, span)
      job.ctx = grpcCall
      job.respond = respondGrpc
      if (span !== null) tracing.attach(job, span)
      try {
        inference.submit(job)
      } catch (err) {
        // Refused before it was queued (draining, queue full): counted like an HTTP refusal.
        job.respond = null
        inference.countRejected(job.model.name, httpStatusOf(err), 'grpc')
        fail(grpcCall, err)
      }
    }
  }
}

/** grpc.health.v1: '' is the whole server, the inference service by its full name. */
const HEALTH_SERVICES = new Set(['', 'inference.GRPCInferenceService'])

type Watch = grpc.ServerWritableStream<{ service: string }, object>

/**
 * Check answers once; Watch streams the status and then every change, found by one shared
 * 1 s timer for all watchers (started with the first). close() ends the streams so shutdown
 * does not wait on them.
 */
class Health {
  private readonly watchers = new Map<Watch, string>()
  private timer: NodeJS.Timeout | null = null
  constructor (private readonly health: HealthApi) {}

  private status (): string { return this.health.ready ? 'SERVING' : 'NOT_SERVING' }

  readonly impl: grpc.UntypedServiceImplementation = {
    Check: (call: grpc.ServerUnaryCall<{ service: string }, object>, callback: Callback) => {
      if (!HEALTH_SERVICES.has(call.request.service)) {
        callback({ code: grpc.status.NOT_FOUND, details: `unknown service "${call.request.service}"` } as grpc.ServiceError)
        return
      }
      callback(null, { status: this.status() })
    },
    Watch: (call: Watch) => {
      const status = HEALTH_SERVICES.has(call.request.service) ? this.status() : 'SERVICE_UNKNOWN'
      call.write({ status })
      this.watchers.set(call, status)
      call.on('cancelled', () => { this.watchers.delete(call) })
      if (this.timer === null) {
        this.timer = setInterval(() => { this.poll() }, 1000)
        this.timer.unref()
      }
    }
  }

  private poll (): void {
    const now = this.status()
    for (const [call, last] of this.watchers) {
      if (last === 'SERVICE_UNKNOWN' || last === now) continue
      this.watchers.set(call, now)
      call.write({ status: now })
    }
  }

  close (): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    for (const call of this.watchers.keys()) { call.write({ status: 'NOT_SERVING' }); call.end() }
    this.watchers.clear()
  }
}

export interface GrpcServer {
  readonly port: number
  /** Stops taking calls, waits for the ones in flight (they are answered by the drain), then closes. */
  close: (timeoutMs?: number) => Promise<void>
}

function service (file: string, path: string[]): grpc.ServiceDefinition {
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(join(PROTO_DIR, file), LOAD)) as Record<string, unknown>
  let node: unknown = pkg
  for (const p of path) node = (node as Record<string, unknown>)[p]
  return (node as { service: grpc.ServiceDefinition }).service
}

export async function startGrpcServer (apis: GrpcApis, host: string, port: number): Promise<GrpcServer> {
  const server = new grpc.Server({
    // The same bound as an HTTP body; larger messages get RESOURCE_EXHAUSTED before parsing.
    'grpc.max_receive_message_length': apis.inference.limits.bodyBytes,
    'grpc.max_send_message_length': 64 * 1024 * 1024
  })
  // grpc-js leaves Nagle's algorithm on for accepted sockets: a small answer then waits for the
  // client's delayed ACK (~40 ms), capping a connection at a few hundred calls/s. Node's
  // net.Server takes noDelay from the options grpc-js hands http2.createServer; grpc-js offers
  // no option for it, so it is set on those options here (and skipped should they move).
  const common = (server as unknown as { commonServerOptions?: Record<string, unknown> }).commonServerOptions
  if (common !== undefined) common.noDelay = true
  server.addService(service('grpc_predict_v2.proto', ['inference', 'GRPCInferenceService']), handlers(apis))
  const healthService = new Health(apis.health)
  server.addService(service('health.proto', ['grpc', 'health', 'v1', 'Health']), healthService.impl)
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => { if (err !== null) reject(err); else resolve(p) })
  })
  return {
    port: bound,
    close: async (timeoutMs = 5000) => {
      healthService.close()
      await new Promise<void>(resolve => {
        const timer = setTimeout(() => { server.forceShutdown(); resolve() }, timeoutMs)
        server.tryShutdown(() => { clearTimeout(timer); resolve() })
      })
    }
  }
}
