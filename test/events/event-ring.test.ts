// The event buffer's two bounds: in events and in bytes. Past either, the oldest go first and
// each one evicted is reported under its topic.
import t from 'tap'
import { EventRing } from '../../src/events/event-ring.js'

const msg = (value: string): { key: string, value: string, headers: Record<string, string>, timestamp: string } => ({ key: 'k', value, headers: { ce_id: 'x' }, timestamp: '1' })

t.test('bounded in count: the oldest makes room and is reported', async t => {
  const ring = new EventRing(3, 1 << 20)
  const evicted = new Int32Array(3)
  for (let i = 0; i < 5; i++) t.ok(ring.pushMessage(i % 2, msg(`m${i}`), evicted))
  t.equal(ring.size, 3)
  t.same([...evicted], [1, 1, 0], 'm0 (topic 0) and m1 (topic 1) evicted')
  t.equal(ring.msgs[ring.at(0)]?.value, 'm2', 'the oldest kept is m2')
})

t.test('bounded in bytes: large events evict the oldest until they fit; one over the bound alone is refused', async t => {
  const ring = new EventRing(100, 2_000)
  const evicted = new Int32Array(3)
  for (let i = 0; i < 10; i++) t.ok(ring.pushMessage(0, msg('x'.repeat(100)), evicted))
  const each = ring.bytes / 10
  t.ok(ring.bytes <= 2_000)
  t.ok(ring.pushMessage(2, msg('y'.repeat(900)), evicted), 'a large event fits after evicting old ones')
  t.ok(ring.bytes <= 2_000, `bytes held ${ring.bytes} ≤ 2000`)
  t.ok(evicted[0]! >= Math.floor(900 / each), `${evicted[0]} old events evicted to make room`)
  t.equal(ring.size, 10 - evicted[0]! + 1)
  t.notOk(ring.pushMessage(1, msg('z'.repeat(3_000)), evicted), 'an event larger than the whole bound is refused')
  ring.drop(ring.size)
  t.equal(ring.bytes, 0, 'dropping everything returns every byte')
  t.equal(EventRing.predictionBytes('a'.repeat(26), 'b'.repeat(26), 0, 2) < EventRing.predictionBytes('a'.repeat(26), 'b'.repeat(256), 0, 2), true, 'a long request id counts')
})
