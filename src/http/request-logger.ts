// fastify gives every request a child logger bound to its request id. With request logging off
// (server.ts) the infer path logs only on an error, yet a pino child per request costs its
// creation and the serialization of its bindings (~1.5 µs). This stand-in keeps the parent and
// the bindings, and makes the real child the first time something is logged through it: the
// same lines, with the same reqId, for the requests that log at all.
import type { FastifyBaseLogger } from 'fastify'

type Bindings = Record<string, unknown>
type Log = (...args: unknown[]) => void

export class LazyRequestLogger {
  private made: FastifyBaseLogger | null = null

  constructor (private readonly parent: FastifyBaseLogger, private readonly bindings: Bindings, private readonly opts: object) {}

  /** The real child, made once. */
  private real (): FastifyBaseLogger {
    if (this.made === null) this.made = this.parent.child(this.bindings, this.opts)
    return this.made
  }

  get level (): string { return this.real().level }
  set level (l: string) { this.real().level = l }

  fatal (...args: unknown[]): void { (this.real().fatal as Log)(...args) }
  error (...args: unknown[]): void { (this.real().error as Log)(...args) }
  warn (...args: unknown[]): void { (this.real().warn as Log)(...args) }
  info (...args: unknown[]): void { (this.real().info as Log)(...args) }
  debug (...args: unknown[]): void { (this.real().debug as Log)(...args) }
  trace (...args: unknown[]): void { (this.real().trace as Log)(...args) }
  silent (...args: unknown[]): void { (this.real().silent as Log)(...args) }
  child (bindings: Bindings, opts?: object): FastifyBaseLogger { return this.real().child(bindings, opts) }
}

/** fastify's childLoggerFactory: a LazyRequestLogger per request (one small object, no pino child). */
export function lazyChildLogger (logger: FastifyBaseLogger, bindings: Bindings, opts: object): FastifyBaseLogger {
  return new LazyRequestLogger(logger, bindings, opts) as unknown as FastifyBaseLogger
}
