// The per-request logger made lazily: a request that logs nothing makes no pino child, and one
// that logs writes the line a pino child would, with its request id.
import t from 'tap'
import Fastify from 'fastify'
import { pino } from 'pino'
import { Writable } from 'node:stream'
import { LazyRequestLogger, lazyChildLogger } from '../../src/http/request-logger.js'

function capture (): { lines: Array<Record<string, unknown>>, log: pino.Logger } {
  const lines: Array<Record<string, unknown>> = []
  const dest = new Writable({ write (chunk, _enc, cb) { lines.push(JSON.parse(String(chunk))); cb() } })
  return { lines, log: pino({ level: 'info', base: null, timestamp: false }, dest) }
}

t.test('no child until something is logged; then the same line as a pino child', async t => {
  const { lines, log } = capture()
  let children = 0
  const child = log.child.bind(log)
  log.child = ((b: pino.Bindings, o?: pino.ChildLoggerOptions) => { children++; return child(b, o) }) as unknown as typeof log.child
  const lazy = new LazyRequestLogger(log, { reqId: 'r1' }, {})
  t.equal(children, 0)
  t.equal(lazy.level, 'info')
  t.equal(children, 1, 'reading the level makes it')
  lazy.error({ err: 'boom' }, 'unhandled error')
  lazy.info('two')
  log.child({ reqId: 'r1' }).error({ err: 'boom' }, 'unhandled error')
  t.equal(children, 2, 'one child for the lazy logger, however often it logs')
  t.same(lines[0], lines[2])
  t.same(lines[0], { level: 50, reqId: 'r1', err: 'boom', msg: 'unhandled error' })
  t.same(lines[1], { level: 30, reqId: 'r1', msg: 'two' })
})

t.test('as fastify\'s childLoggerFactory: req.log carries the request id', async t => {
  const { lines, log } = capture()
  const app = Fastify({ loggerInstance: log, disableRequestLogging: true, childLoggerFactory: lazyChildLogger, genReqId: () => 'id-7' })
  app.get('/quiet', async () => ({ ok: true }))
  app.get('/loud', async (req) => { req.log.warn({ n: 1 }, 'careful'); return { ok: true } })
  t.equal((await app.inject('/quiet')).statusCode, 200)
  t.same(lines, [], 'nothing logged for a quiet request')
  t.equal((await app.inject('/loud')).statusCode, 200)
  t.same(lines, [{ level: 40, reqId: 'id-7', n: 1, msg: 'careful' }])
  await app.close()
})
