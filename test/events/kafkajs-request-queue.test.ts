// kafkajs-request-queue.ts: an idle kafkajs RequestQueue no longer checks its (empty) queue
// every millisecond, and still checks it whenever requests are pending or a throttle ends.
import { createRequire } from 'node:module'
import t from 'tap'
import { requestQueueFix } from '../../src/events/kafkajs-request-queue.js'

const require = createRequire(import.meta.url)

interface Queue {
  pending: unknown[]
  throttledUntil: number
  throttleCheckTimeoutId: unknown
  checkPendingRequests: () => void
  scheduleCheckPendingRequests: () => void
  destroy: () => void
}
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as new (o: object) => Queue
const logger = { debug () {}, info () {}, warn () {}, error () {} }
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** A queue whose pending-request checks are counted (and still run). */
function counted (maxInFlightRequests = 1): { q: Queue, checks: () => number } {
  const q = new RequestQueue({ maxInFlightRequests, requestTimeout: 30_000, enforceRequestTimeout: false, clientId: 'test', broker: 'b:1', logger })
  let n = 0
  const check = q.checkPendingRequests.bind(q)
  q.checkPendingRequests = () => { n++; check() }
  return { q, checks: () => n }
}

t.test('an idle queue schedules no check', async t => {
  t.ok(requestQueueFix.active, requestQueueFix.reason)
  const { q, checks } = counted()
  // What every answered request does: check the queue, which reschedules itself.
  q.checkPendingRequests()
  await sleep(200)
  t.equal(checks(), 1, 'no 1 ms loop (kafkajs 2.2.4 as shipped checks ~200 times here)')
  t.equal(q.throttleCheckTimeoutId, null)
  q.destroy()
})

t.test('pending requests and throttles are still checked', async t => {
  // No request may go out (0 in flight allowed), so the one queued stays pending.
  const { q, checks } = counted(0)
  q.pending.push({ pending: true })
  q.scheduleCheckPendingRequests()
  t.not(q.throttleCheckTimeoutId, null, 'a check is scheduled while requests are pending')
  await sleep(50)
  t.ok(checks() >= 2, `checked again every 10 ms while pending (${checks()} checks)`)
  q.pending.length = 0
  await sleep(30)
  const settled = checks()
  await sleep(50)
  t.equal(checks(), settled, 'and no more once nothing is pending')

  const throttled = counted()
  throttled.q.throttledUntil = Date.now() + 30
  throttled.q.scheduleCheckPendingRequests()
  t.not(throttled.q.throttleCheckTimeoutId, null, 'a check is scheduled for the end of a throttle')
  await sleep(80)
  // A timer may fire a millisecond before Date.now() says the throttle is over: then it checks
  // once more for the remainder. Either way a few checks, not kafkajs' 1 ms loop, and then none.
  const afterThrottle = throttled.checks()
  t.ok(afterThrottle >= 1 && afterThrottle <= 3, `checked when the throttle ends (${afterThrottle} checks)`)
  await sleep(50)
  t.equal(throttled.checks(), afterThrottle, 'and no more after it')
  q.destroy()
  throttled.q.destroy()
})
