// Where a worker thread's code is. Built (dist/, `npm start`), a module is foo.js and its
// worker a sibling .js file. From the .ts sources (tap runs the tests with `--import=tsx`, the
// load-test scripts with tsx too), the worker is the .ts sibling. The caller's own extension says
// which case we are in, so no stale dist/ file can be picked up by the tests. tsx does not
// register itself in workers, so a .ts worker under tsx starts through a small bootstrap; a
// loader that does (ts-node's, through execArgv) loads the .ts sibling directly.
import { Worker } from 'node:worker_threads'

export interface WorkerEntry { url: URL, workerData: Record<string, unknown>, execArgv?: string[] }

// Both `tsx file.ts` and `node --import tsx` put tsx's loader in execArgv.
const underTsx = process.execArgv.some(a => a.includes('tsx'))

export function siblingWorkerUrl (callerUrl: string, name: string): URL {
  return new URL(/\.[cm]?ts$/.test(callerUrl) ? `./${name}.ts` : `./${name}.js`, callerUrl)
}

/** The URL to start a worker from, and the workerData it needs added. */
export function workerEntry (callerUrl: string, name: string): WorkerEntry {
  const url = siblingWorkerUrl(callerUrl, name)
  // The bootstrap registers tsx itself, so the thread does not rerun the parent's --import
  // preloads (tsx again, and under tap its process-tracking and mock hooks): each one costs
  // a thread start-up in module loading, and a gateway starts two threads.
  if (url.pathname.endsWith('.ts') && underTsx) return { url: new URL('./tsx-worker.mjs', import.meta.url), workerData: { __entry: url.href }, execArgv: withoutImports(process.execArgv) }
  return { url, workerData: {} }
}

/** execArgv without its `--import=x` and `--import x` preloads. */
function withoutImports (argv: string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--import') i++
    else if (!argv[i]!.startsWith('--import=')) out.push(argv[i]!)
  }
  return out
}

/** Starts the worker `name` beside the calling module, with workerData and a thread name. */
export function startWorker (callerUrl: string, name: string, workerData: Record<string, unknown>, threadName: string): Worker {
  const entry = workerEntry(callerUrl, name)
  const data = { ...workerData, ...entry.workerData }
  if (entry.execArgv === undefined) return new Worker(entry.url, { workerData: data, name: threadName })
  try {
    return new Worker(entry.url, { workerData: data, execArgv: entry.execArgv, name: threadName })
  } catch (err) {
    // A per-process flag of the parent's (--expose-gc, a V8 option) is refused as a worker's own
    // execArgv, though inheriting it is allowed: inherit them all then, preloads included (a
    // slower thread start, the same code).
    if ((err as { code?: string }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw err
    return new Worker(entry.url, { workerData: data, name: threadName })
  }
}
