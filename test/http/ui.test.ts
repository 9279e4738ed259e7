// GET /ui over inject(): the page's three files with their types and the headers that keep the
// browser on the gateway (CSP), on a gateway and on `fairgate monitor`'s server; nothing in them
// points off the gateway; a missing or oversized asset fails the start naming the file. The page
// in a real browser is test/ui/page.e2e.test.ts.
import t from 'tap'
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildMonitorServer } from '../../src/http/index.js'
import { loadUiAssets, UI_DIR } from '../../src/http/ui.js'
import { ROOT, startGateway } from '../helpers/gateway.js'

const FILES = [
  ['/ui', /^text\/html/, /<script src="\/ui\/app.js"/],
  ['/ui/app.js', /^text\/javascript/, /fetch\(/],
  ['/ui/style.css', /^text\/css/, /--vermillion/]
] as const

t.test('the gateway serves the page, its script and its stylesheet under a same-origin CSP', async t => {
  const { app } = await startGateway()
  t.teardown(() => app.close())
  for (const [url, type, body] of FILES) {
    const res = await app.inject(url)
    t.equal(res.statusCode, 200, `${url}: 200`)
    t.match(res.headers['content-type'], type, `${url}: its type`)
    t.match(res.body, body, `${url}: the file`)
    const csp = String(res.headers['content-security-policy'])
    t.match(csp, /default-src 'none'/, `${url}: nothing allowed by default`)
    t.match(csp, /connect-src 'self'/, `${url}: fetches only to the gateway`)
    t.notMatch(csp, /unsafe-inline|unsafe-eval|https?:/, `${url}: no inline code and no other origin`)
    t.equal(res.headers['x-content-type-options'], 'nosniff')
  }
  t.equal((await app.inject({ method: 'HEAD', url: '/ui' })).statusCode, 200, 'HEAD /ui')
  t.equal((await app.inject('/ui/other.js')).statusCode, 404, 'no other file under /ui')
  t.equal((await app.inject({ method: 'POST', url: '/ui' })).statusCode, 404, 'nothing to post to')
})

t.test('fairgate monitor serves the same page', async t => {
  const app = buildMonitorServer({
    fairness: { windowMs: 1000, modelNames: () => [], report: () => undefined, policies: () => [], decisions: () => [] },
    metrics: { contentType: 'text/plain', text: async () => '' },
    ready: () => true,
    status: () => ({})
  })
  t.teardown(() => app.close())
  const res = await app.inject('/ui')
  t.equal(res.statusCode, 200)
  t.equal(res.body, readFileSync(join(ROOT, 'ui', 'index.html'), 'utf8'))
})

t.test('the assets reference nothing off the gateway (no CDN, no font, no tracker)', async t => {
  t.equal(UI_DIR.replace(/\/$/, ''), join(ROOT, 'ui'), 'ui/ at the repository root')
  for (const a of loadUiAssets()) {
    // The one absolute URL allowed is the SVG namespace, an identifier the browser never fetches.
    const text = a.body.toString('utf8').replaceAll('http://www.w3.org/2000/svg', '')
    t.notMatch(text, /https?:\/\/|["'(]\/\/[a-z]/i, `${a.url}: no absolute or protocol-relative URL`)
    t.notMatch(text, /@import|<iframe|XMLHttpRequest|WebSocket|EventSource|method:/i, `${a.url}: no other channel and no non-GET request`)
  }
})

t.test('a missing or oversized asset fails the start, naming the file', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-ui-'))
  t.throws(() => loadUiAssets(dir), { message: /index\.html/ }, 'missing index.html')
  copyFileSync(join(ROOT, 'ui', 'index.html'), join(dir, 'index.html'))
  copyFileSync(join(ROOT, 'ui', 'style.css'), join(dir, 'style.css'))
  writeFileSync(join(dir, 'app.js'), 'x'.repeat(256 * 1024 + 1))
  t.throws(() => loadUiAssets(dir), { message: /app\.js is 262145 bytes/ }, 'oversized app.js')
})
