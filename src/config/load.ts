// Configuration comes from one YAML file overridden by FAIRGATE_* variables, and is checked once,
// here, at start. The variable names are derived from the schema's own keys (every leaf has a
// default, so the defaults enumerate them), which keeps the two from drifting apart.
import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { FG_ERR_CONFIG_FILE, FG_ERR_CONFIG_INVALID } from '../errors.js'
import { checkBounds } from './bounds.js'
import { configSchema, type Config } from './schema.js'

export const ENV_PREFIX = 'FAIRGATE_'

type Leaf = { path: string[], sample: unknown }

function leaves (obj: Record<string, unknown>, prefix: string[] = [], out: Leaf[] = []): Leaf[] {
  for (const [k, v] of Object.entries(obj)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) leaves(v as Record<string, unknown>, [...prefix, k], out)
    else out.push({ path: [...prefix, k], sample: v })
  }
  return out
}

/** FAIRGATE_<PATH> name of every configuration leaf, e.g. FAIRGATE_KAFKA_BROKERS → kafka.brokers. */
export function envNames (): Map<string, Leaf> {
  const m = new Map<string, Leaf>()
  for (const leaf of leaves(configSchema.parse({}) as unknown as Record<string, unknown>)) {
    m.set(ENV_PREFIX + leaf.path.join('_').toUpperCase(), leaf)
  }
  return m
}

function coerce (name: string, raw: string, sample: unknown): unknown {
  if (Array.isArray(sample)) return raw.split(',').map(s => s.trim()).filter(s => s.length > 0)
  if (typeof sample === 'number') {
    const n = Number(raw)
    if (raw.trim() === '' || !Number.isFinite(n)) throw FG_ERR_CONFIG_INVALID(name, `expected a number, got "${raw}"`)
    return n
  }
  if (typeof sample === 'boolean') {
    if (/^(1|true|yes|on)$/i.test(raw)) return true
    if (/^(0|false|no|off)$/i.test(raw)) return false
    throw FG_ERR_CONFIG_INVALID(name, `expected true or false, got "${raw}"`)
  }
  return raw
}

function setPath (obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = obj
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i] as string
    const next = cur[k]
    if (next === null || typeof next !== 'object' || Array.isArray(next)) cur[k] = {}
    cur = cur[k] as Record<string, unknown>
  }
  cur[path[path.length - 1] as string] = value
}

export interface LoadOptions {
  /** YAML file; a missing default file is fine, a missing named file is not. */
  file?: string | undefined
  env?: NodeJS.ProcessEnv
  /** Values applied last (tests, CLI flags). */
  overrides?: Record<string, unknown>
}

export const DEFAULT_CONFIG_FILE = 'fairgate.yaml'

function readYaml (file: string, required: boolean): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw FG_ERR_CONFIG_FILE(file, (err as Error).message)
  }
  let doc: unknown
  try {
    doc = parseYaml(text)
  } catch (err) {
    throw FG_ERR_CONFIG_FILE(file, (err as Error).message)
  }
  if (doc === null || doc === undefined) return {}
  if (typeof doc !== 'object' || Array.isArray(doc)) throw FG_ERR_CONFIG_FILE(file, 'top level must be a mapping')
  return doc as Record<string, unknown>
}

function deepMerge (into: Record<string, unknown>, from: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(from)) {
    const cur = into[k]
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && cur !== null && typeof cur === 'object' && !Array.isArray(cur)) {
      deepMerge(cur as Record<string, unknown>, v as Record<string, unknown>)
    } else into[k] = v
  }
  return into
}

/** Validates a raw configuration object; the error names the first offending field. */
export function validateConfig (raw: unknown): Config {
  const res = configSchema.safeParse(raw)
  if (res.success) {
    const m = res.data.monitor
    if (m.window_ms % m.bucket_ms !== 0) throw FG_ERR_CONFIG_INVALID('monitor.window_ms', `must be a multiple of monitor.bucket_ms (${m.bucket_ms})`)
    const h = res.data.http
    if (h.headers_timeout_ms > h.request_timeout_ms) throw FG_ERR_CONFIG_INVALID('http.headers_timeout_ms', `must be at most http.request_timeout_ms (${h.request_timeout_ms})`)
    checkBounds(res.data)
    return res.data
  }
  const issue = res.error.issues[0]!
  let path = issue.path.join('.')
  let why = issue.message
  if (issue.code === 'unrecognized_keys') {
    path = [...issue.path, issue.keys[0]].join('.')
    why = 'unknown key'
  }
  throw FG_ERR_CONFIG_INVALID(path === '' ? '(root)' : path, why)
}

export function loadConfig (opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env
  const file = opts.file ?? env.FAIRGATE_CONFIG ?? DEFAULT_CONFIG_FILE
  const explicit = opts.file !== undefined || env.FAIRGATE_CONFIG !== undefined
  const raw = readYaml(file, explicit)
  const names = envNames()
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined || name === 'FAIRGATE_CONFIG') continue
    const leaf = names.get(name)
    // An unknown FAIRGATE_ variable is almost always a typo; refusing it beats ignoring it.
    if (leaf === undefined) throw FG_ERR_CONFIG_INVALID(name, 'unknown FAIRGATE_* variable')
    setPath(raw, leaf.path, coerce(name, value, leaf.sample))
  }
  if (opts.overrides !== undefined) deepMerge(raw, structuredClone(opts.overrides))
  return validateConfig(raw)
}
