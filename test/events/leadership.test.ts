// Leadership through Kafka on the real broker: of two gateways that could both evaluate, exactly
// one leads and only it publishes an automatic decision; when the leader leaves, the other takes
// over with a larger fencing epoch; a monitor joining takes the lead (it sees the aggregate).
import t from 'tap'
import { validateConfig } from '../../src/config/index.js'
import { electLeader, pickLeader, type Leadership } from '../../src/events/index.js'
import { readTopic, sharedBroker, uniquePrefix } from '../helpers/kafka.js'
import { silentLog, startGateway } from '../helpers/gateway.js'

async function until (cond: () => boolean, ms = 30_000): Promise<number> {
  const t0 = Date.now()
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('condition not met in time')
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  return Date.now() - t0
}

t.test('the assigner prefers a monitor, then the lowest member id', async t => {
  t.equal(pickLeader([{ memberId: 'b', role: 'gateway' }, { memberId: 'a', role: 'gateway' }]), 'a')
  t.equal(pickLeader([{ memberId: 'a', role: 'gateway' }, { memberId: 'z', role: 'monitor' }]), 'z')
  t.equal(pickLeader([]), undefined)
})

t.test('exactly one member leads; another takes over with a larger epoch; a monitor is preferred', async t => {
  const brokers = await sharedBroker(t)
  const prefix = uniquePrefix()
  const cfg = (replica: string) => validateConfig({ replica, kafka: { brokers: [brokers], topic_prefix: prefix } })
  const members: Leadership[] = []
  t.teardown(async () => { for (const m of members) await m.stop() })
  const a = await electLeader({ config: cfg('a'), log: silentLog, role: 'gateway' }); members.push(a)
  const b = await electLeader({ config: cfg('b'), log: silentLog, role: 'gateway' }); members.push(b)
  await until(() => [a, b].filter(m => m.isLeader()).length === 1 && (a.epoch() > 0 || b.epoch() > 0))
  // Stable: still exactly one after the group settles.
  await new Promise(resolve => setTimeout(resolve, 1500))
  t.equal([a, b].filter(m => m.isLeader()).length, 1, 'exactly one leader')
  const [leader, other] = a.isLeader() ? [a, b] : [b, a]
  const firstEpoch = leader.epoch()
  await leader.stop()
  const took = await until(() => other.isLeader() && other.epoch() > 0)
  t.ok(other.epoch() > firstEpoch, `the new leader's epoch ${other.epoch()} fences the old ${firstEpoch} (took over in ${took} ms after a clean leave)`)
  const m = await electLeader({ config: cfg('mon'), log: silentLog, role: 'monitor' }); members.push(m)
  await until(() => m.isLeader() && !other.isLeader())
  t.pass('the monitor leads once it runs')
})

t.test('two gateways that both evaluate: only the leader publishes an automatic decision', async t => {
  const brokers = await sharedBroker(t)
  const prefix = uniquePrefix()
  const cfg = { kafka: { brokers: [brokers], topic_prefix: prefix } }
  const a = await startGateway({ ...cfg, replica: 'a' })
  const b = await startGateway({ ...cfg, replica: 'b' })
  t.teardown(async () => { await a.app.close(); await b.app.close() })
  await until(() => [a, b].filter(g => g.gw.policy!.writer).length === 1)
  const gws = [a, b]
  // Both see a huge parity gap on their own share and evaluate at once.
  for (const g of gws) {
    const mon = g.gw.monitor!
    const mi = mon.modelIndex('income')
    const sexAt = mon.layout(mi).attributes.findIndex(x => x.name === 'sex')
    const ids = new Int16Array(mon.layout(mi).base)
    for (let s = 0; s < 3; s++) {
      for (let i = 0; i < 2000; i++) {
        ids[sexAt] = i % 2
        mon.record(mi, 0, Date.now() - 5_000 * (3 - s), ids, 0, 0.5, i % 2 === 0 ? (i % 20 === 0 ? 1 : 0) : (i % 20 === 1 ? 0 : 1), 2)
      }
    }
  }
  for (let k = 0; k < 3; k++) for (const g of gws) g.gw.policy!.engine!.evaluate('income')
  const writer = gws.find(g => g.gw.policy!.writer)!
  const follower = gws.find(g => !g.gw.policy!.writer)!
  t.ok(writer.gw.policy!.decisions.list().length >= 1, 'the leader acted')
  await until(() => follower.gw.policy!.decisions.list().length === writer.gw.policy!.decisions.list().length && follower.gw.active.active('income') === writer.gw.active.active('income'))
  const records = await readTopic(brokers, `${prefix}decisions`, writer.gw.policy!.decisions.list().length)
  t.ok(records.every(r => (r.value.actor as string) === `policy@${writer === a ? 'a' : 'b'}`), 'every automatic decision on the topic is the leader\'s')
  t.ok(records.every(r => typeof r.value.seq === 'number' && (r.value.epoch as number) > 0), 'each carries its seq and the leader\'s epoch')
  for (const g of gws) {
    const ids = g.gw.policy!.decisions.list().map(d => d.id)
    t.equal(new Set(ids).size, ids.length, `listed once on ${g === a ? 'a' : 'b'}`)
  }
})
