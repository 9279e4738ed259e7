// The import rules of .dependency-cruiser.cjs, run by npm test: src/ has no cycle, no transport
// library outside http/ and grpc/, src/oip/ between the transports and the core, no reach past another folder's index.ts. The fixture proves the config
// catches each kind of violation and names the offending path.
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import t from 'tap'
import { ROOT } from './helpers/gateway.js'

const BIN = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs')
const CONFIG = join(ROOT, '.dependency-cruiser.cjs')

// The cache (keyed on file contents, kept in node_modules/.cache) lets a rerun skip parsing the
// unchanged sources with TypeScript, most of the check's CPU; a changed file is parsed again.
const CACHE = join(ROOT, 'node_modules', '.cache', 'fairgate-depcheck')

/** Runs dependency-cruiser on cwd/src; async, so the two runs below overlap (they share nothing). */
async function cruise (cwd: string, cache: boolean): Promise<{ status: number | null, out: string }> {
  const args = [BIN, 'src', '--config', CONFIG, '--output-type', 'err', ...(cache ? ['--cache', CACHE, '--cache-strategy', 'content'] : [])]
  return await new Promise(resolve => {
    execFile(process.execPath, args, { cwd, encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ status: err === null ? 0 : typeof err.code === 'number' ? err.code : null, out: `${stdout}${stderr}` })
    })
  })
}

const ours = cruise(ROOT, true)
const fixture = cruise(join(ROOT, 'test', 'fixtures', 'depcheck'), false)

t.test('src/ keeps the import rules', async t => {
  const r = await ours
  t.equal(r.status, 0, r.out)
})

t.test('the config catches a cycle, a transport import, an index bypass and src/oip reaching up into a transport, naming the paths', async t => {
  const r = await fixture
  t.not(r.status, 0, 'a violation fails')
  t.match(r.out, /no-cycle: src\/loop\/one\.ts →\s+src\/loop\/two\.ts/)
  t.match(r.out, /transport-libraries-in-transport-folders: src\/batching\/transport\.ts → .*fastify/)
  t.match(r.out, /enter-folders-through-index: src\/other\/reach\.ts → src\/loop\/two\.ts/)
  t.match(r.out, /oip-between-transports-and-core: src\/oip\/index\.ts → src\/http\/index\.ts/)
})
