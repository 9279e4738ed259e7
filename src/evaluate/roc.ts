// The two numbers of a score's ranking against a binary truth: the area under the ROC curve
// (Mann–Whitney with mid-ranks for ties, which equals scikit-learn's trapezoidal roc_auc_score)
// and the advantage max over thresholds of |TPR − FPR| (Yeom et al.'s membership advantage).

/** AUC of `score` separating truth = 1 from truth = 0; null when either class is empty. */
export function rocAuc (score: ArrayLike<number>, truth: ArrayLike<number>): number | null {
  const n = score.length
  const order = sortedOrder(score)
  let pos = 0
  let rankSum = 0
  for (let i = 0; i < n;) {
    // Rows tied on one score share the mean of their ranks (1-based).
    let j = i
    while (j + 1 < n && score[order[j + 1]!] === score[order[i]!]) j++
    const rank = (i + j + 2) / 2
    for (let k = i; k <= j; k++) if (truth[order[k]!] === 1) { pos++; rankSum += rank }
    i = j + 1
  }
  const neg = n - pos
  if (pos === 0 || neg === 0) return null
  return (rankSum - pos * (pos + 1) / 2) / (pos * neg)
}

/** max |TPR − FPR| over every threshold on `score` (a row is called positive when score ≥ t). */
export function advantage (score: ArrayLike<number>, truth: ArrayLike<number>): number | null {
  const n = score.length
  const order = sortedOrder(score)
  let pos = 0
  for (let i = 0; i < n; i++) if (truth[i] === 1) pos++
  const neg = n - pos
  if (pos === 0 || neg === 0) return null
  let tp = 0
  let fp = 0
  let best = 0
  // Walk from the highest score down; ties enter together (one threshold).
  for (let i = n - 1; i >= 0;) {
    let j = i
    while (j - 1 >= 0 && score[order[j - 1]!] === score[order[i]!]) j--
    for (let k = j; k <= i; k++) { if (truth[order[k]!] === 1) tp++; else fp++ }
    best = Math.max(best, Math.abs(tp / pos - fp / neg))
    i = j - 1
  }
  return best
}

function sortedOrder (score: ArrayLike<number>): Uint32Array {
  const order = new Uint32Array(score.length)
  for (let i = 0; i < order.length; i++) order[i] = i
  return order.sort((a, b) => (score[a] as number) - (score[b] as number))
}
