// Which groups a report leaves out. A group with fewer than report_min rows is not shown, but the
// report also shows the variant's total n and selection rate, so total − Σ shown groups gives
// the hidden groups' rows and positives: with one small group hidden, exactly its own. So the
// suppression is complementary: the smallest shown groups are hidden too, until the hidden
// groups of an attribute hold at least report_min rows together. For an intersection (sex×race)
// the same holds inside every slice of it (all the Female×… cells, all the …×Black cells), since
// the marginal report (sex=Female) minus that slice's shown cells gives the slice's hidden rows.
import type { AttributeLayout, GroupLayout } from './layout.js'

/** Group ids (within attr) not to report, given the window's row count per cell. */
export function suppressedGroups (n: ArrayLike<number>, layout: GroupLayout, attr: AttributeLayout, reportMin: number): Set<number> {
  const size = attr.values.length
  const rows = (g: number): number => n[attr.offset + g] as number
  const hidden = new Set<number>()
  for (let g = 0; g < size; g++) if (rows(g) > 0 && rows(g) < reportMin) hidden.add(g)
  if (hidden.size === 0) return hidden
  const sets = [Array.from({ length: size }, (_, g) => g), ...slices(layout, attr)]
  // Each pass hides at most one more group per set, and hidden only grows: this ends.
  for (let changed = true; changed;) {
    changed = false
    for (const set of sets) {
      let hiddenRows = 0
      let smallest = -1
      for (const g of set) {
        const c = rows(g)
        if (c === 0) continue
        if (hidden.has(g)) hiddenRows += c
        else if (smallest < 0 || c < rows(smallest)) smallest = g
      }
      if (hiddenRows > 0 && hiddenRows < reportMin && smallest >= 0) {
        hidden.add(smallest)
        changed = true
      }
    }
  }
  return hidden
}

/** For an intersection: the group ids of each slice (one component's value fixed); none otherwise. */
function slices (layout: GroupLayout, attr: AttributeLayout): number[][] {
  if (attr.parts.length === 0) return []
  const radix = attr.parts.map(p => (layout.attributes[p] as AttributeLayout).values.length)
  const out: number[][] = []
  // The group id is mixed-radix over the components, the first one most significant.
  let stride = attr.values.length
  for (let j = 0; j < radix.length; j++) {
    const r = radix[j] as number
    stride /= r
    for (let v = 0; v < r; v++) {
      const set: number[] = []
      for (let g = 0; g < attr.values.length; g++) if (Math.floor(g / stride) % r === v) set.push(g)
      out.push(set)
    }
  }
  return out
}
