// GET /ui: the on-call page (ui/ in the repository: one HTML, one script, one stylesheet, no
// build step, no CDN). The plugin is handed no gateway interface at all: the page reads
// /v1/fairness, /v1/decisions and /metrics from the browser like any other client, so it can
// show nothing those answers do not (groups under report_min included), and it changes nothing.
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'

/** ui/ at the repository root: two levels up from src/http/ and from dist/http/ alike. */
export const UI_DIR = fileURLToPath(new URL('../../ui/', import.meta.url))

// The assets are small hand-written files; a bound keeps a stray large file out of memory.
const MAX_ASSET_BYTES = 256 * 1024

const ASSETS = [
  { url: '/ui', file: 'index.html', type: 'text/html; charset=utf-8' },
  { url: '/ui/app.js', file: 'app.js', type: 'text/javascript; charset=utf-8' },
  { url: '/ui/style.css', file: 'style.css', type: 'text/css; charset=utf-8' }
] as const

// The browser enforces what the page may do: scripts and styles from the gateway itself, fetches
// to the gateway itself, no frames, no forms, no third-party anything. The icon is a data: URL
// so the browser asks for no /favicon.ico.
const HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache'
}

export interface UiAsset { url: string, type: string, body: Buffer }

/** Reads the page's files once, at start: a missing or oversized one fails the start, naming it. */
export function loadUiAssets (dir: string = UI_DIR): UiAsset[] {
  return ASSETS.map(a => {
    const path = join(dir, a.file)
    let size: number
    try { size = statSync(path).size } catch { throw new Error(`the /ui page needs ${path} (ui/ of the fairgate repository; the Docker image copies it to /app/ui)`) }
    if (size > MAX_ASSET_BYTES) throw new Error(`${path} is ${size} bytes, more than the ${MAX_ASSET_BYTES} a /ui asset may be`)
    return { url: a.url, type: a.type, body: readFileSync(path) }
  })
}

export function uiRoutes (app: FastifyInstance, assets: readonly UiAsset[]): void {
  for (const a of assets) {
    app.get(a.url, async (_req, reply) => reply.headers(HEADERS).type(a.type).send(a.body))
  }
}
