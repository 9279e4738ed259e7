// Group labels are interned once per model: attribute a, value v → a small integer, so the
// monitor indexes typed arrays instead of hashing strings per prediction.
import { FG_ERR_REQUEST_GROUP } from '../errors.js'

/** Marks an attribute a request did not label. */
export const NO_GROUP = -1

export class GroupIndex {
  readonly attributes: readonly string[]
  readonly values: ReadonlyArray<readonly string[]>
  private readonly attrIndex: Map<string, number>
  private readonly valueIndex: Array<Map<string, number>>

  constructor (groups: Record<string, readonly string[]>) {
    this.attributes = Object.keys(groups)
    this.values = this.attributes.map(a => [...(groups[a] as readonly string[])])
    this.attrIndex = new Map(this.attributes.map((a, i) => [a, i]))
    this.valueIndex = this.values.map(vs => new Map(vs.map((v, j) => [v, j])))
  }

  get size (): number { return this.attributes.length }

  /**
   * Writes the ids of one label object into out[at .. at+size). Unknown attributes and values
   * are refused (a typo would otherwise open a silent new group); unlabelled attributes are
   * NO_GROUP and simply not counted for that attribute.
   */
  parse (obj: unknown, out: Int16Array, at: number, field: string): void {
    out.fill(NO_GROUP, at, at + this.attributes.length)
    if (obj === undefined || obj === null) return
    if (typeof obj !== 'object' || Array.isArray(obj)) throw FG_ERR_REQUEST_GROUP(field, 'must be an object of attribute → value')
    for (const key in obj) {
      const a = this.attrIndex.get(key)
      if (a === undefined) throw FG_ERR_REQUEST_GROUP(`${field}.${key}`, `unknown group attribute; known: ${this.attributes.join(', ')}`)
      const v = (obj as Record<string, unknown>)[key]
      if (typeof v !== 'string') throw FG_ERR_REQUEST_GROUP(`${field}.${key}`, 'must be a string')
      const id = (this.valueIndex[a] as Map<string, number>).get(v)
      // The value itself is never echoed: group labels are sensitive and error messages get logged.
      if (id === undefined) throw FG_ERR_REQUEST_GROUP(`${field}.${key}`, `not a known value of "${key}" (${(this.values[a] as string[]).length} allowed, see GET /v2/models/{model})`)
      out[at + a] = id
    }
  }

  /** Label object of one row, for events (group labels leave the process only as configured). */
  labels (ids: Int16Array, at: number): Record<string, string> {
    const o: Record<string, string> = {}
    for (let a = 0; a < this.attributes.length; a++) {
      const id = ids[at + a] as number
      if (id !== NO_GROUP) o[this.attributes[a] as string] = (this.values[a] as string[])[id] as string
    }
    return o
  }
}
