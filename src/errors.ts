// One file of coded errors, in the manner of fastify's FST_ERR_*: every error a client or an
// operator can meet has a stable code (FG_ERR_<AREA>_<WHAT>) and, where it answers an HTTP
// request, the status it maps to. Messages name the offending field so a caller can fix it
// without reading our source.

export class FairgateError extends Error {
  readonly code: string
  readonly statusCode: number
  /** Seconds a client should wait before retrying (429/503), sent as Retry-After. */
  readonly retryAfter: number | undefined

  constructor (code: string, statusCode: number, message: string, retryAfter?: number) {
    super(message)
    this.name = 'FairgateError'
    this.code = code
    this.statusCode = statusCode
    this.retryAfter = retryAfter
  }
}

type Make<A extends unknown[]> = (...args: A) => FairgateError

function coded<A extends unknown[]> (code: string, status: number, fmt: (...a: A) => string, retryAfter?: number): Make<A> & { code: string } {
  const make = ((...args: A) => new FairgateError(code, status, fmt(...args), retryAfter)) as Make<A> & { code: string }
  make.code = code
  return make
}

// --- configuration (start-up: no HTTP status matters, 500 if it ever reaches a client)
export const FG_ERR_CONFIG_INVALID = coded('FG_ERR_CONFIG_INVALID', 500, (path: string, why: string) => `invalid configuration at "${path}": ${why}`)
export const FG_ERR_CONFIG_FILE = coded('FG_ERR_CONFIG_FILE', 500, (file: string, why: string) => `cannot read configuration file ${file}: ${why}`)

export const FG_ERR_CONFIG_LISTEN = coded('FG_ERR_CONFIG_LISTEN', 500, (host: string, port: number, why: string) => `cannot listen on ${host}:${port} (http.host, http.port): ${why}`)

// --- policies
export const FG_ERR_POLICY_DIR = coded('FG_ERR_POLICY_DIR', 500, (dir: string) => `policy directory ${dir} does not exist (policy.dir); create it, empty for no policies`)
export const FG_ERR_POLICY_REMOVAL = coded('FG_ERR_POLICY_REMOVAL', 409, (models: string) => `reload would remove every rule of ${models}; the policies stay in force (POST /v1/policies/reload?remove=true removes them)`)

// --- model manifests and sessions
export const FG_ERR_MODEL_MANIFEST = coded('FG_ERR_MODEL_MANIFEST', 500, (file: string, path: string, why: string) => `invalid model manifest ${file} at "${path}": ${why}`)
export const FG_ERR_MODEL_CHECKSUM = coded('FG_ERR_MODEL_CHECKSUM', 500, (file: string, want: string, got: string) => `sha256 mismatch for ${file}: manifest says ${want}, file is ${got}`)
export const FG_ERR_MODEL_DIR_MISSING = coded('FG_ERR_MODEL_DIR_MISSING', 500, (dir: string) => `no models directory ${dir} (set models.dir or FAIRGATE_MODELS_DIR)`)
export const FG_ERR_MODEL_UNKNOWN = coded('FG_ERR_MODEL_UNKNOWN', 404, (model: string) => `unknown model "${model}"`)
export const FG_ERR_MODEL_VARIANT_UNKNOWN = coded('FG_ERR_MODEL_VARIANT_UNKNOWN', 404, (model: string, variant: string) => `unknown variant "${variant}" of model "${model}"`)
export const FG_ERR_MODEL_NOT_READY = coded('FG_ERR_MODEL_NOT_READY', 503, (model: string, variant: string) => `variant "${variant}" of model "${model}" is not ready`, 1)
/** A variant's ONNX file does not fit its manifest (input, output, dtype, shape): the variant fails at load. */
export const FG_ERR_MODEL_LAYOUT = coded('FG_ERR_MODEL_LAYOUT', 500, (key: string, why: string) => `model does not fit the manifest at "${key}": ${why}`)
export const FG_ERR_MODEL_INFERENCE = coded('FG_ERR_MODEL_INFERENCE', 500, (model: string, variant: string, why: string) => `inference failed on ${model}/${variant}: ${why}`)

// --- fairgate init and fairgate validate (operator tools: exit 1, never an HTTP answer)
export const FG_ERR_INIT_TABLE = coded('FG_ERR_INIT_TABLE', 500, (file: string, why: string) => `cannot read table ${file}: ${why}`)
export const FG_ERR_INIT_ARGS = coded('FG_ERR_INIT_ARGS', 500, (flag: string, why: string) => `${flag}: ${why}`)

