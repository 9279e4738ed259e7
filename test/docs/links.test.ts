// Every relative link in the README, docs/ and the model docs resolves to a file or folder the
// repository tracks, and every #anchor to a heading of its target; no link leaves the
// repository (a clone has no ../shared). Links to web sites (http, https, mailto) are not
// followed: they are citations, not part of the repository.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, sep } from 'node:path'
import { ROOT } from '../helpers/gateway.js'

interface Link { file: string, line: number, target: string }

/** Markdown lines outside fenced code blocks; inline code too is blanked unless keepCode. */
function prose (text: string, keepCode = false): string[] {
  let fenced = false
  return text.split('\n').map(line => {
    if (/^\s*(```|~~~)/.test(line)) { fenced = !fenced; return '' }
    if (fenced) return ''
    return keepCode ? line : line.replace(/`[^`]*`/g, '``')
  })
}

export function linksOf (file: string, text: string): Link[] {
  const out: Link[] = []
  prose(text).forEach((line, i) => {
    for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ file, line: i + 1, target: m[1]! })
    const def = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(line)
    if (def !== null) out.push({ file, line: i + 1, target: def[1]! })
  })
  return out
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to '-', repeats get -1, -2. */
export function anchorsOf (text: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  for (const line of prose(text, true)) {
    const h = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)
    if (h === null) continue
    const base = h[1]!.replace(/<[^>]+>/g, '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').toLowerCase().trim()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-')
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    out.add(n === 0 ? base : `${base}-${n}`)
  }
  return out
}

function trackedFiles (root: string): Set<string> | null {
  try {
    return new Set(execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 }).split('\0').filter(f => f !== ''))
  } catch {
    return null // not a git checkout (an exported tree): existence is checked instead
  }
}

/** Problems with the links of one file, as "file:line: target: why". */
export function checkLinks (root: string, file: string, text: string, tracked: Set<string> | null): string[] {
  const problems: string[] = []
  const rel = relative(root, file)
  for (const l of linksOf(file, text)) {
    const where = `${rel}:${l.line}: ${l.target}`
    if (/^(https?:|mailto:)/i.test(l.target)) continue
    if (/^[a-z][a-z0-9+.-]*:/i.test(l.target) || l.target.startsWith('/')) { problems.push(`${where}: not a relative link`); continue }
    const [pathPart, anchor] = l.target.split('#', 2) as [string, string | undefined]
    const path = decodeURIComponent(pathPart)
    const abs = path === '' ? file : join(dirname(file), path)
    const inRepo = relative(root, abs)
    if (inRepo.split(sep).includes('..')) { problems.push(`${where}: leaves the repository`); continue }
    if (/(^|\/)shared(\/|$)/.test(path)) { problems.push(`${where}: points at ../shared`); continue }
    if (path === '') { // an anchor into this same file
      if (anchor !== undefined && !anchorsOf(text).has(anchor)) problems.push(`${where}: no heading #${anchor} in ${rel}`)
      continue
    }
    if (!existsSync(abs)) { problems.push(`${where}: no such file`); continue }
    const isDir = statSync(abs).isDirectory()
    if (tracked !== null) {
      const ok = isDir ? [...tracked].some(f => f.startsWith(inRepo.split(sep).join('/') + '/')) : tracked.has(inRepo.split(sep).join('/'))
      if (!ok) { problems.push(`${where}: not tracked by git`); continue }
    }
    if (anchor !== undefined && anchor !== '') {
      if (isDir || !abs.endsWith('.md')) { problems.push(`${where}: an anchor into a file that is not markdown`); continue }
      if (!anchorsOf(readFileSync(abs, 'utf8')).has(anchor)) problems.push(`${where}: no heading #${anchor} in ${relative(root, abs)}`)
    }
  }
  return problems
}

function markdownUnder (dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir).flatMap(f => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? markdownUnder(p) : p.endsWith('.md') ? [p] : []
  })
}

const docs = [
  join(ROOT, 'README.md'),
  ...markdownUnder(join(ROOT, 'docs')),
  join(ROOT, 'models', 'README.md'),
  ...readdirSync(join(ROOT, 'models')).map(d => join(ROOT, 'models', d, 'MODEL_CARD.md')).filter(f => existsSync(f))
]

t.test('every relative link and anchor resolves inside the repository', async t => {
  t.ok(docs.some(f => f.endsWith(join('docs', 'README.md'))), 'docs/README.md, the index, exists')
  t.ok(docs.some(f => f.endsWith('MODEL_CARD.md')), 'model cards are checked')
  const tracked = trackedFiles(ROOT)
  let links = 0
  for (const f of docs) {
    const text = readFileSync(f, 'utf8')
    links += linksOf(f, text).length
    t.same(checkLinks(ROOT, f, text, tracked), [], `${relative(ROOT, f)}: every link resolves`)
  }
  t.ok(links > 50, `${links} links checked`)
})

t.test('every alert\'s runbook is a page and heading of the repository', async t => {
  const rules = join(ROOT, 'deploy', 'prometheus', 'rules')
  const runbooks = readdirSync(rules).flatMap(f => [...readFileSync(join(rules, f), 'utf8').matchAll(/^\s*runbook:\s*(\S+)\s*$/gm)].map(m => m[1]!))
  t.ok(runbooks.length > 0, `${runbooks.length} runbook annotations`)
  // A runbook path is relative to the repository root: check it as a link from a root file.
  for (const r of runbooks) t.same(checkLinks(ROOT, join(ROOT, 'README.md'), `[runbook](${r})`, trackedFiles(ROOT)), [], `runbook ${r}`)
})

t.test('every docs/ page is reachable from docs/README.md', async t => {
  const index = join(ROOT, 'docs', 'README.md')
  const linked = new Set(linksOf(index, readFileSync(index, 'utf8')).map(l => join(dirname(index), l.target.split('#')[0]!)))
  for (const f of markdownUnder(join(ROOT, 'docs')).filter(f => f !== index)) t.ok(linked.has(f), `docs/README.md links ${relative(ROOT, f)}`)
})

t.test('the checker catches what it should', async t => {
  const file = join(ROOT, 'docs', 'scratch.md')
  const text = [
    '# A heading, with punctuation!',
    '[ok](api.md#errors) [ok](#a-heading-with-punctuation) [web](https://example.org/x)',
    '[dead](missing.md) [out](../../shared/DESIGN.md) [shared](../shared/DESIGN.md) [abs](/etc/passwd)',
    '[anchor](api.md#no-such-heading) [self](#nope)',
    '```sh',
    '[in code](not-checked.md)',
    '```',
    'and `[inline](not-checked-either.md)`',
    '[ref]: also-missing.md'
  ].join('\n')
  const problems = checkLinks(ROOT, file, text, null).map(p => p.replace(/^docs\/scratch\.md:\d+: /, ''))
  t.same(problems, [
    'missing.md: no such file',
    '../../shared/DESIGN.md: leaves the repository',
    '../shared/DESIGN.md: points at ../shared',
    '/etc/passwd: not a relative link',
    'api.md#no-such-heading: no heading #no-such-heading in docs/api.md',
    '#nope: no heading #nope in docs/scratch.md',
    'also-missing.md: no such file'
  ])
  t.same([...anchorsOf('# Shutdown\n## One place decides\n## Shutdown\n### `a.b` and [c](d)')], ['shutdown', 'one-place-decides', 'shutdown-1', 'ab-and-c'])
})
