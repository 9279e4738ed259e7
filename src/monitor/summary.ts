// Shard summaries (docs/scale-out.md): a sharded `fairgate monitor` owns some partitions of the
// event topics and publishes, per partition, the buckets of its windows that changed, one record
// per (partition, kind, bucket), plus a meta record per partition (owner, what it covers, when).
// Every monitor merges them into the fleet's windows: the windows are sums of counters, so the
// sum over partitions is the single monitor's window. Records carry only counters and cell
// indexes, never a group label (the layout comes from the manifests on both sides).
//
// Record value: u32 LE header length, the header as JSON, then per lane of the header the
// bucket's arrays as sparse varints (count of non-zero entries, then index gap and value per
// entry; Float64 values as 8 raw bytes). Its size is bounded by the layouts (every entry once).
import type { Clock } from '../clock.js'
import type { Monitor, MonitorLane } from './monitor.js'
import { addBucket, Bucket, LabelBucket, LAT_BINS, type Confusion } from './window.js'

export const KIND_PREDICTIONS = 0
export const KIND_LABELS = 1
export const KIND_META = 2

/** Larger records are not published (counted): under Kafka's default max.message.bytes. */
export const MAX_SUMMARY_BYTES = 900_000

export interface SummaryMeta {
  partition: number
  /** This owner's take of the partition (instance and assignment): a new take is a new owner. */
  owner: string
  /** Wall ms the owner rebuilt the partition from (its seek time): buckets before it are partial. */
  since: number
  /** When the record was written (wall ms): older than monitor.summary_stale_ms is stale. */
  at: number
  /** Whether the owner has read the partition up to where it was when assigned. */
  caughtUp: boolean
  /** Partitions of the event topics, as the owner saw them. */
  partitions: number
  /** Per lane of `lanes`: late events, late labels, non-finite scores since the take. */
  counters: number[]
}

interface Header {
  v: 1
  kind: number
  partition: number
  epoch: number
  owner: string
  since: number
  at: number
  /** model/variant of each section, with its cells and score bins (checked on decode). */
  lanes: Array<[string, string, number, number]>
  meta?: SummaryMeta
}

export interface SummaryRecord { key: string, value: Buffer }

export function summaryKey (partition: number, kind: number, epoch: number): string {
  return kind === KIND_META ? `${partition}/m` : `${partition}/${kind === KIND_PREDICTIONS ? 'p' : 'l'}/${epoch}`
}

class Writer {
  buf = Buffer.allocUnsafe(1024)
  len = 0

  private ensure (n: number): void {
    if (this.len + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n))
    this.buf.copy(next, 0, 0, this.len)
    this.buf = next
  }

  varint (x: number): void {
    this.ensure(8)
    while (x >= 0x80) { this.buf[this.len++] = (x % 0x80) | 0x80; x = Math.floor(x / 0x80) }
    this.buf[this.len++] = x
  }

  f64 (x: number): void { this.ensure(8); this.buf.writeDoubleLE(x, this.len); this.len += 8 }

  /** Non-negative integers (counters), sparse: most cells of a bucket are zero. */
  ints (a: ArrayLike<number>): void { this.sparse(a, false) }

  /** Any doubles (sums), sparse the same way. */
  floats (a: Float64Array): void { this.sparse(a, true) }

  private sparse (a: ArrayLike<number>, doubles: boolean): void {
    let nnz = 0
    for (let i = 0; i < a.length; i++) if (a[i] !== 0) nnz++
    this.varint(nnz)
    let last = -1
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!
      if (x === 0) continue
      this.varint(i - last - 1)
      if (doubles) this.f64(x); else this.varint(x)
      last = i
    }
  }
}

class Reader {
  constructor (private readonly buf: Buffer, public at: number) {}

