// The gate behind the inline decision and the inference lanes: it starts on only clearly within
// the limit and flips only when the estimate stays past the far edge of the band for holdMs, on
// a fake clock (no run is timed here).
import t from 'tap'
import { HysteresisGate } from '../../src/models/hysteresis-gate.js'

function gate (startMs: number): { g: HysteresisGate, advance: (ms: number) => void } {
  let now = 0
  const g = new HysteresisGate({ now: () => now }, 0.2, 2_000)
  g.start(0.25, startMs)
  return { g, advance: (ms) => { now += ms } }
}

t.test('the start-up decision: on only clearly within the limit', async t => {
  t.ok(gate(0.1).g.on, '0.1 ms against 0.25: on')
  t.notOk(gate(0.24).g.on, '0.24 ms, inside the band: off (the start no longer depends on which side of 0.25 one timing fell)')
  t.notOk(gate(0.5).g.on, '0.5 ms: off')
  const zero = new HysteresisGate({ now: () => 0 })
  zero.start(0, 0)
  t.notOk(zero.on, 'a limit of 0 never turns on')
  t.notOk(zero.update(0), 'nor does an update')
})

t.test('a crossing shorter than the hold does not flip the gate', async t => {
  const { g, advance } = gate(0.1)
  t.notOk(g.update(0.5), 'first sample past the band: noted, not flipped')
  advance(1_500)
  t.notOk(g.update(0.5), 'still within the hold')
  t.notOk(g.update(0.2), 'back inside the band: the crossing is forgotten')
  advance(1_000)
  t.notOk(g.update(0.5), 'a new crossing starts its own hold')
  t.ok(g.on, 'still on')
})

t.test('a sustained crossing flips it, and it flips back only past the other edge', async t => {
  const { g, advance } = gate(0.1)
  g.update(0.4)
  advance(2_000)
  t.ok(g.update(0.4), 'past 0.3 ms for 2 s: flipped')
  t.notOk(g.on, 'off')
  g.update(0.22)
  advance(5_000)
  t.notOk(g.update(0.22), 'under the limit but inside the band (0.2–0.3): stays off')
  t.notOk(g.update(0.15), 'below 0.2: noted')
  advance(2_000)
  t.ok(g.update(0.15), 'held for 2 s: back on')
  t.ok(g.on)
})

t.test('options are checked', async t => {
  t.throws(() => new HysteresisGate({ now: () => 0 }, 1), /margin/)
  t.throws(() => new HysteresisGate({ now: () => 0 }, 0.2, -1), /holdMs/)
})