// --- request validation (all 4xx)
export const FG_ERR_REQUEST_INVALID = coded('FG_ERR_REQUEST_INVALID', 400, (field: string, why: string) => `${field}: ${why}`)
export const FG_ERR_REQUEST_GROUP = coded('FG_ERR_REQUEST_GROUP', 400, (field: string, why: string) => `${field}: ${why}`)
export const FG_ERR_REQUEST_TOO_LARGE = coded('FG_ERR_REQUEST_TOO_LARGE', 413, (limit: number) => `body: larger than ${limit} bytes`)
export const FG_ERR_REQUEST_MEDIA_TYPE = coded('FG_ERR_REQUEST_MEDIA_TYPE', 415, (type: string, allowed = 'application/json') => `content-type header: unsupported "${type}", send ${allowed}`)
// Node's HTTP parser refused the request before fastify saw it (written on the socket).
export const FG_ERR_REQUEST_MALFORMED = coded('FG_ERR_REQUEST_MALFORMED', 400, (why: string) => `malformed HTTP request: ${why}`)
export const FG_ERR_REQUEST_HEADERS_TOO_LARGE = coded('FG_ERR_REQUEST_HEADERS_TOO_LARGE', 431, () => 'headers: larger than the server accepts')
export const FG_ERR_REQUEST_TIMEOUT = coded('FG_ERR_REQUEST_TIMEOUT', 408, () => 'request not received in time')
/** Triton's binary tensor data extension: a header length, a binary_data_size or the bytes after the JSON are wrong. */
export const FG_ERR_REQUEST_BINARY = coded('FG_ERR_REQUEST_BINARY', 400, (field: string, why: string) => `${field}: ${why}`)
export const FG_ERR_REQUEST_ENCODING = coded('FG_ERR_REQUEST_ENCODING', 415, (encoding: string) => `content-encoding header: unsupported "${encoding}", send gzip, deflate or identity`)
export const FG_ERR_REQUEST_ENCODING_CORRUPT = coded('FG_ERR_REQUEST_ENCODING_CORRUPT', 400, (encoding: string, why: string) => `body: not valid ${encoding} data (${why})`)
export const FG_ERR_REQUEST_INFLATED_TOO_LARGE = coded('FG_ERR_REQUEST_INFLATED_TOO_LARGE', 413, (encoding: string, limit: number) => `body: ${encoding} data inflates past ${limit} bytes`)
/** The caller's own deadline (a gRPC deadline) had passed before the request could be queued. */
export const FG_ERR_REQUEST_DEADLINE = coded('FG_ERR_REQUEST_DEADLINE', 504, (what: string) => `${what} had passed when the request arrived; it was not run`)

// --- batching and admission
export const FG_ERR_BATCH_QUEUE_FULL = coded('FG_ERR_BATCH_QUEUE_FULL', 429, (model: string, variant: string, limit: number) => `queue of ${model}/${variant} is full (${limit} rows); retry later`, 1)
export const FG_ERR_BATCH_DEADLINE = coded('FG_ERR_BATCH_DEADLINE', 504, (budgetMs: number, sinceArrivalMs: number, queuedMs: number) => `latency budget of ${budgetMs} ms expired before the request ran (${sinceArrivalMs.toFixed(1)} ms since it arrived, ${queuedMs.toFixed(1)} of them in the queue); the request was not run`)
export const FG_ERR_BATCH_DRAINING = coded('FG_ERR_BATCH_DRAINING', 503, () => 'gateway is shutting down; retry on another replica', 1)

// --- feedback
export const FG_ERR_FEEDBACK_INVALID = coded('FG_ERR_FEEDBACK_INVALID', 400, (field: string, why: string) => `${field}: ${why}`)
export const FG_ERR_FEEDBACK_UNKNOWN = coded('FG_ERR_FEEDBACK_UNKNOWN', 404, (field: string, ttlMs: number) => `${field}: unknown or expired prediction (feedback is joined for ${ttlMs / 1000} s)`)
export const FG_ERR_FEEDBACK_DUPLICATE = coded('FG_ERR_FEEDBACK_DUPLICATE', 409, () => 'prediction_id: this prediction already has feedback')

// --- policies and decisions
export const FG_ERR_POLICY_INVALID = coded('FG_ERR_POLICY_INVALID', 400, (file: string, path: string, why: string) => `invalid policy ${file} at "${path}": ${why}`)
export const FG_ERR_POLICY_VARIANT_NOT_READY = coded('FG_ERR_POLICY_VARIANT_NOT_READY', 409, (model: string, variant: string) => `variant "${variant}" of model "${model}" is not ready`)
export const FG_ERR_POLICY_NO_TARGET = coded('FG_ERR_POLICY_NO_TARGET', 409, (model: string) => `no other ready variant of "${model}" to roll back to`)

// --- admin
export const FG_ERR_AUTH_MISSING = coded('FG_ERR_AUTH_MISSING', 401, () => 'missing "Authorization: Bearer <token>"')
export const FG_ERR_AUTH_FORBIDDEN = coded('FG_ERR_AUTH_FORBIDDEN', 403, () => 'bearer token is not valid for this gateway')
export const FG_ERR_AUTH_DISABLED = coded('FG_ERR_AUTH_DISABLED', 403, () => 'admin endpoints are disabled: set FAIRGATE_ADMIN_TOKEN')

// --- fairgate evaluate (offline; exit codes, never HTTP)
export const FG_ERR_EVALUATE_ARGS = coded('FG_ERR_EVALUATE_ARGS', 400, (flag: string, why: string) => `${flag}: ${why}`)
export const FG_ERR_EVALUATE_DATA = coded('FG_ERR_EVALUATE_DATA', 400, (file: string, where: string, why: string) => `${file} ${where}: ${why}`)

export const FG_ERR_NOT_FOUND = coded('FG_ERR_NOT_FOUND', 404, (method: string, url: string) => `no route ${method} ${url}`)
/** A bug, never a client's doing: the message says nothing of the cause (it is logged). */
export const FG_ERR_INTERNAL = coded('FG_ERR_INTERNAL', 500, () => 'internal error')
