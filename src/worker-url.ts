// Where a worker thread's code is. Built (dist/, `npm start`), a module is foo.js and its
// worker a sibling .js file. Under the tests, tap runs the .ts sources through ts-node's ESM
// loader, registered by flags in process.execArgv; a Worker inherits them, so the .ts sibling
// loads the way the caller did. The caller's own extension says which case we are in, so no
// stale dist/ file can be picked up by the tests. tsx (the load-test scripts) is the exception:
// it does not register itself in workers, so its workers start through a small bootstrap.
export interface WorkerEntry { url: URL, workerData: Record<string, unknown> }

// Both `tsx file.ts` and `node --import tsx` put tsx's loader in execArgv.
const underTsx = process.execArgv.some(a => a.includes('tsx'))

export function siblingWorkerUrl (callerUrl: string, name: string): URL {
  return new URL(/\.[cm]?ts$/.test(callerUrl) ? `./${name}.ts` : `./${name}.js`, callerUrl)
}

/** The URL to start a worker from, and the workerData it needs added. */
export function workerEntry (callerUrl: string, name: string): WorkerEntry {
  const url = siblingWorkerUrl(callerUrl, name)
  if (url.pathname.endsWith('.ts') && underTsx) return { url: new URL('./tsx-worker.mjs', import.meta.url), workerData: { __entry: url.href } }
  return { url, workerData: {} }
}
