// The feedback stores: the gateway's OwnPredictionStore (found by sequence number, no Map) must
// answer like the Map-keyed PredictionStore for this process's ids, and refuse every other id.
import t from 'tap'
import { OwnPredictionStore, PredictionStore } from '../../src/monitor/index.js'
import { isPredictionId, nextPredictionId, ownPredictionSequence, predictionId, predictionIdTime, reservePredictionIds } from '../../src/prediction-id.js'

const groups = new Int16Array([2, 1])

t.test('ids: consecutive sequence numbers, valid, time and sequence read back', async t => {
  const wall = 1_760_000_000_123
  const first = reservePredictionIds(3)
  const ids = [0, 1, 2].map(i => predictionId(wall, first + i))
  for (const id of ids) t.ok(isPredictionId(id), id)
  t.same(ids.map(ownPredictionSequence), [first, first + 1, first + 2])
  t.equal(predictionIdTime(ids[0]!), wall)
  t.ok(ids[0]! < ids[1]! && ids[1]! < ids[2]!, 'sortable')
  const next = nextPredictionId(wall)
  t.equal(ownPredictionSequence(next), first + 3, 'nextPredictionId takes the next number')
  // Another process's prefix, a malformed id: not ours.
  const foreign = next.slice(0, 10) + (next[10] === '0' ? '1' : '0') + next.slice(11)
  t.equal(ownPredictionSequence(foreign), -1)
  t.equal(ownPredictionSequence('not-an-id'), -1)
  t.equal(ownPredictionSequence(next.toLowerCase()), -1)
})

t.test('OwnPredictionStore answers like PredictionStore for own ids, through eviction and TTL', async t => {
  const cap = 5
  const own = new OwnPredictionStore(cap, 1000, 2)
  const byMap = new PredictionStore(cap, 1000, 2)
  const ids: string[] = []
  for (let k = 0; k < 12; k++) {
    const wall = 10_000 + k * 100
    const first = reservePredictionIds(1 + (k % 3)) // gaps: numbers reserved but not stored
    const id = predictionId(wall, first)
    ids.push(id)
    own.put(first, wall, 0, 1, k % 2, k / 10, groups, 0, 2)
    byMap.put(id, wall, 0, 1, k % 2, k / 10, groups, 0, 2)
    for (const q of ids) {
      for (const now of [wall, wall + 950]) t.equal(own.has(q, now), byMap.has(q, now), `has ${q} at ${now}`)
      t.same(own.get(q, wall), byMap.get(q, wall))
    }
  }
  t.equal(own.size, cap)
  t.notOk(own.has(ids[0]!, 11_100), 'the oldest is forgotten once the ring is full')
  const last = ids.at(-1)!
  t.same(own.get(last, 11_100), { model: 0, variant: 1, decision: 1, score: Math.fround(1.1), ts: 11_100, groups: new Int16Array([2, 1]) })
  t.ok(own.markLabelled(last))
  t.notOk(own.markLabelled(last), 'a label joins once')
  t.notOk(own.has(last, 11_100 + 1001), 'past the TTL')
  // Same sequence number, another time part: not the prediction that was stored.
  const forged = predictionId(99_999, ownPredictionSequence(last))
  t.notOk(own.has(forged, 11_100))
  t.notOk(own.markLabelled(forged))
})

t.test('a sequence number that does not increase starts the ring afresh', async t => {
  const own = new OwnPredictionStore(4, 1000, 1)
  const a = reservePredictionIds(2)
  own.put(a + 1, 5, 0, 0, 0, 0.5, groups, 0, 1)
  own.put(a, 5, 0, 0, 0, 0.5, groups, 0, 1)
  t.notOk(own.has(predictionId(5, a + 1), 5), 'the earlier ring is gone')
  t.ok(own.has(predictionId(5, a), 5))
  t.equal(own.size, 1)
})