  varint (): number {
    let x = 0
    let mul = 1
    for (;;) {
      if (this.at >= this.buf.length) throw new Error('truncated summary')
      const b = this.buf[this.at++]!
      x += (b & 0x7f) * mul
      if (b < 0x80) return x
      mul *= 0x80
    }
  }

  f64 (): number {
    if (this.at + 8 > this.buf.length) throw new Error('truncated summary')
    const x = this.buf.readDoubleLE(this.at); this.at += 8; return x
  }

  into (a: Uint32Array | Float64Array, float: boolean): void {
    const nnz = this.varint()
    let i = -1
    for (let k = 0; k < nnz; k++) {
      i += this.varint() + 1
      if (i >= a.length) throw new Error('summary entry out of range')
      a[i] = float ? this.f64() : this.varint()
    }
  }
}

function writeBucket (w: Writer, b: Bucket): void {
  w.varint(b.total); w.varint(b.totalPositive); w.f64(b.requests)
  w.ints(b.n); w.ints(b.pos); w.ints(b.scoreHist); w.ints(b.latHist); w.floats(b.latAll)
}

function readBucket (r: Reader, b: Bucket): void {
  b.total = r.varint(); b.totalPositive = r.varint(); b.requests = r.f64()
  r.into(b.n, false); r.into(b.pos, false); r.into(b.scoreHist, false); r.into(b.latHist, false); r.into(b.latAll, true)
}

function writeLabels (w: Writer, b: Confusion): void {
  w.ints(b.tp); w.ints(b.fp); w.ints(b.tn); w.ints(b.fn); w.floats(b.labelledScore)
}

function readLabels (r: Reader, b: Confusion): void {
  r.into(b.tp, false); r.into(b.fp, false); r.into(b.tn, false); r.into(b.fn, false); r.into(b.labelledScore, true)
}

function record (h: Header, body: Writer | null): SummaryRecord {
  const head = Buffer.from(JSON.stringify(h))
  const len = Buffer.allocUnsafe(4)
  len.writeUInt32LE(head.length, 0)
  return { key: summaryKey(h.partition, h.kind, h.epoch), value: Buffer.concat(body === null ? [len, head] : [len, head, body.buf.subarray(0, body.len)]) }
}

const laneShape = (l: MonitorLane): [string, string, number, number] => [l.model, l.variant, l.window.layout.cells, l.window.scoreBins]

/**
 * The records of one partition's monitor: every bucket that changed since the last call (every
 * non-empty one when `all`, after a rebuild), then the partition's meta. Marks them published.
 * Records over MAX_SUMMARY_BYTES are left out and counted in `oversized`.
 */
export function encodeSummaries (m: Monitor, meta: Omit<SummaryMeta, 'counters'>, all: boolean): { records: SummaryRecord[], oversized: number } {
  const lanes = m.lanes()
  const epochs = [new Set<number>(), new Set<number>()]
  for (const l of lanes) {
    for (const b of l.window.buckets) if (b.epoch >= 0 && (b.dirty || (all && b.total > 0))) { epochs[KIND_PREDICTIONS]!.add(b.epoch); b.dirty = false }
    for (const b of l.window.labelBuckets) if (b.epoch >= 0 && (b.dirty || all)) { epochs[KIND_LABELS]!.add(b.epoch); b.dirty = false }
  }
  const records: SummaryRecord[] = []
  let oversized = 0
  for (const kind of [KIND_PREDICTIONS, KIND_LABELS]) {
    for (const epoch of [...epochs[kind]!].sort((a, b) => a - b)) {
      const w = new Writer()
      const shapes: Header['lanes'] = []
      for (const l of lanes) {
        if (kind === KIND_PREDICTIONS) {
          const b = l.window.buckets[epoch % l.window.count]!
          if (b.epoch !== epoch || b.total === 0) continue
          shapes.push(laneShape(l)); writeBucket(w, b)
        } else {
          const b = l.window.labelBuckets[epoch % l.window.labelBuckets.length]!
          if (b.epoch !== epoch) continue
          shapes.push(laneShape(l)); writeLabels(w, b)
        }
      }
      const r = record({ v: 1, kind, partition: meta.partition, epoch, owner: meta.owner, since: meta.since, at: meta.at, lanes: shapes }, w)
      if (r.value.length > MAX_SUMMARY_BYTES) oversized++
      else records.push(r)
    }
  }
  const counters = lanes.flatMap(l => [l.window.late, l.window.lateLabels, l.window.nonFinite])
  records.push(record({ v: 1, kind: KIND_META, partition: meta.partition, epoch: 0, owner: meta.owner, since: meta.since, at: meta.at, lanes: lanes.map(laneShape), meta: { ...meta, counters } }, null))
  return { records, oversized }
}

