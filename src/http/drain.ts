// Closing keep-alive connections without resetting a request. Node's server.close() (and
// fastify's close) destroys every idle keep-alive socket at once, and a client may be writing
// its next request on one of them at that very moment: that request ends in ECONNRESET, neither
// answered nor refused. So a drain first stops accepting connections, tells every connection
// with its next answer to go (Connection: close; Node then ends the socket after that answer),
// waits for them to leave, and only then closes what is left: sockets idle since the drain began.
import type { Server } from 'node:http'
import { Server as NetServer } from 'node:net'

/** onSend hook while draining: every answer ends its connection. */
export function closeConnectionWhen (draining: () => boolean) {
  return function (_req: unknown, reply: { header: (k: string, v: string) => unknown }, payload: unknown, done: (err: null, payload: unknown) => void): void {
    if (draining()) reply.header('connection', 'close')
    done(null, payload)
  }
}

/** Stops accepting connections, keeping the open ones (unlike http.Server.close). */
export function stopAccepting (server: Server): void {
  if (server.listening) NetServer.prototype.close.call(server)
}

/** Resolves once no connection is open, or after timeoutMs. */
export async function connectionsClosed (server: Server, timeoutMs: number): Promise<number> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const open = await new Promise<number>(resolve => { server.getConnections((_err, n) => { resolve(n) }) })
    if (open === 0 || Date.now() >= until) return open
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}
