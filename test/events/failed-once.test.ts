// Issue 14, defect 15: fairgate_events_total{outcome="failed"} counted send attempts, not events
// (16 events failing twice counted 32). The publisher now counts a batch's events the first
// time its send fails (src/events/failed-once.ts). A unit test: the real broker cannot be made to
// fail the same batch twice on cue (a worker crash fails it once, the re-send waits for a
// reconnect that then succeeds), and an integration test must not use a fake transport.
import t from 'tap'
import { FailedOnce } from '../../src/events/failed-once.js'

/** What the publisher does with its counter: add a batch's events when first() says so. */
function replay (steps: Array<['fail' | 'split', { n: number }, Array<{ n: number }>?]>): number {
  const once = new FailedOnce<{ n: number }>()
  let failed = 0
  for (const [what, batch, parts] of steps) {
    if (what === 'fail' && once.first(batch)) failed += batch.n
    if (what === 'split') once.split(batch, parts ?? [])
  }
  return failed
}

t.test('a batch failing twice counts its events once', async t => {
  const b = { n: 16 }
  t.equal(replay([['fail', b], ['fail', b]]), 16, 'the issue\'s case: 16, not 32')
  t.equal(replay([['fail', b], ['fail', b], ['fail', b], ['fail', b]]), 16, 'however many retries')
})

t.test('distinct batches each count', async t => {
  t.equal(replay([['fail', { n: 16 }], ['fail', { n: 4 }]]), 20)
})

t.test('the parts of a split batch that already failed are not counted again', async t => {
  const whole = { n: 10 }
  const a = { n: 5 }
  const b = { n: 5 }
  t.equal(replay([['fail', whole], ['split', whole, [a, b]], ['fail', a], ['fail', b]]), 10)
  const fresh = { n: 10 }
  const c = { n: 5 }
  t.equal(replay([['split', fresh, [c, { n: 5 }]], ['fail', c], ['fail', c]]), 5, 'parts of a batch that never failed count when they first fail')
})
