// The loss-threshold membership-inference attack (Yeom et al., 2018): an attacker who sees a
// row, its label and the model's score guesses "trained on it" when the loss is low. Its AUC and
// advantage (max |TPR − FPR|) over a balanced sample of training rows and held-out rows measure
// how much the model gives away about its training data: 0.5 and 0 give away nothing. Overall,
// and per group, since a model can leak more about a small group it has memorised.
import type { GroupIndex } from '../models/index.js'
import { NO_GROUP } from '../models/index.js'
import { rowLoss } from './quality.js'
import { advantage, rocAuc } from './roc.js'

export interface MembershipGroup { members: number, nonmembers: number, auc: number | null, advantage: number | null }

export interface Membership {
  members: number
  nonmembers: number
  auc: number | null
  advantage: number | null
  /** Per attribute, per group (groups with fewer than report_min rows on either side are left out). */
  groups: Record<string, Record<string, MembershipGroup>>
}

/** A labelled side of the attack: losses and the rows' group ids (attrs per row). */
export interface Side { losses: Float64Array, groups: Int16Array }

/** Evenly spaced picks of m out of n rows (deterministic, so a rerun and a Python script agree). */
export function evenPicks (n: number, m: number): Uint32Array {
  const out = new Uint32Array(m)
  for (let i = 0; i < m; i++) out[i] = Math.floor(i * n / m)
  return out
}

/** Losses of the labelled rows among `picks` (a variant's scores of one data set). */
export function side (scores: ArrayLike<number>, labels: Int8Array, groups: Int16Array, attrs: number, picks: ArrayLike<number>): Side {
  const losses = new Float64Array(picks.length)
  const g = new Int16Array(picks.length * attrs)
  for (let i = 0; i < picks.length; i++) {
    const r = picks[i] as number
    losses[i] = rowLoss(scores[r] as number, labels[r] as number)
    g.set(groups.subarray(r * attrs, (r + 1) * attrs), i * attrs)
  }
  return { losses, groups: g }
}

/** Attack score: minus the loss (a member has the lower loss); truth: 1 for a member. */
function attack (members: Float64Array, nonmembers: Float64Array): { auc: number | null, advantage: number | null } {
  const score = new Float64Array(members.length + nonmembers.length)
  const truth = new Uint8Array(score.length)
  for (let i = 0; i < members.length; i++) { score[i] = -members[i]!; truth[i] = 1 }
  for (let i = 0; i < nonmembers.length; i++) score[members.length + i] = -nonmembers[i]!
  return { auc: rocAuc(score, truth), advantage: advantage(score, truth) }
}

export function membership (members: Side, nonmembers: Side, index: GroupIndex, reportMin: number): Membership {
  const attrs = index.size
  const groups: Membership['groups'] = {}
  for (let a = 0; a < attrs; a++) {
    const per: Record<string, MembershipGroup> = {}
    index.values[a]!.forEach((value, gid) => {
      const pick = (s: Side): Float64Array => {
        const xs: number[] = []
        for (let i = 0; i < s.losses.length; i++) if (s.groups[i * attrs + a] === gid && gid !== NO_GROUP) xs.push(s.losses[i]!)
        return Float64Array.from(xs)
      }
      const m = pick(members)
      const h = pick(nonmembers)
      if (m.length < Math.max(1, reportMin) || h.length < Math.max(1, reportMin)) return
      per[value] = { members: m.length, nonmembers: h.length, ...attack(m, h) }
    })
    groups[index.attributes[a]!] = per
  }
  return { members: members.losses.length, nonmembers: nonmembers.losses.length, ...attack(members.losses, nonmembers.losses), groups }
}