export interface DecodedSummary {
  header: Header
  /** Per header lane: the bucket read (Bucket for predictions, LabelBucket for labels). */
  buckets: Array<Bucket | LabelBucket>
}

/** Reads one record; throws on a malformed one. */
export function decodeSummary (value: Buffer): DecodedSummary {
  if (value.length < 4) throw new Error('truncated summary')
  const hl = value.readUInt32LE(0)
  if (4 + hl > value.length) throw new Error('truncated summary')
  const header = JSON.parse(value.subarray(4, 4 + hl).toString()) as Header
  if (header.v !== 1 || !Array.isArray(header.lanes) || !Number.isInteger(header.partition) || !Number.isInteger(header.epoch)) throw new Error('not a summary record')
  const r = new Reader(value, 4 + hl)
  const buckets: Array<Bucket | LabelBucket> = []
  if (header.kind === KIND_META) return { header, buckets }
  for (const [, , cells, bins] of header.lanes) {
    if (!Number.isInteger(cells) || !Number.isInteger(bins) || cells < 0 || bins < 1 || cells * (bins + LAT_BINS) > 1e7) throw new Error('summary lane shape out of range')
    if (header.kind === KIND_PREDICTIONS) { const b = new Bucket(cells, bins); b.epoch = header.epoch; readBucket(r, b); buckets.push(b) } else { const b = new LabelBucket(cells); b.epoch = header.epoch; readLabels(r, b); buckets.push(b) }
  }
  return { header, buckets }
}

/** What the merge holds of one (kind, bucket, partition): the lanes of the record it kept. */
interface Held { owner: string, since: number, buckets: Array<Bucket | LabelBucket | null> }

/**
 * Merges shard summaries into a Monitor's windows (the fleet view): per (kind, bucket) the sum
 * over partitions of the record kept for each. The record kept for a (partition, bucket) is the
 * newest, except that a record whose owner rebuilt the partition after the bucket began (it
 * holds only its tail) does not replace one that covered it from the start.
 */
export class SummaryMerge {
  private readonly lanes: MonitorLane[]
  private readonly laneIndex = new Map<string, number>()
  /** kind → epoch → partition → held record. */
  private readonly held = [new Map<number, Map<number, Held>>(), new Map<number, Map<number, Held>>()]
  private readonly metas = new Map<number, SummaryMeta & { laneIds: number[] }>()
  /** Partitions of the event topics (the most any owner reported, or set by expect()). */
  partitions = 0
  /** Records refused: malformed, or for a layout this monitor does not have. */
  rejected = 0

  constructor (monitor: Monitor, private readonly clock: Clock, private readonly staleMs: number) {
    this.lanes = monitor.lanes()
    this.lanes.forEach((l, i) => this.laneIndex.set(`${l.model}\u0000${l.variant}`, i))
    monitor.incompletePartitions = () => this.incomplete()
  }

  expect (partitions: number): void { this.partitions = Math.max(this.partitions, partitions) }

  /** Partitions whose meta is missing, stale, or not caught up yet: the report is incomplete. */
  incomplete (): number[] {
    const now = this.clock.wallNow()
    const out: number[] = []
    for (let p = 0; p < this.partitions; p++) {
      const m = this.metas.get(p)
      if (m === undefined || !m.caughtUp || now - m.at > this.staleMs) out.push(p)
    }
    return out
  }

