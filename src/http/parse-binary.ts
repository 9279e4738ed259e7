// The infer routes' body: JSON with or without a Content-Type (tritonclient.http sends none,
// its aio client application/octet-stream), optionally compressed (Content-Encoding gzip or
// deflate), optionally followed by raw tensor bytes (Triton's binary tensor data extension:
// Inference-Header-Content-Length says where the JSON header ends).
import type { IncomingMessage } from 'node:http'
import { gunzipSync, inflateSync } from 'node:zlib'
import type { FastifyRequest } from 'fastify'
import {
  FG_ERR_REQUEST_BINARY, FG_ERR_REQUEST_ENCODING, FG_ERR_REQUEST_ENCODING_CORRUPT, FG_ERR_REQUEST_INFLATED_TOO_LARGE,
  FG_ERR_REQUEST_INVALID, FG_ERR_REQUEST_MEDIA_TYPE, FG_ERR_REQUEST_TOO_LARGE, type FairgateError
} from '../errors.js'

export const HEADER_LENGTH = 'inference-header-content-length'
const MEDIA = /^application\/(json|octet-stream)\s*(;|$)/i
const INTEGER = /^\s*\d{1,15}\s*$/

/** The header length, checked; null without the header. */
function headerLength (v: string | string[] | undefined): number | null {
  if (v === undefined) return null
  if (typeof v !== 'string' || !INTEGER.test(v)) throw FG_ERR_REQUEST_BINARY('Inference-Header-Content-Length header', `must be one non-negative integer, got ${JSON.stringify(v)}`)
  return Number(v)
}

type Done = (err: Error | null, body?: Buffer) => void

/**
 * fastify content-type parser for the infer routes (registered as the catch-all there). The body
 * is read into one buffer placed so that the bytes after the JSON header start 4-byte aligned: a
 * binary FP32 tensor is then used in place, and its one copy is into the batch buffer.
 */
export function readInferBody (req: FastifyRequest, payload: IncomingMessage, done: Done): void {
  const type = req.headers['content-type']
  if (type !== undefined && type !== '' && !MEDIA.test(type)) {
    done(FG_ERR_REQUEST_MEDIA_TYPE(type, 'application/json or application/octet-stream'))
    return
  }
  const limit = req.routeOptions.bodyLimit ?? 1_048_576
  const declared = req.headers['content-length']
  const length = declared === undefined ? -1 : Number(declared)
  if (length > limit) {
    payload.resume()
    done(FG_ERR_REQUEST_TOO_LARGE(limit))
    return
  }
  let pad = 0
  const encoding = req.headers['content-encoding']
  const hl = req.headers[HEADER_LENGTH]
  if ((encoding === undefined || encoding === 'identity') && typeof hl === 'string' && INTEGER.test(hl)) pad = (4 - (Number(hl) & 3)) & 3
  // A known length fills one preallocated buffer; a chunked body is joined once at the end.
  const fixed = length >= 0 ? Buffer.allocUnsafeSlow(pad + length) : null
  const chunks: Buffer[] = []
  let got = 0
  let failed: FairgateError | null = null
  payload.on('data', (chunk: Buffer) => {
    if (failed !== null) return
    if (got + chunk.length > (fixed === null ? limit : length)) {
      failed = fixed === null ? FG_ERR_REQUEST_TOO_LARGE(limit) : FG_ERR_REQUEST_INVALID('body', `is longer than its Content-Length ${length}`)
      return
    }
    if (fixed !== null) chunk.copy(fixed, pad + got)
    else chunks.push(chunk)
    got += chunk.length
  })
  payload.on('error', (err) => { done(err) })
  payload.on('end', () => {
    if (failed !== null) { done(failed); return }
    if (fixed !== null) {
      if (got !== length) { done(FG_ERR_REQUEST_INVALID('body', `has ${got} bytes, Content-Length says ${length}`)); return }
      done(null, fixed.subarray(pad))
      return
    }
    const joined = Buffer.allocUnsafeSlow(pad + got)
    let at = pad
    for (const c of chunks) { c.copy(joined, at); at += c.length }
    done(null, joined.subarray(pad))
  })
}

/** Undoes Content-Encoding; the inflated body is bounded by `limit` too. */
export function decodeBody (body: Buffer, encoding: string | string[] | undefined, limit: number): Buffer {
  if (encoding === undefined || encoding === 'identity' || encoding === '') return body
  if (encoding !== 'gzip' && encoding !== 'deflate') throw FG_ERR_REQUEST_ENCODING(String(encoding))
  try {
    return encoding === 'gzip' ? gunzipSync(body, { maxOutputLength: limit }) : inflateSync(body, { maxOutputLength: limit })
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw FG_ERR_REQUEST_INFLATED_TOO_LARGE(encoding, limit)
    throw FG_ERR_REQUEST_ENCODING_CORRUPT(encoding, (err as Error).message)
  }
}

export interface InferBody {
  json: unknown
  /** The bytes after the JSON header; null when there is no Inference-Header-Content-Length. */
  binary: Buffer | null
}

/** Splits the (decoded) body at the header length and parses the JSON header. */
export function splitInferBody (body: Buffer, headers: Record<string, string | string[] | undefined>): InferBody {
  const n = headerLength(headers[HEADER_LENGTH])
  if (n !== null && n > body.length) throw FG_ERR_REQUEST_BINARY('Inference-Header-Content-Length header', `is ${n} but the body has only ${body.length} bytes`)
  if (n === 0) throw FG_ERR_REQUEST_BINARY('Inference-Header-Content-Length header', 'is 0: the JSON header cannot be empty')
  const end = n ?? body.length
  if (end === 0) throw FG_ERR_REQUEST_INVALID('body', 'is empty: send the JSON inference request')
  let json: unknown
  try {
    json = JSON.parse(body.toString('utf8', 0, end))
  } catch (err) {
    throw FG_ERR_REQUEST_INVALID('body', `malformed JSON${n === null ? '' : ` in the first ${n} bytes (Inference-Header-Content-Length)`} (${(err as Error).message})`)
  }
  return { json, binary: n === null ? null : body.subarray(n) }
}
