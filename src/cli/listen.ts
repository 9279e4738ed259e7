// Listening, with the operator's mistakes as coded messages (a port in use, an address this host
// does not have or cannot resolve) instead of a stack trace, as the CLI promises.
import { FG_ERR_CONFIG_LISTEN } from '../errors.js'

const REASONS: Record<string, string> = {
  EADDRINUSE: 'the port is in use by another process',
  EADDRNOTAVAIL: 'the address is not one of this host\'s',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name does not resolve (temporary DNS failure)',
  EINVAL: 'invalid address'
}

export async function listen (app: { listen: (o: { host: string, port: number }) => Promise<string> }, host: string, port: number): Promise<string> {
  try {
    return await app.listen({ host, port })
  } catch (err) {
    const code = (err as { code?: string }).code ?? ''
    throw FG_ERR_CONFIG_LISTEN(host, port, REASONS[code] ?? `${code === '' ? '' : `${code}: `}${(err as Error).message}`)
  }
}
