// The drift scenario of test/policy/drift.e2e.test.ts, shared with the /ui browser test: a
// policy directory with one sequential demographic-parity rule on sex, and a replay of
// eval.jsonl through POST /v1/predict on a fake clock, one second of traffic per call.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { stringify } from 'yaml'
import type { FakeClock } from './fake-clock.js'
import { evalRows, type EvalRow } from './gateway.js'

/** A policy dir for `income`: rule sex-dp (DPD ≤ 0.25 on sex, rollback) and any others, checked every intervalMs. */
export function sexParityPolicyDir (intervalMs: number, otherRules: object[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'fg-drift-'))
  writeFileSync(join(dir, 'income.yaml'), stringify({
    model: 'income',
    variants: ['full', 'fair', 'distilled'],
    interval_ms: intervalMs,
    hysteresis: 3,
    cooldown_ms: 60_000,
    fairness: [{ name: 'sex-dp', metric: 'demographic_parity_difference', attribute: 'sex', threshold: 0.25, min_samples: 200, action: { type: 'rollback' } }, ...otherRules]
  }))
  return dir
}

/**
 * Replays eval.jsonl: each call sends one second of traffic (200 rows in requests of 20, with
 * per-row groups) and advances the clock by a second. With drift, Male applicants' inputs shift
 * to a large capital gain, the strongest positive feature in Adult, so their selection rate
 * jumps. onAnswer sees each request's rows and its answer (to send feedback, say).
 */
export function replay (app: FastifyInstance, clock: FakeClock, onAnswer?: (rows: EvalRow[], answers: Array<{ id: string }>) => Promise<void>): (drift: boolean) => Promise<void> {
  const rows = evalRows()
  let next = 0
  return async (drift) => {
    for (let r = 0; r < 10; r++) {
      const batch = Array.from({ length: 20 }, () => rows[next++ % rows.length]!)
      const instances = batch.map(x => drift && x.group.sex === 'Male' ? { ...x.features, capital_gain: 15024 } : x.features)
      const res = await app.inject({ method: 'POST', url: '/v1/predict', payload: { model: 'income', instances, groups: batch.map(x => x.group) } })
      if (res.statusCode !== 200) throw new Error(res.body)
      if (onAnswer !== undefined) await onAnswer(batch, res.json() as Array<{ id: string }>)
    }
    clock.advance(1000)
  }
}
