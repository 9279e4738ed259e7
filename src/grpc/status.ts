// Coded errors → gRPC status: the same FG_ERR_* codes as HTTP, mapped by their HTTP status.
import { Metadata, status, type ServiceError } from '@grpc/grpc-js'
import { FairgateError } from '../errors.js'

export function grpcCode (httpStatus: number): status {
  switch (httpStatus) {
    case 400: return status.INVALID_ARGUMENT
    case 404: return status.NOT_FOUND
    case 413: case 429: return status.RESOURCE_EXHAUSTED
    case 415: return status.INVALID_ARGUMENT
    case 503: return status.UNAVAILABLE
    case 504: return status.DEADLINE_EXCEEDED
    default: return httpStatus >= 400 && httpStatus < 500 ? status.FAILED_PRECONDITION : status.INTERNAL
  }
}

/** The error as a grpc-js status; details lead with the code, metadata carries it alone. */
export function toStatus (err: unknown): Partial<ServiceError> {
  const e = err instanceof FairgateError ? err : new FairgateError('FG_ERR_INTERNAL', 500, 'internal error')
  const metadata = new Metadata()
  metadata.set('fg-error-code', e.code)
  if (e.retryAfter !== undefined) metadata.set('retry-after', String(e.retryAfter))
  return { code: grpcCode(e.statusCode), details: `${e.code}: ${e.message}`, metadata }
}

/** The HTTP status an error counts as in metrics (500 for anything uncoded). */
export function httpStatusOf (err: unknown): number {
  return err instanceof FairgateError ? err.statusCode : 500
}
