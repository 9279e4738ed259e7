// A variant's decision rule, resolved against the model's interned groups once at load: per row it
// is one typed-array read (the threshold of the row's group) instead of a string lookup.
import { NO_GROUP, type GroupIndex } from './groups.js'
import type { DecisionSpec } from './manifest.js'

export class DecisionRule {
  /** Index of the rule's attribute among the model's group attributes; -1: one threshold for all. */
  readonly attribute: number
  /** Threshold per value id of that attribute. */
  readonly byGroup: Float64Array
  /** The threshold of rows the rule cannot place (all rows when attribute is -1). */
  readonly fallback: number

  constructor (spec: DecisionSpec | undefined, modelThreshold: number, groups: GroupIndex) {
    if (spec === undefined || !('by_group' in spec)) {
      this.attribute = -1
      this.byGroup = new Float64Array(0)
      this.fallback = spec === undefined ? modelThreshold : spec.threshold
      return
    }
    const bg = spec.by_group
    this.attribute = groups.attributes.indexOf(bg.attribute)
    const values = groups.values[this.attribute] ?? []
    this.byGroup = Float64Array.from(values, v => bg.thresholds[v] ?? bg.default)
    this.fallback = bg.default
  }

  get usesGroups (): boolean { return this.attribute >= 0 }

  /**
   * Writes each row's threshold into out and returns how many rows lacked the rule's attribute
   * (they get the default). groupIds holds `attrs` ids per row when perRow, else one set for all.
   */
  thresholds (groupIds: Int16Array, attrs: number, perRow: boolean, out: Float64Array, rows: number): number {
    if (this.attribute < 0) {
      out.fill(this.fallback, 0, rows)
      return 0
    }
    let missing = 0
    for (let r = 0; r < rows; r++) {
      const id = groupIds[(perRow ? r * attrs : 0) + this.attribute] as number
      if (id === NO_GROUP) {
        out[r] = this.fallback
        missing++
      } else out[r] = this.byGroup[id] as number
    }
    return missing
  }
}
