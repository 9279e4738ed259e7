// Stops kafkajs 2.2.4's idle timer loop, in the thread that imports this module. Every broker
// connection's RequestQueue reschedules its pending-request check with
// setTimeout(throttledUntil - Date.now()): with no throttle that is a negative delay, so the
// check runs every millisecond forever, pending requests or not (kafkajs issue #1556, unfixed
// in a release; upstream PR #1667). Measured here, an idle gateway with Kafka spent ~50 ms of
// CPU per second in it on the main thread (the decisions consumer) and as much again in the
// Kafka worker; under load that CPU is taken from the HTTP thread on a 2-core box.
//
// The check is still scheduled whenever it can matter: while requests are pending (every 10 ms,
// or when the throttle ends) and while a broker throttle is in force. With nothing pending and
// no throttle there is nothing to check: a new request either goes out at once or is queued,
// which schedules a check, and every answered request checks the queue again.
// test/events/kafkajs-request-queue.test.ts holds both halves.
import { createRequire } from 'node:module'
import { kafkajsMismatch, type PatchStatus } from './kafkajs-pin.js'

const require = createRequire(import.meta.url)

/** kafkajs' own interval for re-checking pending requests (requestQueue/index.js). */
const CHECK_PENDING_REQUESTS_INTERVAL = 10

interface RequestQueue {
  pending: unknown[]
  throttledUntil: number
  throttleCheckTimeoutId: NodeJS.Timeout | null
  checkPendingRequests: () => void
  scheduleCheckPendingRequests: () => void
}

function scheduleCheckPendingRequests (this: RequestQueue): void {
  if (this.throttleCheckTimeoutId !== null) return
  let scheduleAt = this.throttledUntil - Date.now()
  if (this.pending.length > 0) scheduleAt = scheduleAt > 0 ? scheduleAt : CHECK_PENDING_REQUESTS_INTERVAL
  else if (scheduleAt <= 0) return // the fix: nothing pending, nothing throttled
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null
    this.checkPendingRequests()
  }, scheduleAt)
}

function install (): PatchStatus {
  // The loop came with 2.2.4; another release gets no patch from here.
  const mismatch = kafkajsMismatch('idle timer fix')
  if (mismatch !== null) return { active: false, reason: mismatch }
  try {
    const proto = (require('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueue }).prototype
    proto.scheduleCheckPendingRequests = scheduleCheckPendingRequests
  } catch (err) {
    return { active: false, reason: `kafkajs' request queue not where expected: ${(err as Error).message}` }
  }
  return { active: true, reason: 'kafkajs request queues check pending requests only when there are any, or a throttle' }
}

export const requestQueueFix: PatchStatus = install()
