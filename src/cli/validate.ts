// `fairgate validate`: a dry run of start-up. Reads every manifest, loads every variant, reads
// every policy against the manifests, runs each model's golden file when it has one and a batch
// check (the same rows at batch 1 and 64 must score within 1e-6: a gateway batches unrelated
// requests together), prints every problem rather than the first, and exits 1 on any error.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { loadConfig } from '../config/index.js'
import { policyFacts } from '../gateway.js'
import { ModelRegistry, ModelRuntime, readManifest, type VariantRuntime } from '../models/index.js'
import { readPolicies } from '../policy/index.js'

/** Largest |Δ| tolerated between a batch's score and the row's alone, and against a golden file. */
export const TOLERANCE = 1e-6
const BATCH = 64

const quietLog = { info () {}, warn () {}, error () {} }

interface Report { errors: number, warnings: number }

function say (r: Report, level: 'ok' | 'warn' | 'error', what: string, msg: string): void {
  if (level === 'error') r.errors++
  if (level === 'warn') r.warnings++
  console.log(`${level.padEnd(5)} ${what}: ${msg}`)
}

const maxDiff = (a: Float32Array | readonly number[], b: Float32Array | readonly number[]): number => {
  let d = 0
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)))
  return d
}

/** Rows to check batching with: the golden file's, else deterministic pseudo-random encodings. */
function probeRows (m: ModelRuntime, golden: number[][] | undefined): Float32Array {
  const w = m.width
  const out = new Float32Array(BATCH * w)
  if (golden !== undefined && golden.length > 0) {
    for (let r = 0; r < BATCH; r++) out.set(golden[r % golden.length]!.slice(0, w), r * w)
    return out
  }
  let seed = 12345
  const rnd = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }
  for (let r = 0; r < BATCH; r++) {
    let col = r * w
    for (const f of m.manifest.features) {
      if (f.kind === 'numeric') out[col++] = (rnd() - 0.5) * 4
      else {
        out[col + Math.floor(rnd() * (f.vocabulary.length + 1))] = 1
        col += f.vocabulary.length + 1
      }
    }
  }
  return out
}

async function checkVariant (r: Report, m: ModelRuntime, v: VariantRuntime, golden: { encoded: number[][], variants: Record<string, number[]> } | undefined): Promise<void> {
  const what = `${m.name}/${v.name}`
  if (v.state !== 'ready') { say(r, 'error', what, `failed to load: ${v.error ?? 'unknown reason'}`); return }
  const notes: string[] = []
  const want = golden?.variants[v.name]
  if (golden !== undefined && want !== undefined) {
    const input = Float32Array.from(golden.encoded.flat())
    const got = await v.run(input, golden.encoded.length)
    const d = maxDiff(got, want)
    if (d > TOLERANCE) say(r, 'error', what, `golden.json: scores differ by up to ${d.toExponential(2)} over ${want.length} rows (tolerance ${TOLERANCE})`)
    else notes.push(`golden ${want.length} rows max |Δ| ${d.toExponential(1)}`)
  }
  const rows = probeRows(m, golden?.encoded)
  const batch = (await v.run(rows, BATCH)).slice()
  const alone = new Float32Array(BATCH)
  for (let i = 0; i < BATCH; i++) alone[i] = (await v.run(rows.subarray(i * m.width, (i + 1) * m.width), 1))[0]!
  const d = maxDiff(batch, alone)
  if (d > TOLERANCE) say(r, 'warn', what, `a row's score depends on its batch: batch 1 vs ${BATCH} differ by up to ${d.toExponential(2)} (dynamic quantization does this; docs/models.md#the-model-contract)`)
  else notes.push(`batch 1 vs ${BATCH} max |Δ| ${d.toExponential(1)}`)
  const outside = batch.filter(s => !(s >= 0 && s <= 1)).length
  if (outside > 0) say(r, 'warn', what, `${outside} of ${BATCH} probe scores are outside [0, 1]: is output "${m.io.output}" a probability?`)
  say(r, 'ok', what, `ready (${notes.join(', ')})`)
}

export async function validate (args: { config?: string | undefined }): Promise<void> {
  const config = loadConfig({ file: args.config })
  const r: Report = { errors: 0, warnings: 0 }
  const root = resolve(config.models.dir)
  // One thread, no pool: validation is about answers, not speed.
  const registry = new ModelRegistry({ ...config.models, inference_threads: 0, warmup_runs: 1 }, config.batching.max_batch_size, quietLog)
  try {
    if (!existsSync(root)) say(r, 'error', 'models.dir', `${root} does not exist`)
    else {
      for (const entry of readdirSync(root, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        const file = join(root, entry.name, 'model.yaml')
        if (!entry.isDirectory() || !existsSync(file)) continue
        try {
          registry.add(new ModelRuntime(readManifest(file), join(root, entry.name), config.batching.max_batch_size))
        } catch (err) {
          say(r, 'error', file, (err as Error).message)
        }
      }
      if (registry.models.length === 0 && r.errors === 0) say(r, 'error', 'models.dir', `no <name>/model.yaml under ${root}`)
    }
    let policies = new Map<string, unknown>()
    try {
      policies = readPolicies(config.policy.dir, policyFacts(registry.models), config.models.dir)
      say(r, 'ok', 'policy.dir', `${policies.size} ${policies.size === 1 ? 'policy' : 'policies'} in ${resolve(config.policy.dir)}`)
    } catch (err) {
      say(r, 'error', 'policy.dir', (err as Error).message)
    }
    await registry.load()
    for (const m of registry.models) {
      const gfile = join(m.dir, 'golden.json')
      let golden: { encoded: number[][], variants: Record<string, number[]> } | undefined
      if (existsSync(gfile)) {
        try {
          golden = JSON.parse(readFileSync(gfile, 'utf8')) as typeof golden
        } catch (err) {
          say(r, 'error', gfile, (err as Error).message)
        }
      }
      if (!policies.has(m.name)) say(r, 'ok', m.name, 'no policy: served without rules (the first ready variant)')
      for (const v of m.variants) {
        if (v.owner !== null) continue
        await checkVariant(r, m, v, golden)
      }
      for (const v of m.variants) if (v.owner !== null) say(r, v.state === 'ready' ? 'ok' : 'error', `${m.name}/${v.name}`, v.state === 'ready' ? `ready (the session of ${v.owner.name})` : `failed to load: ${v.error ?? ''}`)
    }
  } finally {
    await registry.close()
  }
  console.log(`${r.errors} ${r.errors === 1 ? 'error' : 'errors'}, ${r.warnings} ${r.warnings === 1 ? 'warning' : 'warnings'}`)
  if (r.errors > 0) process.exitCode = 1
}
