// One shard of `npm run test:unit`: imports its share of the unit test files into this one
// process, where each file's top-level tests queue on tap's root test and run in file order.
// A process per file paid tsx's and tap's own start-up once per file, most of test:unit's
// time (docs/operations.md has the before and after); a shared process pays it once. Each file still runs alone
// with `npx tap <file>`. Failures name their file (tap's `at:`).
import { pathToFileURL } from 'node:url'
import { join } from 'node:path'
import { ROOT } from '../helpers/gateway.js'
import { sharedUnitFiles } from './files.js'

export async function runShard (k: number, n: number): Promise<void> {
  const files = sharedUnitFiles().filter((_, i) => i % n === k - 1)
  // A shard that found nothing to import would pass with no tests run.
  if (files.length === 0) throw new Error(`test:unit shard ${k} of ${n} has no test files`)
  for (const f of files) await import(pathToFileURL(join(ROOT, f)).href)
}
