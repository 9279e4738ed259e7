// The one error contract of every HTTP face (gateway and monitor): a body {"error", "code"}
// with content type exactly application/json (KServe's client compares it whole), a FG_ERR_*
// code from src/errors.ts, and a message naming the field. fastify's own FST_ERR_* errors and
// Node's HTTP parser errors (written straight on the socket) are mapped here.
import type { Socket } from 'node:net'
import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import {
  FairgateError, FG_ERR_BATCH_DRAINING, FG_ERR_INTERNAL, FG_ERR_NOT_FOUND, FG_ERR_REQUEST_HEADERS_TOO_LARGE, FG_ERR_REQUEST_INVALID,
  FG_ERR_REQUEST_MALFORMED, FG_ERR_REQUEST_MEDIA_TYPE, FG_ERR_REQUEST_TIMEOUT, FG_ERR_REQUEST_TOO_LARGE
} from '../errors.js'

export const JSON_TYPE = 'application/json'

/** The longest request id accepted, in the body `id` and in the x-request-id header alike. */
export const MAX_REQUEST_ID = 256

export function sendError (reply: FastifyReply, err: FairgateError): void {
  if (err.retryAfter !== undefined) reply.header('retry-after', String(err.retryAfter))
  // While draining, tell keep-alive clients to reconnect elsewhere rather than reuse this socket.
  if (err.statusCode === 503) reply.header('connection', 'close')
  // A Buffer: for a string fastify would append "; charset=utf-8" to a JSON content type.
  reply.code(err.statusCode).header('content-type', JSON_TYPE).send(Buffer.from(JSON.stringify({ error: err.message, code: err.code })))
}

/** Any error a route, hook or fastify itself threw, as a coded FairgateError (a 5xx is logged). */
export function toFairgateError (err: FastifyError | FairgateError, req: FastifyRequest, bodyLimit: number): FairgateError {
  if (err instanceof FairgateError) return err
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY': return FG_ERR_REQUEST_INVALID('body', `malformed JSON (${err.message})`)
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return FG_ERR_REQUEST_INVALID('body', 'is empty; send a JSON object')
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return FG_ERR_REQUEST_TOO_LARGE(bodyLimit)
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return FG_ERR_REQUEST_MEDIA_TYPE(String(req.headers['content-type'] ?? ''))
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH': return FG_ERR_REQUEST_INVALID('content-length header', 'does not match the body')
    case 'FST_ERR_CTP_EMPTY_TYPE': return FG_ERR_REQUEST_MEDIA_TYPE('')
    case 'FST_ERR_BAD_URL': return FG_ERR_REQUEST_INVALID('url', 'is not a valid URL')
  }
  // secure-json-parse throws a bare SyntaxError for __proto__ / constructor keys.
  if (err instanceof SyntaxError) return FG_ERR_REQUEST_INVALID('body', `malformed JSON (${err.message})`)
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) return FG_ERR_REQUEST_INVALID('request', err.message)
  req.log.error({ err: err.message, stack: err.stack }, 'unhandled error')
  return FG_ERR_INTERNAL()
}

/**
 * Node's parser refused the request (bad syntax, headers too large, too slow): fastify never
 * sees it, so the coded JSON answer is written on the socket here.
 */
export function clientErrorHandler (this: { log?: { trace: (o: object, msg: string) => void } } | undefined, err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const e = err.code === 'HPE_HEADER_OVERFLOW'
    ? FG_ERR_REQUEST_HEADERS_TOO_LARGE()
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? FG_ERR_REQUEST_TIMEOUT() : FG_ERR_REQUEST_MALFORMED(String(err.code ?? 'parse error'))
  // As fastify's own handler does, at trace. The error carries the raw packet (request bytes,
  // group labels included): the process logger removes it (src/cli/logger.ts).
  this?.log?.trace({ err }, `client error (${e.code})`)
  const body = JSON.stringify({ error: e.message, code: e.code })
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${e.statusCode} ${STATUS_CODES[e.statusCode] ?? ''}\r\nConnection: close\r\nContent-Type: ${JSON_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  }
  socket.destroy(err)
}

/** fastify options every fairgate server uses: the parser errors above, no uncoded 503 on close. */
export const contractOptions = {
  clientErrorHandler,
  // fastify's own closing answer has no code; the hook below answers with FG_ERR_BATCH_DRAINING.
  return503OnClosing: false
}

/**
 * The request-id rule, the closing rule and the 404 of every server. onError runs before the
 * answer (the gateway counts rejected inference requests and marks the span there).
 */
export function installErrorContract (app: FastifyInstance, bodyLimit: number, onError?: (e: FairgateError, req: FastifyRequest) => void): void {
  let closing = false
  app.addHook('preClose', (done) => { closing = true; done() })
  app.addHook('onRequest', (req, _reply, done) => {
    if (closing) { done(FG_ERR_BATCH_DRAINING()); return }
    const id = req.headers['x-request-id']
    if (id !== undefined && (typeof id !== 'string' || id.length > MAX_REQUEST_ID)) {
      done(FG_ERR_REQUEST_INVALID('x-request-id header', `must be a string of at most ${MAX_REQUEST_ID} characters`))
      return
    }
    done()
  })
  app.setErrorHandler((err: FastifyError | FairgateError, req, reply) => {
    const e = toFairgateError(err, req, bodyLimit)
    if (onError !== undefined) onError(e, req)
    sendError(reply, e)
  })
  app.setNotFoundHandler((req, reply) => { sendError(reply, FG_ERR_NOT_FOUND(req.method, req.url.split('?')[0] as string)) })
}
