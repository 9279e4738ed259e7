// A variant's quality over the labelled rows: accuracy of its decisions, and of its scores AUC,
// log loss, Brier score and expected calibration error (10 equal-width bins, weighted by rows).
import { rocAuc } from './roc.js'

export interface Quality {
  labelled: number
  accuracy: number | null
  auc: number | null
  log_loss: number | null
  brier: number | null
  ece: number | null
}

/** Scores are clipped to [EPS, 1 − EPS] before a log, so a confident miss costs ~34.5, not Infinity. */
export const LOSS_EPS = 1e-15

/** The log loss of one row: −ln p for label 1, −ln(1 − p) for label 0 (the membership attack's signal). */
export function rowLoss (score: number, label: number): number {
  const p = Math.min(1 - LOSS_EPS, Math.max(LOSS_EPS, score))
  return label === 1 ? -Math.log(p) : -Math.log(1 - p)
}

export const ECE_BINS = 10

export function quality (scores: ArrayLike<number>, decisions: ArrayLike<number>, labels: ArrayLike<number>): Quality {
  const s: number[] = []
  const y: number[] = []
  let right = 0
  let loss = 0
  let brier = 0
  const binN = new Float64Array(ECE_BINS)
  const binP = new Float64Array(ECE_BINS)
  const binY = new Float64Array(ECE_BINS)
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] as number
    if (label < 0) continue
    const p = scores[i] as number
    s.push(p)
    y.push(label)
    if (decisions[i] === label) right++
    loss += rowLoss(p, label)
    brier += (p - label) ** 2
    const b = Math.min(ECE_BINS - 1, Math.max(0, Math.floor(p * ECE_BINS)))
    binN[b]!++
    binP[b]! += p
    binY[b]! += label
  }
  const n = s.length
  if (n === 0) return { labelled: 0, accuracy: null, auc: null, log_loss: null, brier: null, ece: null }
  let ece = 0
  for (let b = 0; b < ECE_BINS; b++) if (binN[b]! > 0) ece += (binN[b]! / n) * Math.abs(binP[b]! / binN[b]! - binY[b]! / binN[b]!)
  return { labelled: n, accuracy: right / n, auc: rocAuc(s, y), log_loss: loss / n, brier: brier / n, ece }
}
