// One shard of `npm run test:unit`: imports its share of the unit test files into this one
// process, where each file's top-level tests queue on tap's root test and run in file order.
// A process per file cost about 1 s of CPU each in tsx and tap's own start-up (most of
// test:unit's time with ~50 files); a shared process pays it once. Each file still runs alone
// with `npx tap <file>`. Failures name their file (tap's `at:`).
import { pathToFileURL } from 'node:url'
import { join } from 'node:path'
import { ROOT } from '../helpers/gateway.js'
import { sharedUnitFiles } from './files.js'

export async function runShard (k: number, n: number): Promise<void> {
  const files = sharedUnitFiles().filter((_, i) => i % n === k - 1)
  for (const f of files) await import(pathToFileURL(join(ROOT, f)).href)
}
