// Decisions ordered by the log, without a broker: compare-and-set on seq, from and epoch; the
// first record read is adopted whole (a compacted topic's last record); a writer recognises its
// own record; a writer that lost the race stamps after the log's decision.
import t from 'tap'
import type { DecisionEvent } from '../../src/events/index.js'
import { DecisionSequence } from '../../src/policy/index.js'

const base = (from: string, to: string, actor = 'x'): DecisionEvent => ({ model: 'm', action: 'rollback', from, to, rule: 'r', evidence: {}, ts: 0, actor })

t.test('follows in order and refuses what does not follow', async t => {
  const q = new DecisionSequence('a')
  q.init('m', 'full')
  t.match(q.follow({ ...base('full', 'small'), seq: 5, epoch: 1, last_known_good: 'full' }), { accepted: true, adopted: true }, 'the first record is the state')
  t.match(q.state('m'), { seq: 5, active: 'small', lastKnownGood: 'full' })
  t.match(q.follow({ ...base('small', 'tiny'), seq: 7, epoch: 1 }), { accepted: false, reason: /seq 7 does not follow 5/ })
  t.match(q.follow({ ...base('full', 'tiny'), seq: 6, epoch: 1 }), { accepted: false, reason: /from "full" is not the active "small"/ })
  t.match(q.follow({ ...base('small', 'tiny'), seq: 6, epoch: 0 }), { accepted: false, reason: /epoch 0 is older than 1/ })
  t.match(q.follow({ ...base('small', 'tiny'), seq: 6, epoch: 2, last_known_good: 'small' }), { accepted: true, adopted: false })
  t.match(q.state('m'), { seq: 6, epoch: 2, active: 'tiny', lastKnownGood: 'small' })
  t.match(q.follow({ ...base('tiny', 'full') }), { accepted: false, reason: /no sequence number/ })
})

t.test('two writers race for one sequence number: the log decides, the same everywhere', async t => {
  const a = new DecisionSequence('a')
  const b = new DecisionSequence('b')
  const c = new DecisionSequence('c')
  for (const q of [a, b, c]) { q.init('m', 'full'); q.follow({ ...base('full', 'full'), seq: 1, epoch: 0 }) }
  const da = a.stamp(base('full', 'small', 'a'), 'full'); a.published(da)
  const db = b.stamp(base('full', 'tiny', 'b'), 'full'); b.published(db)
  t.equal(da.seq, 2); t.equal(db.seq, 2)
  // The log holds db first, then da: every process accepts db and refuses da.
  const verdicts = [a, b, c].map(q => [q.follow(db), q.follow(da)])
  t.match(verdicts[0], [{ accepted: true, own: false }, { accepted: false, own: true }])
  t.match(verdicts[1], [{ accepted: true, own: true }, { accepted: false, own: false }])
  t.match(verdicts[2], [{ accepted: true, own: false }, { accepted: false, own: false }])
  for (const q of [a, b, c]) t.equal(q.state('m')!.active, 'tiny')
  t.equal(a.stamp(base('tiny', 'full', 'a'), 'full').seq, 3, 'the loser stamps after the log')
})

t.test('without a log the own decision is the state at once; alerts change nothing', async t => {
  const q = new DecisionSequence('a')
  q.init('m', 'full')
  const d = q.stamp(base('full', 'small'), 'full')
  q.commit(d)
  t.match(q.state('m'), { seq: 1, active: 'small' })
  const alert = q.stamp({ ...base('small', 'small'), action: 'alert' }, 'full')
  t.equal(alert.seq, 1)
  q.commit(alert)
  t.equal(q.state('m')!.seq, 1)
})
