// The import rules of .dependency-cruiser.cjs, run by npm test: src/ has no cycle, no transport
// library outside http/ and grpc/, src/oip/ between the transports and the core, no reach past another folder's index.ts. The fixture proves the config
// catches each kind of violation and names the offending path.
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import t from 'tap'
import { ROOT } from './helpers/gateway.js'

const BIN = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs')
const CONFIG = join(ROOT, '.dependency-cruiser.cjs')

// The cache (keyed on file contents, kept in node_modules/.cache) lets a rerun skip parsing the
// unchanged sources with TypeScript, most of the check's CPU; a changed file is parsed again.
const CACHE = join(ROOT, 'node_modules', '.cache', 'fairgate-depcheck')

function cruise (cwd: string, cache: boolean): { status: number | null, out: string } {
  const args = [BIN, 'src', '--config', CONFIG, '--output-type', 'err', ...(cache ? ['--cache', CACHE, '--cache-strategy', 'content'] : [])]
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8' })
  return { status: r.status, out: `${r.stdout}${r.stderr}` }
}

t.test('src/ keeps the import rules', async t => {
  const r = cruise(ROOT, true)
  t.equal(r.status, 0, r.out)
})

t.test('the config catches a cycle, a transport import, an index bypass and src/oip reaching up into a transport, naming the paths', async t => {
  const r = cruise(join(ROOT, 'test', 'fixtures', 'depcheck'), false)
  t.not(r.status, 0, 'a violation fails')
  t.match(r.out, /no-cycle: src\/loop\/one\.ts →\s+src\/loop\/two\.ts/)
  t.match(r.out, /transport-libraries-in-transport-folders: src\/batching\/transport\.ts → .*fastify/)
  t.match(r.out, /enter-folders-through-index: src\/other\/reach\.ts → src\/loop\/two\.ts/)
  t.match(r.out, /oip-between-transports-and-core: src\/oip\/index\.ts → src\/http\/index\.ts/)
})