  apply (value: Buffer): void {
    let d: DecodedSummary
    try { d = decodeSummary(value) } catch { this.rejected++; return }
    const h = d.header
    const ids: number[] = []
    for (const [model, variant, cells, bins] of h.lanes) {
      const i = this.laneIndex.get(`${model}\u0000${variant}`)
      const w = i === undefined ? undefined : this.lanes[i]!.window
      if (w === undefined || w.layout.cells !== cells || w.scoreBins !== bins) { this.rejected++; return }
      ids.push(i!)
    }
    if (h.kind === KIND_META) { this.applyMeta(h, ids); return }
    if (h.kind !== KIND_PREDICTIONS && h.kind !== KIND_LABELS) { this.rejected++; return }
    const w0 = this.lanes[0]?.window
    if (w0 === undefined) return
    const bucketMs = h.kind === KIND_PREDICTIONS ? w0.bucketMs : w0.labelBucketMs
    const ring = h.kind === KIND_PREDICTIONS ? w0.count : w0.labelBuckets.length
    const eNow = Math.floor(this.clock.wallNow() / bucketMs)
    if (eNow - h.epoch >= ring) return // already out of the window
    const byEpoch = this.held[h.kind]!
    let parts = byEpoch.get(h.epoch)
    if (parts === undefined) {
      parts = new Map()
      byEpoch.set(h.epoch, parts)
      for (const e of byEpoch.keys()) if (eNow - e >= ring) byEpoch.delete(e)
    }
    const old = parts.get(h.partition)
    const start = h.epoch * bucketMs
    // A rebuild that began inside the bucket has only its tail: keep a record that had it all.
    if (old !== undefined && old.owner !== h.owner && h.since > start && h.since > old.since) return
    const buckets = new Array<Bucket | LabelBucket | null>(this.lanes.length).fill(null)
    ids.forEach((li, k) => { buckets[li] = d.buckets[k]! })
    parts.set(h.partition, { owner: h.owner, since: h.since, buckets })
    this.remerge(h.kind, h.epoch, parts)
  }

  private remerge (kind: number, epoch: number, parts: Map<number, Held>): void {
    const order = [...parts.keys()].sort((a, b) => a - b)
    this.lanes.forEach((l, li) => {
      if (kind === KIND_PREDICTIONS) {
        const slot = l.window.slot(epoch)
        if (slot === null) return
        slot.reset(epoch)
        for (const p of order) { const b = parts.get(p)!.buckets[li]; if (b != null) addBucket(slot, b as Bucket) }
      } else {
        const slot = l.window.labelSlot(epoch)
        if (slot === null) return
        slot.reset(epoch)
        for (const p of order) { const b = parts.get(p)!.buckets[li]; if (b != null) slot.add(b as LabelBucket) }
      }
    })
  }

  private applyMeta (h: Header, ids: number[]): void {
    const m = h.meta
    if (m === undefined || !Array.isArray(m.counters) || m.counters.length !== 3 * ids.length) { this.rejected++; return }
    const old = this.metas.get(h.partition)
    if (old !== undefined && old.at > m.at) return
    this.metas.set(h.partition, { ...m, laneIds: ids })
    this.expect(m.partitions)
    // Late and non-finite counts: the sum of every partition's owner's.
    for (const l of this.lanes) { l.window.late = 0; l.window.lateLabels = 0; l.window.nonFinite = 0 }
    for (const meta of this.metas.values()) {
      meta.laneIds.forEach((li, k) => {
        const w = this.lanes[li]!.window
        w.late += meta.counters[3 * k]!; w.lateLabels += meta.counters[3 * k + 1]!; w.nonFinite += meta.counters[3 * k + 2]!
      })
    }
  }
}
