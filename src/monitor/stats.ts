// Interval estimates and drift measures used by the monitor and the policy engine. Definitions:
// Wilson score interval for a proportion; Newcombe's hybrid score interval (his method 10) for a
// difference of two independent proportions; PSI over fixed bins with a floor for empty bins.

/** Inverse of the standard normal CDF (Acklam's rational approximation, |rel err| < 1.2e-9). */
export function normalQuantile (p: number): number {
  if (!(p > 0 && p < 1)) return p === 0 ? -Infinity : p === 1 ? Infinity : NaN
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239]
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1]
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783]
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416]
  const lo = 0.02425
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p))
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
  }
  if (p > 1 - lo) return -normalQuantile(1 - p)
  const q = p - 0.5
  const r = q * q
  return (((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
}

/** Two-sided z for confidence 1 − alpha, Bonferroni-corrected over `comparisons`. */
export function zFor (alpha: number, comparisons = 1): number {
  return normalQuantile(1 - alpha / (2 * Math.max(1, comparisons)))
}

export const Z95 = 1.959963984540054

export type Interval = [number, number]

/** Wilson score interval of k successes in n trials; [NaN, NaN] for n = 0. */
export function wilson (k: number, n: number, z = Z95): Interval {
  if (n <= 0) return [NaN, NaN]
  const p = k / n
  const z2 = z * z
  const den = 1 + z2 / n
  const center = (p + z2 / (2 * n)) / den
  const half = (z / den) * Math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
  return [Math.max(0, center - half), Math.min(1, center + half)]
}

/**
 * Newcombe hybrid score interval for p1 − p2 (k1/n1 minus k2/n2), built from the two Wilson
 * intervals. Better coverage than the Wald interval for small groups and rates near 0 or 1.
 */
export function newcombe (k1: number, n1: number, k2: number, n2: number, z = Z95): Interval {
  if (n1 <= 0 || n2 <= 0) return [NaN, NaN]
  const p1 = k1 / n1
  const p2 = k2 / n2
  const [l1, u1] = wilson(k1, n1, z)
  const [l2, u2] = wilson(k2, n2, z)
  const d = p1 - p2
  return [d - Math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + Math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)]
}

/** Floor for empty bins, so a bin that is empty on one side does not make PSI infinite. */
export const PSI_FLOOR = 1e-4

/** Population stability index of `actual` against `expected` counts over the same fixed bins. */
export function psi (actual: ArrayLike<number>, expected: ArrayLike<number>, floor = PSI_FLOOR): number {
  let na = 0
  let ne = 0
  for (let i = 0; i < actual.length; i++) { na += actual[i]!; ne += expected[i]! }
  if (na === 0 || ne === 0) return NaN
  let s = 0
  for (let i = 0; i < actual.length; i++) {
    const a = Math.max(actual[i]! / na, floor)
    const e = Math.max(expected[i]! / ne, floor)
    s += (a - e) * Math.log(a / e)
  }
  return s
}
