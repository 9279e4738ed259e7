// The cells a model's statistics are kept in: one per (attribute, group), the manifest's
// attributes first, then configured intersections (e.g. sex×race) whose group id is derived
// from the component ids — no string is built or hashed per prediction.
import { NO_GROUP } from '../models/index.js'

export const INTERSECTION_SEPARATOR = '×'

export interface AttributeLayout {
  name: string
  values: string[]
  offset: number
  /** Component attribute indexes for an intersection; empty for a manifest attribute. */
  parts: number[]
}

export class GroupLayout {
  readonly attributes: AttributeLayout[] = []
  readonly cells: number
  /** Manifest attributes (the width of a request's group id row). */
  readonly base: number

  constructor (groups: Record<string, readonly string[]>, intersections: ReadonlyArray<readonly string[]> = []) {
    let off = 0
    for (const [name, values] of Object.entries(groups)) {
      this.attributes.push({ name, values: [...values], offset: off, parts: [] })
      off += values.length
    }
    this.base = this.attributes.length
    for (const combo of intersections) {
      const parts = combo.map(n => this.attributes.findIndex(a => a.name === n && a.parts.length === 0))
      if (parts.some(p => p < 0) || parts.length < 2) continue
      let values: string[] = ['']
      for (const p of parts) values = values.flatMap(v => this.attributes[p]!.values.map(x => v === '' ? x : `${v}${INTERSECTION_SEPARATOR}${x}`))
      this.attributes.push({ name: combo.join(INTERSECTION_SEPARATOR), values, offset: off, parts })
      off += values.length
    }
    this.cells = off
  }

  /**
   * Writes the cell index of each attribute (-1 where unlabelled) for one row of base group ids.
   * out must hold attributes.length entries.
   */
  cellsOf (ids: ArrayLike<number>, at: number, out: Int32Array): void {
    const attrs = this.attributes
    for (let a = 0; a < attrs.length; a++) {
      const attr = attrs[a]!
      let gid: number
      if (attr.parts.length === 0) gid = ids[at + a] as number
      else {
        gid = 0
        for (const p of attr.parts) {
          const g = ids[at + p] as number
          if (g === NO_GROUP) { gid = NO_GROUP; break }
          gid = gid * attrs[p]!.values.length + g
        }
      }
      out[a] = gid === NO_GROUP ? -1 : attr.offset + gid
    }
  }
}
