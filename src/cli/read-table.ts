// A training or evaluation table for `fairgate init`: CSV with a header line (RFC 4180 quoting)
// or JSON Lines (one object per line). Values stay as read: CSV cells are strings, and the
// encoding fit decides what is a number.
import { readFileSync, statSync } from 'node:fs'
import { FG_ERR_INIT_TABLE } from '../errors.js'

/** The largest table init reads: it is held in memory whole. */
export const MAX_TABLE_BYTES = 512 * 1024 * 1024

export type Row = Record<string, unknown>

export function readTable (file: string): Row[] {
  let size: number
  try {
    size = statSync(file).size
  } catch (err) {
    throw FG_ERR_INIT_TABLE(file, (err as Error).message)
  }
  if (size > MAX_TABLE_BYTES) throw FG_ERR_INIT_TABLE(file, `is ${size} bytes, more than ${MAX_TABLE_BYTES}`)
  const text = readFileSync(file, 'utf8')
  const rows = /\.jsonl?$/i.test(file) ? parseJsonl(file, text) : parseCsv(file, text)
  if (rows.length === 0) throw FG_ERR_INIT_TABLE(file, 'has no rows')
  return rows
}

function parseJsonl (file: string, text: string): Row[] {
  const rows: Row[] = []
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return
    let v: unknown
    try {
      v = JSON.parse(line)
    } catch (err) {
      throw FG_ERR_INIT_TABLE(file, `line ${i + 1}: ${(err as Error).message}`)
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw FG_ERR_INIT_TABLE(file, `line ${i + 1}: not a JSON object`)
    // eval.jsonl of the bundled model nests the record: {features, group, label}; flatten it.
    const o = v as Row
    const nested = typeof o.features === 'object' && o.features !== null && !Array.isArray(o.features)
    rows.push(nested ? { ...(o.group as Row | undefined), ...(o.features as Row), label: o.label } : o)
  })
  return rows
}

/** Cells of a CSV text, quotes ("a ""b""") and quoted newlines included. */
function parseCsv (file: string, text: string): Row[] {
  const records: string[][] = []
  let rec: string[] = []
  let cell = ''
  let quoted = false
  let i = 0
  for (; i < text.length; i++) {
    const ch = text[i]
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') { cell += '"'; i++ } else quoted = false
      } else cell += ch
    } else if (ch === '"' && cell === '') quoted = true
    else if (ch === ',') { rec.push(cell); cell = '' }
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++
      rec.push(cell); cell = ''
      if (rec.length > 1 || rec[0] !== '') records.push(rec)
      rec = []
    } else cell += ch
  }
  if (quoted) throw FG_ERR_INIT_TABLE(file, 'ends inside a quoted cell')
  if (cell !== '' || rec.length > 0) { rec.push(cell); records.push(rec) }
  const header = records.shift()
  if (header === undefined) return []
  return records.map((r, n) => {
    if (r.length !== header.length) throw FG_ERR_INIT_TABLE(file, `record ${n + 2} has ${r.length} cells, the header ${header.length}`)
    return Object.fromEntries(header.map((h, j) => [h, r[j]]))
  })
}
